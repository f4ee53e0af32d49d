"""Discovery metadata (RFC 8414 §2, OIDC Discovery §3), computed per request from the switches.

A client that reads this learns what the AS enforces right now (attacks.md §2.8). The
document is the base below (what the AS offers with every control off), changed by each
control that is on, in catalog order, as its catalog entry's `metadata` says; the scopes of
registered resource servers come last.
"""

from __future__ import annotations

from typing import Any

from lab import context
from lab.controls import catalog, guard
from lab.controls.guard import Guard
from lab.controls.model import Control, Edit, Param

from . import auth_context, introspection_jwt, resources

SCOPES = ["openid", "offline_access", "accounts:read", "transactions:read", "payments:write"]
ALL_RESPONSE_TYPES = ["code", "token", "id_token", "id_token token", "code id_token",
                      "code token", "code id_token token"]
GRANT_TYPES = ["authorization_code", "refresh_token", "password", "client_credentials"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
# Off: what a permissive provider advertises (RFC 8414 §2 forbids "none" for client auth).
WIDE_ID_TOKEN_ALGS = ["ES256", "PS256", "RS256", "HS256", "none"]
WIDE_AUTH_ALGS = ["ES256", "PS256", "RS256", "EdDSA", "HS256"]
# With every control off a request object may be unsigned (lab/protocol/request_object.py).
REQUEST_OBJECT_ALGS = ["ES256", "PS256", "RS256", "EdDSA", "none"]

# Every control that changes discovery, with its guard, in catalog order.
CONTRIBUTING: tuple[tuple[Control, Guard], ...] = tuple(
    (c, guard(c.id)) for c in catalog.CONTROLS if c.metadata)
_GUARDS = {c.id: g for c, g in CONTRIBUTING}


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
        "pushed_authorization_request_endpoint": issuer + "/par",
    }


def base(issuer: str) -> dict[str, Any]:
    """The document with every control off."""
    return {
        **endpoints(issuer),
        "code_challenge_methods_supported": ["S256", "plain"],
        "response_types_supported": list(ALL_RESPONSE_TYPES),
        # JARM §3: the JWT response modes are always served (lab/protocol/jarm.py); the
        # responses are signed with the ID token key (authorization_signing_alg_values_supported).
        "response_modes_supported": ["query", "fragment", "form_post", "jwt", "query.jwt",
                                     "fragment.jwt"],
        "authorization_signing_alg_values_supported": ["ES256"],
        "grant_types_supported": list(GRANT_TYPES),
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(WIDE_AUTH_ALGS),
        "revocation_endpoint_auth_methods_supported": list(ENDPOINT_AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(WIDE_AUTH_ALGS),
        "introspection_endpoint_auth_methods_supported": list(ENDPOINT_AUTH_METHODS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(WIDE_AUTH_ALGS),
        # OIDC Core §8: a client may register subject_type pairwise (lab/protocol/subjects.py).
        "subject_types_supported": ["public", "pairwise"],
        # RFC 9701 §7: signed introspection responses (lab/protocol/introspection_jwt.py).
        "introspection_signing_alg_values_supported": list(introspection_jwt.ALGS),
        "id_token_signing_alg_values_supported": list(WIDE_ID_TOKEN_ALGS),
        "userinfo_signing_alg_values_supported": [a for a in WIDE_ID_TOKEN_ALGS if a != "none"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr",
                             "amr", "azp", "at_hash", "c_hash", "name"],
        # OIDC Discovery §3; RFC 9470 §4: the acr values a client may ask for.
        "acr_values_supported": list(auth_context.ACR_VALUES_SUPPORTED),
        # RFC 9101 §10.1 / OIDC Discovery §3: request objects by value; by reference only as
        # PAR request_uris (the AS fetches nothing from a client's URL).
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGS),
        "request_uri_parameter_supported": False,
        "service_documentation": issuer + "/",
    }


def _param(owner: Guard, value: Param) -> list[str]:
    source = (_GUARDS.get(value.control) or guard(value.control)) if value.control else owner
    if source is not owner and not source.on():
        return list(value.otherwise)
    found = [str(a) for a in source.param(value.name, source.control.params.get(value.name))]
    return [a for a in found if (not value.keep or a in value.keep) and a not in value.drop]


def _apply(meta: dict[str, Any], key: str, value: Any, owner: Guard) -> None:
    if isinstance(value, Param):
        meta[key] = _param(owner, value)
    elif isinstance(value, Edit):
        current = meta.get(key)
        if isinstance(current, list):
            added = current + [m for m in value.add if m not in current]
            meta[key] = [m for m in added if m not in value.remove]
    else:
        meta[key] = value.copy() if isinstance(value, list | dict) else value


def build(issuer: str) -> dict[str, Any]:
    """The metadata document as the switches stand for this request."""
    meta = base(issuer)
    for control, switch in CONTRIBUTING:
        if switch.on():
            for key, value in control.metadata.items():
                _apply(meta, key, value, switch)
    ctx = context.current_or_none()
    if ctx is not None:
        # RFC 8707: the scopes of the other resource servers this AS issues tokens for.
        meta["scopes_supported"] += [s for s in resources.scope_words(ctx.store)
                                     if s not in meta["scopes_supported"]]
    return meta
