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
    # the user's active account-access grants to this client: this consent may amend them
    earlier: tuple[dict[str, Any], ...] = ()


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
    return ConsentView(
        accounts=ledger.accounts_of(store, pending.username or "") if permissions else [],
        permissions=[(p, consent.PERMISSIONS[p]) for p in permissions],
        identity=[words[s] for s in scope if s == "openid"],
        extras=[(s, words[s]) for s in scope if s in words and s != "openid"],
        earlier=tuple(earlier_grants(store, pending)) if permissions else ())


def earlier_grants(store: Store, pending: Pending) -> list[dict[str, Any]]:
    """What this consent may amend: the user's account grants to the requesting client."""
    return payment_consents.account_grants(store, pending.username or "", pending.client_id)


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
    earlier = {g["id"] for g in consent_view.earlier}
    return Decision(accounts=accounts, scope=" ".join(dict.fromkeys(scope)),
                    replaces=tuple(g for g in dict.fromkeys(replaces or []) if g in earlier))


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
