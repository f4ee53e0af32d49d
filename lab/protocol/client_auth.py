"""private_key_jwt client authentication (RFC 7523 §2.2, §3; OIDC Core §9) on Authlib.

The assertion is verified with the client's registered JWKS only, on the lab clock.
alg_allow_list limits the algorithms when on. (The jti and aud controls of
attacks.md §2.3 come later and hook in here.)
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from lab import clock
from lab.controls import guard

from .errors import InvalidClientError

ALGS = guard("alg_allow_list")
# Off: any asymmetric or HMAC algorithm joserfc knows, but never "none" (RFC 7523 §3 rule 9).
OFF_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                  "ES512", "EdDSA", "HS256"]
LEEWAY = 60


class BadAssertionError(InvalidClientError):
    description = "The client assertion is invalid."


def allowed_algorithms() -> list[str]:
    if ALGS.on():
        return [str(a) for a in ALGS.param("algorithms", ["PS256", "ES256", "EdDSA"])]
    return OFF_ALGORITHMS


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, audiences: list[str]) -> None:
        super().__init__(validate_jti=False, leeway=LEEWAY)
        self.audiences = audiences

    def __call__(self, query_client: Any, request: Any) -> Any:
        try:
            return super().__call__(query_client, request)
        except InvalidClientError:
            raise
        except Exception as error:  # noqa: BLE001 - any malformed assertion is a 401, not a 500
            if isinstance(error, (JoseError, ValueError, TypeError, KeyError, AttributeError)):
                raise BadAssertionError(status_code=401) from error
            raise

    def get_audiences(self) -> list[str]:
        # RFC 7523 §3: "The JWT MUST contain an aud claim containing a value that identifies
        # the authorization server as an intended audience."
        return self.audiences

    def resolve_client_public_key(self, client: Any) -> KeySet:
        jwks = getattr(client, "jwks", None)
        if not jwks:
            raise BadAssertionError(status_code=401)
        return KeySet.import_key_set(jwks)

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        header_alg = None
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=OFF_ALGORITHMS)
            header_alg = token.header.get("alg")
        except JoseError as error:
            raise BadAssertionError(status_code=401) from error
        if header_alg not in allowed_algorithms():
            raise ALGS.refuse(BadAssertionError(status_code=401),
                              reason=f"client assertion signed with {header_alg}")
        self.verify_claims(token.claims)
        return dict(token.claims)

    def verify_claims(self, claims: Any) -> None:
        now = clock.now()
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        exp = claims.get("exp")
        if claims.get("iss") != claims.get("sub") or not isinstance(claims.get("sub"), str):
            raise BadAssertionError(status_code=401)
        if not any(isinstance(a, str) and a in self.audiences for a in auds):
            raise BadAssertionError(status_code=401)
        if not isinstance(exp, (int, float)) or exp + LEEWAY < now:
            raise BadAssertionError(status_code=401)

    def authenticate_client(self, client: Any) -> Any:
        if client.check_endpoint_auth_method(self.CLIENT_AUTH_METHOD, "token"):
            return client
        raise InvalidClientError(status_code=401)
