"""Discovery metadata (RFC 8414 §2, OIDC Discovery §3), computed per request from the switches.

A client that reads this learns what the AS enforces right now (attacks.md §2.8).
Later controls add their keys through `CONTRIBUTORS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab.controls import guard

PKCE_S256 = guard("pkce_s256_only")
CODE_ONLY = guard("response_type_code_only")
ROPC = guard("ropc_disabled")
ALGS = guard("alg_allow_list")

SCOPES = ["openid", "offline_access", "accounts:read", "transactions:read", "payments:write"]
ALL_RESPONSE_TYPES = ["code", "token", "id_token", "id_token token", "code id_token",
                      "code token", "code id_token token"]
GRANT_TYPES = ["authorization_code", "refresh_token", "password", "client_credentials"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
# Off: what a permissive provider advertises (RFC 8414 §2 forbids "none" for client auth).
WIDE_ID_TOKEN_ALGS = ["ES256", "PS256", "RS256", "HS256", "none"]
WIDE_AUTH_ALGS = ["ES256", "PS256", "RS256", "EdDSA", "HS256"]

Contributor = Callable[[dict[str, Any]], None]
CONTRIBUTORS: list[Contributor] = []


def endpoints(issuer: str) -> dict[str, str]:
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "jwks_uri": issuer + "/jwks",
        "registration_endpoint": issuer + "/register",
        "revocation_endpoint": issuer + "/revoke",
        "introspection_endpoint": issuer + "/introspect",
        "userinfo_endpoint": issuer + "/userinfo",
    }


def build(issuer: str) -> dict[str, Any]:
    """The metadata document as the switches stand for this request."""
    meta: dict[str, Any] = endpoints(issuer)
    # RFC 7636 §4.2 / FAPI2 §5.3.2.2: S256 only.
    meta["code_challenge_methods_supported"] = ["S256"] if PKCE_S256.on() else ["S256", "plain"]
    # FAPI2 §5.3.2.2: "shall require the response_type value code".
    meta["response_types_supported"] = ["code"] if CODE_ONLY.on() else list(ALL_RESPONSE_TYPES)
    meta["response_modes_supported"] = ["query"] if CODE_ONLY.on() else \
        ["query", "fragment", "form_post"]
    # BCP §2.4: the password grant MUST NOT be used.
    meta["grant_types_supported"] = [g for g in GRANT_TYPES if g != "password" or not ROPC.on()]
    if ALGS.on():
        algs = [str(a) for a in ALGS.param("algorithms", ["PS256", "ES256", "EdDSA"])]
        id_token_algs, auth_algs = list(algs), list(algs)
    else:
        id_token_algs, auth_algs = list(WIDE_ID_TOKEN_ALGS), list(WIDE_AUTH_ALGS)
    meta.update({
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": auth_algs,
        "revocation_endpoint_auth_methods_supported": list(ENDPOINT_AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": auth_algs,
        "introspection_endpoint_auth_methods_supported": list(ENDPOINT_AUTH_METHODS),
        "introspection_endpoint_auth_signing_alg_values_supported": auth_algs,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": id_token_algs,
        "userinfo_signing_alg_values_supported": [a for a in id_token_algs if a != "none"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr",
                             "amr", "azp", "at_hash", "c_hash", "name"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "service_documentation": issuer + "/",
    })
    for contribute in CONTRIBUTORS:
        contribute(meta)
    return meta
