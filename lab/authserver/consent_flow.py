"""The consent decision: which accounts, and per account which permissions, the user grants.

FAPI2 §5.3.4 / BCP §2.3: consent is per account and per permission; the granted
scope is the union of the consented permissions' scopes (plus openid and
offline_access when asked), never more than was requested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.domain import consent, ledger, payment_consents, revocation
from lab.domain.payment_consents import Payment
from lab.protocol import rar, resources
from lab.store.base import Store

from .pending import Pending

# Earlier grants the consent page lists one by one, newest first; the rest are one line ("and
# 1,169 earlier links"): a user linked to the same app over and over (a workshop lab's alice)
# still gets a page of bounded size, as an AS that shows the current consent would.
EARLIER_SHOWN = 5
# The `replaces` value of that one line: every earlier grant made before the one it names
# (the oldest shown), so a link made while the page was open is never replaced unseen.
OLDER_THAN = "older-than:"

IDENTITY_SCOPES = {
    "openid": "Confirm who you are (your HonestBank user name and name)",
    "offline_access": "Keep this access when you are not using the app",
}


@dataclass(frozen=True)
class ConsentView:
    accounts: list[dict[str, Any]]
    permissions: list[tuple[str, str]]       # (permission, plain words)
    identity: list[str]                      # plain words for openid (signing in needs it)
    extras: list[tuple[str, str]]            # (scope, words): refusable account-less scopes
    payment: Payment | None = None           # RFC 9396 payment_initiation asked for
    pay_from: tuple[dict[str, Any], ...] = ()  # the accounts it may leave
    # the user's active account-access grants to this client: this consent may amend them;
    # the newest EARLIER_SHOWN, and how many older ones there are besides
    earlier: tuple[dict[str, Any], ...] = ()
    earlier_more: int = 0

    @property
    def older_than(self) -> str:
        """The `replaces` value that names the earlier grants not listed one by one."""
        return OLDER_THAN + self.earlier[-1]["id"] if self.earlier_more else ""


@dataclass(frozen=True)
class Decision:
    accounts: dict[str, list[str]]
    scope: str
    payment: Payment | None = None
    debtor: dict[str, Any] | None = None
    replaces: tuple[str, ...] = ()            # earlier grants this one amends (withdrawn)


def accountless_scopes(store: Store) -> dict[str, str]:
    """Scopes granted without picking accounts: identity, and registered partner APIs'."""
    return {**IDENTITY_SCOPES, **resources.scope_words(store)}


def requested_scope(pending: Pending) -> list[str]:
    return (pending.param("scope") or "").split()


def payment_of(pending: Pending) -> Payment | None:
    """The payment the request asks for (validated when the request came in)."""
    value = pending.param(rar.PARAM)   # sent once: a repeat was refused at the request
    return rar.payment_in([value] if value is not None else [])


def view(store: Store, pending: Pending, client_scope: str) -> ConsentView:
    scope = [s for s in requested_scope(pending) if s in client_scope.split()]
    payment = payment_of(pending)
    if payment is not None:
        words = accountless_scopes(store)
        return ConsentView(
            accounts=[], permissions=[], payment=payment,
            pay_from=tuple(payment_consents.payable_from(store, pending.username or "",
                                                         payment)),
            identity=[words[s] for s in scope if s == "openid"], extras=[])
    permissions = consent.permissions_in(scope)
    words = accountless_scopes(store)
    earlier = earlier_grants(store, pending, EARLIER_SHOWN) if permissions else []
    return ConsentView(
        accounts=ledger.accounts_of(store, pending.username or "") if permissions else [],
        permissions=[(p, consent.PERMISSIONS[p]) for p in permissions],
        identity=[words[s] for s in scope if s == "openid"],
        extras=[(s, words[s]) for s in scope if s in words and s != "openid"],
        earlier=tuple(earlier),
        earlier_more=max(payment_consents.count_account_grants(
            store, pending.username or "", pending.client_id) - len(earlier), 0)
        if len(earlier) == EARLIER_SHOWN else 0)


def earlier_grants(store: Store, pending: Pending, limit: int | None = None
                   ) -> list[dict[str, Any]]:
    """What this consent may amend: the user's account grants to the requesting client,
    newest first (the newest `limit`)."""
    return payment_consents.account_grants(store, pending.username or "", pending.client_id,
                                           limit=limit)


def replaced(store: Store, pending: Pending, named: list[str]) -> tuple[str, ...]:
    """The earlier grants a consent amends: of the `replaces` values (the page offers at most
    EARLIER_SHOWN boxes and the older-than line; more are not read), the user's active
    account grants to this client, and for OLDER_THAN:<id> all of those made before <id>.
    Checked against the store, not the page's list: a grant listed when the page was drawn
    and withdrawn since is not withdrawn twice; anything else named is ignored."""
    values = list(dict.fromkeys(named))[:EARLIER_SHOWN + 1]
    user, client = pending.username or "", pending.client_id
    ids = payment_consents.account_grant_ids(
        store, user, client, [v for v in values if not v.startswith(OLDER_THAN)])
    for value in values:
        if value.startswith(OLDER_THAN):
            ids += [g["id"] for g in payment_consents.account_grants(
                store, user, client, older_than=value[len(OLDER_THAN):])]
    return tuple(dict.fromkeys(ids))


def decide_payment(consent_view: ConsentView, pending: Pending, client_scope: str,
                   debtor: str | None) -> Decision | None:
    """A payment consent: the one account the user chose, for this one payment. The scope
    is what was asked and registered (payments:write, openid), nothing account-less more."""
    account = next((a for a in consent_view.pay_from if a["id"] == debtor), None)
    if account is None or consent_view.payment is None:
        return None
    scope = [s for s in requested_scope(pending)
             if s in client_scope.split() and s in ("openid", "payments:write")]
    return Decision(accounts={account["id"]: ["payments"]},
                    scope=" ".join(dict.fromkeys(scope)), payment=consent_view.payment,
                    debtor=account)


def decide(store: Store, pending: Pending, client_scope: str, chosen_accounts: list[str],
           chosen: dict[str, list[str]], shared: list[str] | None = None,
           debtor: str | None = None, replaces: list[str] | None = None) -> Decision | None:
    """What the user ticked, limited to their accounts and the requested permissions, and of
    the account-less lines (offline access, a partner's API) those in `shared` (None: all).
    None when permissions were asked for but no account and permission was ticked.
    A payment consent (RFC 9396): the account `debtor` it leaves, None if not one of hers."""
    consent_view = view(store, pending, client_scope)
    if consent_view.payment is not None:
        return decide_payment(consent_view, pending, client_scope, debtor)
    own = {a["id"] for a in consent_view.accounts}
    asked = {p for p, _ in consent_view.permissions}
    accounts = {acc: sorted(set(chosen.get(acc, [])) & asked)
                for acc in chosen_accounts if acc in own}
    accounts = {acc: perms for acc, perms in accounts.items() if perms}
    if asked and not accounts:
        return None
    granted = {consent.PERMISSION_SCOPES[p] for perms in accounts.values() for p in perms}
    accountless = set(accountless_scopes(store))
    if shared is not None:   # openid is not a line to untick: signing in is what it asks
        accountless &= set(shared) | {"openid"}
    scope = [s for s in requested_scope(pending)
             if s in granted or (s in accountless and s in client_scope.split())]
    return Decision(accounts=accounts, scope=" ".join(dict.fromkeys(scope)),
                    replaces=replaced(store, pending, replaces or []) if asked else ())


def record(store: Store, pending: Pending, decision: Decision) -> str:
    grant_id = consent.create_grant(store, username=pending.username or "",
                                    client_id=pending.client_id, scope=decision.scope,
                                    accounts=decision.accounts, auth_time=pending.auth_time,
                                    acr=pending.acr)
    if decision.payment is not None and decision.debtor is not None:
        payment_consents.record(store, grant_id, decision.payment, decision.debtor)
    for earlier in decision.replaces:
        # An amendment replaces the consent it names: that grant is withdrawn now, as on the
        # connected-apps page; whether its tokens die with it is revocation_cascade's call.
        revocation.revoke_grant(store, earlier)
    return grant_id
