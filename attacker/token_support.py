"""What the token-endpoint, TPP-insider and user-authentication attacks share (attacks.md §3
C, G, H, I): token requests with an optional DPoP proof, bank calls with the tokens won,
the insider's copy of FinLens's identity, and the victim's "revoke" at the bank. The
attacker's own sign-in attempts at the AS are in attacker/login_support.py.

Everything here goes over the attacker's own HTTP client (127.0.0.2) through ctx.send,
so each request is in the story; nothing reads a leg or a key the attack was not given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import requests

from lab.authserver.clients import TPP_CLIENT_ID
from lab.domain import ledger
from lab.tpp import dpop_signer as tpp_dpop
from lab.tpp import settings as tpp_settings

from . import insider
from .attack_context import AttackContext
from .capture_view import Leaked
from .outcome import AttackSetupError
from .victim import HttpVictim


# --- the AS, as any client learns it -------------------------------------------------------------
def metadata(ctx: AttackContext) -> dict[str, Any]:
    """RFC 8414 discovery: what the AS enforces now (clients adapt to it; so does the attacker)."""
    response = ctx.http.get(ctx.url("as", "/.well-known/oauth-authorization-server"), timeout=30)
    data = response.json() if response.status_code == 200 else None
    if not isinstance(data, dict):
        raise AttackSetupError(f"the AS metadata is unavailable: {response.status_code}")
    return data


def dpop_required(meta: dict[str, Any]) -> bool:
    """RFC 9449 §5.1: dpop_signing_alg_values_supported says the AS binds tokens to keys."""
    return isinstance(meta.get("dpop_signing_alg_values_supported"), list)


def with_proof(send: Callable[[dict[str, str]], requests.Response], signer: tpp_dpop.Signer,
               method: str, url: str, access_token: str | None = None) -> requests.Response:
    """Send with a DPoP proof; once more with the server's nonce if it asks (RFC 9449 §8-9)."""
    nonce: str | None = None
    response = send({"DPoP": signer.proof(method, url, access_token=access_token)})
    if tpp_dpop.asks_for_nonce(response):
        nonce = response.headers.get(tpp_dpop.NONCE_HEADER)
        response = send({"DPoP": signer.proof(method, url, access_token=access_token,
                                              nonce=nonce)})
    return response


def post_token(ctx: AttackContext, form: dict[str, str], *, what: str,
               signer: tpp_dpop.Signer | None = None, http: requests.Session | None = None,
               headers: dict[str, str] | None = None, auth: Any = None,
               renew: Callable[[], tuple[dict[str, str], Any]] | None = None
               ) -> requests.Response:
    """POST /token (RFC 6749 §3.2), with a DPoP proof when a signer is given (RFC 9449 §5).

    renew: fresh client-authentication fields for each attempt (a nonce retry must not
    resend a client assertion: its jti is single use, RFC 7523 §3)."""
    url = ctx.url("as", "/token")

    def send(extra: dict[str, str]) -> requests.Response:
        data, credentials = form, auth
        if renew is not None:
            fields, credentials = renew()
            data = {**form, **fields}
        return ctx.send("POST", url, what=what, http=http, data=data, auth=credentials,
                        headers={**(headers or {}), **extra})

    return send({}) if signer is None else with_proof(send, signer, "POST", url)


@dataclass(frozen=True)
class Tokens:
    """A token response (RFC 6749 §5.1) as the attacker holds it."""

    access_token: str
    token_type: str
    refresh_token: str | None
    scope: str

    @classmethod
    def of(cls, body: dict[str, Any]) -> Tokens:
        return cls(str(body.get("access_token") or ""), str(body.get("token_type") or "Bearer"),
                   body.get("refresh_token") if isinstance(body.get("refresh_token"), str)
                   else None, str(body.get("scope") or ""))

    @property
    def dpop(self) -> bool:
        return self.token_type.lower() == "dpop"

    def claims(self) -> dict[str, Any]:
        """The JWT's payload, unverified (the attacker only reads what it carries)."""
        try:
            data = jwt.decode(self.access_token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return {}
        return data if isinstance(data, dict) else {}


def tokens_or_fail(ctx: AttackContext, response: requests.Response, refused: str) -> Tokens:
    """The tokens of a 200 token response; otherwise the attack's goal is missed."""
    body = json_body(response)
    if response.status_code != 200 or not body.get("access_token"):
        ctx.failed(refused, response)
    return Tokens.of(body)


# --- the bank ------------------------------------------------------------------------------------
def bank(ctx: AttackContext, method: str, path: str, tokens: Tokens, *, what: str,
         signer: tpp_dpop.Signer | None = None, http: requests.Session | None = None,
         body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
         ) -> requests.Response:
    """One bank API call with the token as issued: Bearer (RFC 6750) or DPoP (RFC 9449 §7)."""
    url = ctx.url("bank", path)
    scheme = "DPoP" if tokens.dpop else "Bearer"

    def send(extra: dict[str, str]) -> requests.Response:
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        return ctx.send(method, url, what=what, http=http,
                        headers={**(headers or {}),
                                 "Authorization": f"{scheme} {tokens.access_token}", **extra},
                        **kwargs)

    if tokens.dpop and signer is not None:
        return with_proof(send, signer, method, url, access_token=tokens.access_token)
    return send({})


def accounts(ctx: AttackContext, tokens: Tokens, *, signer: tpp_dpop.Signer | None = None,
             http: requests.Session | None = None) -> list[dict[str, Any]]:
    listed = bank(ctx, "GET", "/accounts", tokens, signer=signer, http=http,
                  what="GET /accounts with the tokens it obtained")
    if listed.status_code != 200:
        ctx.failed("the bank refused the attacker's token", listed)
    found = json_body(listed).get("accounts")
    if not isinstance(found, list) or not found:
        ctx.failed("the token lists no accounts", listed)
    return [a for a in found if isinstance(a, dict)]


def read_balances(ctx: AttackContext, tokens: Tokens, *, signer: tpp_dpop.Signer | None = None,
                  http: requests.Session | None = None) -> dict[str, Any]:
    """GET /accounts, then each account's balances: the goal of most token thefts."""
    balances: dict[str, Any] = {}
    for account in accounts(ctx, tokens, signer=signer, http=http):
        account_id = str(account.get("account_id"))
        r = bank(ctx, "GET", f"/accounts/{account_id}/balances", tokens, signer=signer,
                 http=http, what=f"GET /accounts/{account_id}/balances")
        if r.status_code != 200:
            ctx.failed("the bank refused the attacker's token", r)
        balances[account_id] = json_body(r).get("balances")
    return balances


def mallory_iban(ctx: AttackContext) -> str:
    """The attacker's own checking account at the honest bank (he knows his own IBAN)."""
    for account in ledger.accounts_of(ctx.store, "mallory"):
        if account["type"] == "checking":
            return str(account["iban"])
    raise AttackSetupError("mallory has no checking account")


def pay_mallory(ctx: AttackContext, tokens: Tokens, debtor_account_id: str, amount: str, *,
                signer: tpp_dpop.Signer | None = None,
                http: requests.Session | None = None) -> requests.Response:
    """POST /payments from the victim's account to mallory's."""
    order = {"debtor_account_id": debtor_account_id,
             "creditor": {"name": "Mallory Mallet", "iban": mallory_iban(ctx)},
             "instructed_amount": {"amount": amount, "currency": "EUR"},
             "reference": "Invoice 4711"}
    return bank(ctx, "POST", "/payments", tokens, signer=signer, http=http, body=order,
                what=f"POST /payments: {amount} EUR from {debtor_account_id} to mallory")


def checking_account(accounts_listed: list[dict[str, Any]]) -> str:
    chosen = next((a for a in accounts_listed if a.get("type") == "checking"),
                  accounts_listed[0])
    return str(chosen.get("account_id"))


# --- the capture (A4) ----------------------------------------------------------------------------
def is_token_grant(grant_type: str) -> Callable[[Leaked], bool]:
    """A successful TPP token request of `grant_type` on the token leg."""
    def match(leaked: Leaked) -> bool:
        return leaked.method == "POST" and leaked.status == 200 \
            and leaked.form().get("grant_type") == grant_type
    return match


def captured_refresh_token(ctx: AttackContext) -> str:
    """The newest refresh token that crossed the token leg (in a response)."""
    leaked = ctx.capture.last("token", where=lambda x: x.status == 200
                              and isinstance(x.json().get("refresh_token"), str))
    ctx.step("attacker", "reads a refresh token in FinLens's token response on the token leg")
    return str(leaked.json()["refresh_token"])


# --- the TPP insider (MT) ------------------------------------------------------------------------
@dataclass
class TppIdentity:
    """What an insider copied out of FinLens: the link's tokens, its keys, certificate, config.

    It authenticates as FinLens the way FinLens does (its effective settings, RFC 8414
    adapted), proves possession with FinLens's DPoP key, and presents FinLens's certificate.
    """

    ctx: AttackContext
    link: dict[str, Any]
    chosen: tpp_settings.Effective
    http: requests.Session
    signer: tpp_dpop.Signer | None

    @property
    def tokens(self) -> Tokens:
        return Tokens(str(self.link["access_token"]), str(self.link["token_type"] or "Bearer"),
                      self.link["refresh_token"], str(self.link["scope"] or ""))

    def client_auth(self) -> tuple[dict[str, str], Any]:
        """(form fields, requests auth) authenticating as FinLens; a fresh assertion each time."""
        auth = insider.client_auth(self.ctx, self.chosen.client_auth)
        return dict(auth["data"]), auth.get("auth")

    def refresh(self, refresh_token: str, *, what: str, **extra: str) -> requests.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        return post_token(self.ctx, form, what=what, signer=self.signer, http=self.http,
                          renew=self.client_auth)


def tpp_identity(ctx: AttackContext, victim: HttpVictim) -> TppIdentity:
    """The insider's copy of FinLens (attacker.insider): the victim's link, keys, certificate."""
    link = insider.link_of(ctx, victim)
    chosen = tpp_settings.effective(ctx.store, metadata(ctx))
    http = ctx.http
    if chosen.uses_mtls:
        cert = insider.client_auth(ctx, "tls_client_auth")["cert"]
        http = ctx.new_http(cert=cert)
    signer = insider.dpop_signer_for(ctx, str(link["access_token"])) \
        if str(link["token_type"] or "").lower() == "dpop" else None
    ctx.step("attacker", f"takes FinLens's {chosen.client_auth} credentials"
             + (", its DPoP key" if signer else "") + (", its certificate" if chosen.uses_mtls
                                                        else ""))
    return TppIdentity(ctx, link, chosen, http, signer)


# --- the victim at the bank's "connected apps" page ----------------------------------------------
def revoke_finlens_at_bank(ctx: AttackContext, victim: HttpVictim) -> str:
    """The victim signs in to online banking (password + second factor) and clicks "Revoke
    access" on the FinLens card they just linked — the newest (RFC 7009 §2.1's "stop", as a
    user gives it); either victim does it its own way (attacker.online_banking)."""
    return victim.online_banking().revoke(TPP_CLIENT_ID)


def json_body(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
