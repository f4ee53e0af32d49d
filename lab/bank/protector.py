"""Access-token validation at the bank (RFC 6750, RFC 9068 §4, FAPI2 §5.3.4), one guard per check.

The bank is its own party: it verifies the AS's JWT with PyJWT against keys from
the issuer's jwks_uri, then checks claims, revocation, the sender constraint
(lab/protocol/sender_binding.py), scope and per-account consent. Views only call
`authenticate`, `require_scope`, `accounts` and `account`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeGuard

from lab import clock, pki
from lab import keys as key_files
from lab.config import LabConfig
from lab.controls import guard
from lab.domain import clients as domain_clients
from lab.domain import consent, ledger, reference_tokens, usage_monitor
from lab.jose import b64, jws
from lab.jose import jwk as jwk_tools
from lab.protocol import phantom, security_events, subjects
from lab.protocol.issuer_keys import AuthorizationServerKeys, KeysUnavailable
from lab.protocol.resource_errors import (
    ClientTokenError,
    InsufficientScopeError,
    InvalidRequestError,
    InvalidTokenError,
    KeysUnavailableError,
    NotFoundError,
)
from lab.protocol.sender_binding import DPoPTokenValidator, ResourceRequest
from lab.store.base import Store

log = logging.getLogger("fapi_lab.bank")

EXPIRY = guard("token_expiry_check")
REVOCATION = guard("at_revocation_check")
AUDIENCE = guard("aud_check")
SCOPE = guard("scope_check")
CONSENT = guard("consent_per_account")
MONITOR = guard("token_usage_monitoring")



@dataclass(frozen=True)
class AccessToken:
    """A verified access token and the grant it was issued under (None for forged ones)."""

    claims: dict[str, Any]
    username: str
    client_id: str | None
    scopes: frozenset[str]
    jti: str | None
    grant: dict[str, Any] | None


def _number(value: object) -> TypeGuard[float]:
    return clock.is_time(value)


def _short(value: object) -> str:
    return repr(value)[:80]


class Protector:
    """Validates bearer tokens for the bank's API as an independent resource server would."""

    def __init__(self, config: LabConfig, store: Store,
                 keys: AuthorizationServerKeys | None = None) -> None:
        self.config = config
        self.store = store
        self.keys = keys or AuthorizationServerKeys(config, store)
        self.binding = DPoPTokenValidator()
        self.gateway_keys = key_files.KeyFile(config.keys_dir, phantom.GATEWAY_OWNER)
        self._gateway_thumbprint: str | None = None

    # --- the token ---------------------------------------------------------------------------

    def authenticate(self, authorization: str | None, token_elsewhere: bool,
                     request: ResourceRequest | None = None) -> AccessToken:
        """Take the token from the header, verify it, and apply the token-level controls."""
        # FAPI2 §5.3.4: resource servers "shall not accept access tokens in the query
        # parameters stated in Section 2.3 of RFC 6750"; the lab refuses body tokens too.
        if token_elsewhere:
            raise InvalidRequestError("Send the access token in the Authorization header only.")
        scheme, token = self._credentials(authorization)
        request = request or ResourceRequest()
        gateway = reference_tokens.opaque(self.store)
        claims = self._from_gateway(token, request) if gateway else self._verify(token)
        # RFC 9068 §4: "The issuer identifier for the authorization server (which is typically
        # obtained during discovery) MUST exactly match the value of the "iss" claim."
        if claims.get("iss") != self.config.issuer:
            raise InvalidTokenError()
        username = claims.get("sub")
        if not isinstance(username, str) or not username:
            raise InvalidTokenError()
        self._check_lifetime(claims)
        self._check_audience(claims)
        status = self._token_status(claims)
        self._check_revocation(claims, status)
        username = self._customer(username, claims, status)
        if gateway:
            # The gateway verified the DPoP proof or certificate; it names the key it saw.
            phantom.forwarded_key_matches(claims, request.confirmed)
        else:
            self.binding.validate_token(claims, None, request, scheme=scheme,
                                        access_token=token)
        scope = claims.get("scope")
        client_id = claims.get("client_id")
        jti = claims.get("jti")
        return AccessToken(
            claims=claims, username=username,
            client_id=client_id if isinstance(client_id, str) else None,
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            jti=jti if isinstance(jti, str) else None,
            grant=self._grant(claims, username, status),
        )

    @staticmethod
    def _credentials(authorization: str | None) -> tuple[str, str]:
        """(scheme, token) from `Authorization: Bearer <token>` or, with DPoP on, `DPoP <token>`:
        the same reading as the gateway's (lab/protocol/phantom.py)."""
        return phantom.credentials(authorization)

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            return jws.verify(token, self.keys.jwks(), InvalidTokenError)
        except KeysUnavailable as exc:
            log.warning("cannot fetch the AS keys: %s", exc)
            raise KeysUnavailableError() from None
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            # A header odd enough to trip the JOSE code (deeply nested JSON included) is still
            # just a bad token.
            log.info("malformed token: %r", exc)
            raise InvalidTokenError() from None

    def _from_gateway(self, token: str, request: ResourceRequest) -> dict[str, Any]:
        """Opaque mode (docs/gateway.md): only the gateway's JWT, only over the gateway's
        mutual-TLS connection; a client calling the bank directly is refused."""
        if self._gateway_thumbprint is None:
            cert = pki.client_cert(self.config.pki_dir, phantom.GATEWAY_CERT).cert
            self._gateway_thumbprint = pki.certificate_thumbprint(cert.read_bytes())
        expected = self._gateway_thumbprint
        if expected is None or pki.certificate_thumbprint(request.client_cert) != expected:
            log.info("opaque mode: a request that did not come through the gateway")
            raise InvalidTokenError()
        try:
            claims = phantom.verify_inner(token, self.gateway_keys.read())
        except FileNotFoundError:
            claims = None
        if claims is None:
            raise InvalidTokenError()
        return claims

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        if not EXPIRY.on():
            return  # weak: a token found in a log or a capture works forever
        try:
            leeway = float(EXPIRY.param("leeway", 10))
        except (TypeError, ValueError):
            leeway = 10.0
        now = clock.now()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        # RFC 9068 §4: "The current time MUST be before the time represented by the "exp"
        # claim. Implementers MAY provide for some small leeway" (param leeway, 10 s as in
        # FAPI2 §5.3.2.1's clock-offset rule).
        if not _number(exp):
            raise EXPIRY.refuse(InvalidTokenError(), reason=f"exp is {_short(exp)}")
        if now >= exp + leeway:
            raise EXPIRY.refuse(InvalidTokenError(),
                                reason=f"expired {now - exp:.0f} s ago (leeway {leeway:g} s)")
        # RFC 7519 §4.1.5: "the JWT MUST NOT be accepted for processing" before nbf.
        if nbf is not None and (not _number(nbf) or nbf - leeway > now):
            raise EXPIRY.refuse(InvalidTokenError(), reason=f"not valid before nbf {_short(nbf)}")

    def _check_audience(self, claims: dict[str, Any]) -> None:
        if not AUDIENCE.on():
            return  # weak: a token minted for another API (or for none) works here
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        # RFC 9068 §4: "The resource server MUST validate that the "aud" claim contains a
        # resource indicator value corresponding to an identifier the resource server
        # expects for itself."
        if self.config.bank_url not in audiences:
            raise AUDIENCE.refuse(InvalidTokenError(),
                                  reason=f"aud {_short(aud)} does not name {self.config.bank_url}")

    def _customer(self, sub: str, claims: dict[str, Any], status: dict[str, Any] | None) -> str:
        """Whose token it is: `sub`, or the customer whose pairwise pseudonym it is for the
        token's client (OIDC Core §8; the bank shares the AS's record of the pseudonyms, as a
        bank's API gateway shares its OpenID Provider's store)."""
        if status is not None and status.get("username") == sub:
            return sub
        client_id = (status or {}).get("client_id") or claims.get("client_id")
        return subjects.customer_of(self.store, sub,
                                    domain_clients.metadata_of(self.store, client_id))

    def _token_status(self, claims: dict[str, Any]) -> dict[str, Any] | None:
        jti = claims.get("jti")
        return consent.access_token_status(self.store, jti) if isinstance(jti, str) else None

    def _check_revocation(self, claims: dict[str, Any], status: dict[str, Any] | None) -> None:
        """Revocation-list semantics: refuse what the AS marked revoked or whose grant is gone.

        A jti the AS never recorded is not on the list (a forged token is the signature
        checks' business, not this control's).
        """
        if not REVOCATION.on():
            return  # weak: a self-contained JWT outlives the user's "revoke"
        # FAPI2 §5.3.4: the resource server "shall verify the validity, integrity, expiration
        # and revocation status of access tokens".
        if not isinstance(claims.get("jti"), str):
            raise REVOCATION.refuse(InvalidTokenError(), reason="no jti: status unknowable")
        if status is not None and status["revoked"]:
            raise REVOCATION.refuse(InvalidTokenError(),
                                    reason=f"access token {status['jti']} is revoked")
        if status is not None and not status["grant_active"]:
            raise REVOCATION.refuse(InvalidTokenError(),
                                    reason=f"grant {status['grant_id']} was withdrawn")
        grant_id = claims.get("grant_id")
        grant = consent.get_grant(self.store, grant_id) if isinstance(grant_id, str) else None
        if grant is not None and not grant["active"]:
            raise REVOCATION.refuse(InvalidTokenError(), reason=f"grant {grant_id} was withdrawn")

    def _grant(self, claims: dict[str, Any], username: str, status: dict[str, Any] | None
               ) -> dict[str, Any] | None:
        """The AS's record wins over the claim; a grant of another user counts as none."""
        grant_id = (status or {}).get("grant_id") or claims.get("grant_id")
        if not isinstance(grant_id, str):
            return None
        grant = consent.get_grant(self.store, grant_id)
        return grant if grant is not None and grant["username"] == username else None

    # --- how the token is used (token_usage_monitoring) ---------------------------------------

    def client_address(self, request: ResourceRequest, peer: str | None) -> str:
        """The client's address: in opaque mode the one the gateway saw (authenticate has
        already refused anything that did not come over the gateway's mutual TLS)."""
        if request.forwarded_for:  # set only in opaque mode (api._resource_request)
            return request.forwarded_for[:64]
        return peer or ""

    def watch_usage(self, token: AccessToken, request: ResourceRequest, *, address: str,
                    user_agent: str, account_id: str | None, request_id: str | None) -> None:
        """Hand this use of the token's family to the monitor; refuse when it revoked it."""
        if token.grant is None or not MONITOR.on():
            return  # a client's own token, or a forged one: no family to watch
        grant = token.grant
        # A probe is a request for an account the bank did not list to this token: with
        # consent_per_account off it lists them all, and asking for one is no probe.
        consented = account_id is None or account_id in {a["id"] for a in self.accounts(token)}
        verdict = usage_monitor.observe(self.store, usage_monitor.Use(
            grant_id=grant["id"], username=token.username, client_id=grant["client_id"],
            address=address, user_agent=user_agent, key=_key_of(token, request),
            account_id=account_id, consented=consented, request_id=request_id))
        if verdict.revoked_now:
            # RFC 8935 push, bounded: the app hears of it now, not on its next call.
            security_events.push(self.config, client_id=grant["client_id"],
                                 grant_id=grant["id"], username=token.username,
                                 reason=f"HonestBank stopped this link because "
                                        f"{verdict.because}", initiator="policy",
                                 compromised=True)
        if verdict.refuse:
            raise MONITOR.refuse(InvalidTokenError(), reason=verdict.reason)

    # --- what the token may do ---------------------------------------------------------------

    def require_customer(self, token: AccessToken) -> None:
        """Every API endpoint serves a customer's data; a token issued to the client for itself
        is refused here rather than answered with nobody's (empty) accounts."""
        # RFC 9068 §2.2: with "no resource owner involved, such as the client credentials
        # grant, the value of sub SHOULD correspond to an identifier the authorization server
        # uses to indicate the client application". Such a token has no grant either.
        if token.username == token.client_id and not isinstance(token.claims.get("grant_id"), str):
            raise ClientTokenError()

    def require_scope(self, token: AccessToken, scope: str) -> None:
        if not SCOPE.on():
            return  # weak: any valid token reaches every endpoint
        # RFC 6750 §3.1: insufficient_scope, "The request requires higher privileges than
        # provided by the access token. The resource server SHOULD respond with the HTTP
        # 403 (Forbidden) status code and MAY include the "scope" attribute".
        if scope not in token.scopes:
            raise SCOPE.refuse(InsufficientScopeError(scope=scope),
                               reason=f"{scope} not in token scope {sorted(token.scopes)}")

    def accounts(self, token: AccessToken) -> list[dict[str, Any]]:
        """The accounts GET /accounts lists: the consented ones, or (off) all of the user's."""
        owned = ledger.accounts_of(self.store, token.username)
        if not CONSENT.on():
            return owned  # weak: the token shows accounts the user never shared
        consented = token.grant["accounts"] if token.grant else {}
        return [a for a in owned if consented.get(a["id"])]

    def account(self, token: AccessToken, account_id: str, permission: str) -> dict[str, Any]:
        """The token user's account, if the grant allows `permission` on it."""
        account = ledger.get_account(self.store, account_id)
        if account is None or account["owner"] != token.username:
            raise NotFoundError()
        if not CONSENT.on():
            return account  # weak: every account of the user is served
        # FAPI2 §5.3.4: the resource server "shall verify that the authorization represented
        # by the access token is sufficient for the requested resource access" — here, per
        # account and per permission.
        if token.grant is None or not consent.permitted(token.grant, account_id, permission):
            grant = token.grant["id"] if token.grant else "no grant"
            raise CONSENT.refuse(
                InsufficientScopeError(),
                reason=f"{grant}: no {permission!r} consent for account {_short(account_id)}")
        return account


def _key_of(token: AccessToken, request: ResourceRequest) -> str:
    """What the client proved possession of: the DPoP proof's key for a DPoP-bound token, or
    its TLS certificate; "" for a bearer token sent without one.

    The proof's header is read unverified here; with dpop_bound_tokens on, the binding check
    has already verified it against cnf.jkt. A proof sent with an unbound token proves
    nothing, so it is not the family's key."""
    cnf = token.claims.get("cnf")
    if request.confirmed:  # opaque mode: the key the gateway verified
        kind, _, value = request.confirmed.partition("=")
        return ("dpop:" if kind == "jkt" else "cert:") + value
    if request.dpop and isinstance(cnf, dict) and "jkt" in cnf:
        header = b64.json_segment(request.dpop[0], 0)
        key = header.get("jwk")
        try:
            return "dpop:" + jwk_tools.thumbprint(key) if isinstance(key, dict) else "dpop:?"
        except (KeyError, ValueError, TypeError):
            return "dpop:?"
    thumb = pki.certificate_thumbprint(request.client_cert) if request.client_cert else None
    return f"cert:{thumb}" if thumb else ""
