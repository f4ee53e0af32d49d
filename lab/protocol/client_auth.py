"""Client authentication: private_key_jwt (RFC 7523 §2.2, §3; OIDC Core §9) and the method policy.

The assertion is verified with the client's registered JWKS only, on the lab
clock, never with `none` or HMAC. private_key_jwt_only and mtls_client_auth
decide which methods count at the token, PAR, revocation and introspection
endpoints; client_assertion_aud_check, client_assertion_jti_single_use and
alg_allow_list decide what an assertion must look like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749 import errors as rfc6749_errors
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7523.client import ASSERTION_TYPE
from joserfc.errors import JoseError
from jwt import PyJWTError

from lab import clock, context
from lab.controls import guard
from lab.controls.catalog_fapi2 import MTLS_METHODS, SECRET_METHODS
from lab.controls.guard import Guard
from lab.jose import algs, jws
from lab.store.base import Once, Store, once_key
from lab.store.sweep import PeriodicSweep

from .errors import InvalidClientError

ALGS = guard("alg_allow_list")
PKJ_ONLY = guard("private_key_jwt_only")
MTLS = guard("mtls_client_auth")
AUD = guard("client_assertion_aud_check")
JTI = guard("client_assertion_jti_single_use")
WINDOW = guard("client_assertion_time_window")

# RFC 7523 §3 rule 9 and FAPI2 §5.4.1: never "none"; private_key_jwt is asymmetric (OIDC §9),
# so no HMAC either, whatever the allow-list says.
ASYMMETRIC_ALGORITHMS = list(algs.ASYMMETRIC)
LEEWAY = 60
MAX_LIFETIME = 60

JTI_SCHEMA = """
CREATE TABLE IF NOT EXISTS as_assertion_jti (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX IF NOT EXISTS as_assertion_jti_exp ON as_assertion_jti(expires_at);
"""


class BadAssertionError(InvalidClientError):
    description = "The client assertion is invalid."


class MethodNotAllowedError(InvalidClientError):
    description = "This client authentication method is not accepted; use private_key_jwt " \
                  "or mutual TLS."


def ensure_schema(store: Store) -> None:
    store.ensure_schema(JTI_SCHEMA)


# --- which methods count -----------------------------------------------------------------------
def permitted_methods(methods: list[str]) -> list[str]:
    """The endpoint's methods as the switches stand now."""
    out = list(methods)
    if MTLS.on():
        out += [m for m in MTLS_METHODS if m not in out]
    else:
        out = [m for m in out if m not in MTLS_METHODS]
    if PKJ_ONLY.on() or MTLS.on():
        # FAPI2 §5.3.2.1: "shall only support confidential clients" authenticated by "MTLS"
        # or "private_key_jwt".
        out = [m for m in out if m not in SECRET_METHODS]
    return out


def authenticate(authenticate_with: Callable[[Any, list[str], str], Any], request: Any,
                 methods: list[str], endpoint: str) -> Any:
    """Authenticate with the permitted methods. When that fails but a refused method would
    have worked, the switches made the difference: record which ones refused it."""
    permitted = permitted_methods(methods)
    try:
        return authenticate_with(request, permitted, endpoint)
    except rfc6749_errors.InvalidClientError:
        refused = [m for m in methods if m not in permitted]
        if not refused or not _would_pass(authenticate_with, request, refused, endpoint):
            raise
    method = str(getattr(request, "auth_method", "") or "a secret")
    error = MethodNotAllowedError(status_code=401)
    for control in _refusing(method):
        control.refuse(error, reason=f"client authenticated with {method}, refused at {endpoint}")
    raise error


def _would_pass(authenticate_with: Callable[[Any, list[str], str], Any], request: Any,
                methods: list[str], endpoint: str) -> bool:
    try:
        return authenticate_with(request, methods, endpoint) is not None
    except (rfc6749_errors.OAuth2Error, ValueError, TypeError, UnicodeError):
        return False


def _refusing(method: str) -> list[Guard]:
    return [g for g in (PKJ_ONLY, MTLS) if g.on()] if method in SECRET_METHODS else []


def allowed_algorithms() -> list[str]:
    if ALGS.on():
        return jws.allow_list()
    return ASYMMETRIC_ALGORITHMS


# --- private_key_jwt ---------------------------------------------------------------------------
class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, issuer: str, endpoint_urls: list[str]) -> None:
        super().__init__(validate_jti=False, leeway=LEEWAY)
        self.issuer = issuer
        self.endpoint_urls = endpoint_urls

    def __call__(self, query_client: Any, request: Any) -> Any:
        try:
            client = self._authenticate(query_client, request)
        except InvalidClientError:
            raise
        except rfc6749_errors.InvalidClientError as error:
            raise BadAssertionError(status_code=401) from error
        except Exception as error:  # noqa: BLE001 - any malformed assertion is a 401, not a 500
            if isinstance(error, (JoseError, PyJWTError, ValueError, TypeError, KeyError,
                                  AttributeError, RecursionError)):  # JSON nested too deep
                raise BadAssertionError(status_code=401) from error
            raise
        # RFC 7521 §4.2: a client_id parameter, when sent, "MUST identify the same client".
        sent = request.form.get("client_id")
        if client is not None and sent is not None and sent != client.get_client_id():
            raise BadAssertionError(status_code=401)
        return client

    def _authenticate(self, query_client: Any, request: Any) -> Any:
        """Authlib's flow (JWTBearerClientAssertion.__call__) with the assertion split once,
        strictly (jws.split_strict), and verified with the registered key as a loaded object:
        Authlib parsed it, then joserfc parsed it again, looked the key up and verified."""
        form = request.form
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
            return None   # not this method: the next one is tried
        parts = jws.split_strict(assertion)
        claims = parts[1]
        # RFC 7523 §3: sub names the client; read before the signature is checked.
        client_id = claims.get("sub")
        if not isinstance(client_id, str):
            raise BadAssertionError(status_code=401)
        client = query_client(client_id)
        if not client:
            raise BadAssertionError(status_code=401)
        request.client = client
        jws.verify_with_jwks(parts, self.resolve_client_public_key(client),
                             ASYMMETRIC_ALGORITHMS)
        alg = parts[0]["alg"]
        if alg not in allowed_algorithms():
            raise ALGS.refuse(BadAssertionError(status_code=401),
                              reason=f"client assertion signed with {alg}")
        self.verify_claims(claims)
        return self.authenticate_client(client)

    def get_audiences(self) -> list[str]:
        # RFC 7523 §3: "The JWT MUST contain an aud claim containing a value that identifies
        # the authorization server as an intended audience." FAPI2 §5.3.2.1: "shall accept its
        # issuer identifier value"; draft-ietf-oauth-rfc7523bis: only the issuer.
        if AUD.param("issuer_only", False):
            return [self.issuer]
        return [self.issuer, *self.endpoint_urls]

    def resolve_client_public_key(self, client: Any) -> list[dict[str, Any]]:  # type: ignore[override]
        """The client's registered keys (OIDC §9: "the public key registered for the client");
        each is loaded as a key object once (lab.jose.jwk.loaded_key)."""
        jwks = getattr(client, "jwks", None)
        found = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(found, list) or not found:
            raise BadAssertionError(status_code=401)
        return [k for k in found if isinstance(k, dict)]

    def verify_claims(self, claims: Any) -> None:
        now = clock.now()
        # RFC 7523 §3: iss and sub "MUST" be the client_id; exp "MUST" be present.
        if claims.get("iss") != claims.get("sub") or not isinstance(claims.get("sub"), str):
            raise BadAssertionError(status_code=401)
        exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
        if not _number(exp):
            raise BadAssertionError(status_code=401)
        if (iat is not None and not _number(iat)) or (nbf is not None and not _number(nbf)):
            raise BadAssertionError(status_code=401)
        check_time_window(exp, iat, nbf, now)
        self.check_audience(claims.get("aud"))
        self.check_jti(claims, now)

    def check_audience(self, aud: Any) -> None:
        if not AUD.on():
            return  # weak mode: an assertion made for any server works here
        values = aud if isinstance(aud, list) else [aud]
        accepted = self.get_audiences()
        if not any(isinstance(a, str) and a in accepted for a in values):
            shown = str(aud)[:120]
            raise AUD.refuse(BadAssertionError(status_code=401),
                             reason=f"assertion aud {shown} does not name this AS")

    def check_jti(self, claims: dict[str, Any], now: float) -> None:
        if not JTI.on():
            return  # weak mode: the same assertion works until it expires
        jti, iat, exp = claims.get("jti"), claims.get("iat"), claims["exp"]
        if not isinstance(jti, str) or not jti or len(jti) > 256 or not _number(iat):
            raise JTI.refuse(BadAssertionError(status_code=401),
                             reason="client assertion without jti or iat")
        if exp - iat > MAX_LIFETIME:
            raise JTI.refuse(BadAssertionError(status_code=401),
                             reason=f"client assertion lives {exp - iat:.0f} s (max 60 s)")
        # OIDC Core §9: "The JWT ID ... MUST only be used once"; one conditional INSERT decides.
        if not remember_jti(context.current().store, claims["sub"], jti, exp, now):
            raise JTI.refuse(BadAssertionError(status_code=401),
                             reason="client assertion jti already used")

    def authenticate_client(self, client: Any) -> Any:
        if client.check_endpoint_auth_method(self.CLIENT_AUTH_METHOD, "token"):
            return client
        raise InvalidClientError(status_code=401)


def check_time_window(exp: float, iat: float | None, nbf: float | None, now: float) -> None:
    """An assertion made ahead of time: exp passed or iat/nbf far ahead (lab clock)."""
    if not WINDOW.on():
        return  # weak: an assertion signed long ago, or for later, authenticates now
    # RFC 7523 §3: the AS "MUST reject JWTs with an exp claim value that has passed, subject
    # to allowable clock skew between systems".
    if exp + LEEWAY < now:
        raise WINDOW.refuse(BadAssertionError(status_code=401),
                            reason=f"client assertion expired {now - exp:.0f} s ago")
    # FAPI2 §5.3.2.1: accept iat/nbf up to 10 s ahead, reject "more than 60 seconds in the
    # future"; RFC 7523 §3: nbf — "MUST NOT be accepted for processing" before it.
    for name, value in (("iat", iat), ("nbf", nbf)):
        if value is not None and value > now + LEEWAY:
            raise WINDOW.refuse(BadAssertionError(status_code=401),
                                reason=f"client assertion {name} is {value - now:.0f} s ahead")


def _number(value: Any) -> bool:
    return clock.is_time(value)


EXPIRED = PeriodicSweep("DELETE FROM as_assertion_jti WHERE expires_at < ?")


def remember_jti(store: Store, client_id: str, jti: str, exp: float, now: float) -> bool:
    """True only for the first use of (client_id, jti), across threads and processes.

    One statement decides: a new row, or a row long expired (not yet swept) taken over; a
    remembered one stays and the row count is 0."""
    forgotten = now - 2 * LEEWAY
    EXPIRED.run(store, now, forgotten)
    return store.consume("INSERT INTO as_assertion_jti(client_id, jti, expires_at) "
                         "VALUES (?, ?, ?) ON CONFLICT(client_id, jti) DO UPDATE SET "
                         "expires_at = excluded.expires_at "
                         "WHERE as_assertion_jti.expires_at < ?",
                         (client_id, jti, float(exp) + LEEWAY, forgotten),
                         once=Once("assertion_jti", once_key(client_id, jti),
                                   float(exp) + 3 * LEEWAY - now))


