"""The AS's consent page for a user linked to the same app many times (a workshop lab's alice,
a matrix job's): it lists the newest EARLIER_SHOWN earlier grants and one line for the rest,
so the page stays the same size however often she linked, and an amendment that ticks every
box still replaces every earlier grant (consent-amendment-old-tokens rests on that)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import context
from lab.authserver import consent_flow
from lab.authserver.consent_flow import EARLIER_SHOWN, OLDER_THAN
from lab.authserver.pending import Pending
from lab.domain import consent, ledger, payment_consents
from lab.serving.in_process import RunningLab
from tests.support import oauth

SCOPE = "accounts:read"
MANY = 300


def _link(lab: RunningLab, username: str = "alice", client_id: str = "tpp") -> str:
    return consent.create_grant(lab.store, username=username, client_id=client_id, scope=SCOPE,
                                accounts={ledger.account_id(username, "checking"): ["balances"]})


def _active(lab: RunningLab, username: str = "alice") -> list[str]:
    return [g["id"] for g in payment_consents.account_grants(lab.store, username, "tpp")]


@pytest.fixture
def crowded(lab: RunningLab, controls: Any) -> Iterator[list[str]]:
    """alice's MANY links to FinLens (newest first); withdrawn again afterwards, so the
    session's other tests see her as they found her."""
    controls.profile("legacy")
    for grant in _active(lab):
        consent.mark_grant_revoked(lab.store, grant)
    made = [_link(lab) for _ in range(MANY)]
    yield made[::-1]
    for grant in _active(lab):
        consent.mark_grant_revoked(lab.store, grant)


def _consent_page(lab: RunningLab, *, amend: bool) -> requests.Response:
    """alice links again (checking only), ticking every "this changes" box if `amend`;
    the consent page she saw."""
    pages: list[requests.Response] = []
    agent = oauth.victim(lab, accounts=("checking",), amend=amend)
    result = agent.authorize(oauth.authorization_url(lab, scope="openid " + SCOPE),
                             on_step=lambda step, r: pages.append(r) if step == "consent"
                             else None)
    assert result.code, (result.params, result.response.status_code)
    assert len(pages) == 1
    return pages[0]


def test_the_page_stays_bounded_and_an_amendment_replaces_every_earlier_link(
        lab: RunningLab, crowded: list[str]) -> None:
    others = [_link(lab, "bob"), _link(lab, client_id="evil-tpp")]
    paid = _link(lab)      # a payment consent: one payment, never amended
    debtor = ledger.get_account(lab.store, ledger.account_id("alice", "checking"))
    payment_consents.record(lab.store, paid, payment_consents.Payment(
        100, "EUR", "Cafe", "DE89370400440532013000", ""), debtor)
    page = _consent_page(lab, amend=True)
    boxes = re.findall(r'name="replaces" value="([^"]+)"', page.text)
    assert boxes[:EARLIER_SHOWN] == crowded[:EARLIER_SHOWN]
    assert boxes[EARLIER_SHOWN:] == [OLDER_THAN + crowded[EARLIER_SHOWN - 1]]
    assert f"…and {MANY - EARLIER_SHOWN:,} earlier links to" in page.text
    assert len(page.content) < 16 * 1024, len(page.content)
    # her one active link to FinLens is the one just made (not "her newest grant": another
    # test of the session may have left a grant dated at a lab time it moved ahead to)
    active = _active(lab)
    assert len(active) == 1 and active[0] not in crowded
    assert all(not consent.get_grant(lab.store, g)["active"] for g in crowded)
    assert all(consent.get_grant(lab.store, g)["active"] for g in [*others, paid])
    for grant in [*others, paid]:
        consent.mark_grant_revoked(lab.store, grant)


def test_without_the_tick_it_is_one_more_link(lab: RunningLab, crowded: list[str]) -> None:
    page = _consent_page(lab, amend=False)
    assert f"…and {MANY - EARLIER_SHOWN:,} earlier links to" in page.text
    assert len(_active(lab)) == MANY + 1 and set(crowded) < set(_active(lab))


def test_a_link_made_while_the_page_was_open_is_not_replaced_unseen(
        lab: RunningLab, crowded: list[str]) -> None:
    """"older-than:<oldest shown>" names what was older when the page was drawn: a link made
    since (another tab) pushes a listed grant out of the newest EARLIER_SHOWN, yet neither
    is replaced without its box."""
    pending = Pending("p", "tpp", {"params": [("scope", SCOPE)]}, 0.0, "consent", "alice")
    view = consent_flow.view(lab.store, pending, SCOPE)
    assert [g["id"] for g in view.earlier] == crowded[:EARLIER_SHOWN]
    assert view.earlier_more == MANY - EARLIER_SHOWN
    meanwhile = _link(lab)
    chosen = [ledger.account_id("alice", "checking")]
    decision = consent_flow.decide(lab.store, pending, SCOPE, chosen, {chosen[0]: ["balances"]},
                                   replaces=[crowded[0], view.older_than])
    assert decision is not None
    assert decision.replaces == (crowded[0], *crowded[EARLIER_SHOWN:])
    with context.bound(lab.store, "as"):        # the AS's request, as in its consent view
        consent_flow.record(lab.store, pending, decision)
    kept = set(_active(lab)) - {meanwhile}
    assert kept & set(crowded) == set(crowded[1:EARLIER_SHOWN])
    assert len(kept - set(crowded)) == 1      # and the link just made


def test_any_replaces_values_amend_only_her_own_grants(lab: RunningLab, controls: Any) -> None:
    """Hypothesis over the `replaces` values a form can send: own ids, other users' and
    apps' ids, older-than with any anchor, garbage, repeats, too many. decide() never fails
    and names only alice's active account grants to FinLens, older than an anchor of hers."""
    own = [_link(lab) for _ in range(EARLIER_SHOWN + 3)][::-1]
    foreign = [_link(lab, "bob"), _link(lab, client_id="evil-tpp")]
    pending = Pending("p", "tpp", {"params": [("scope", SCOPE)]}, 0.0, "consent", "alice")
    chosen = [ledger.account_id("alice", "checking")]
    ids = st.sampled_from(own + foreign + ["", "grant-", "' OR 1=1 --", "\x00"])
    value = st.one_of(ids, ids.map(lambda i: OLDER_THAN + i), st.text(max_size=30),
                      st.just(OLDER_THAN))

    @settings(max_examples=80, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(value, max_size=3 * EARLIER_SHOWN))
    def one(values: list[str]) -> None:
        decision = consent_flow.decide(lab.store, pending, SCOPE, chosen,
                                       {chosen[0]: ["balances"]}, replaces=values)
        assert decision is not None
        mine = set(_active(lab))
        assert set(decision.replaces) <= mine and len(set(decision.replaces)) == len(
            decision.replaces)
        read = list(dict.fromkeys(values))[:EARLIER_SHOWN + 1]
        for anchor in (v[len(OLDER_THAN):] for v in read if v.startswith(OLDER_THAN)):
            if anchor in own:
                assert set(own[own.index(anchor) + 1:]) <= set(decision.replaces)

    try:
        one()
    finally:
        for grant in own + foreign:
            consent.mark_grant_revoked(lab.store, grant)
