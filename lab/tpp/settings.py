"""TPP settings: which mechanisms the TPP uses (attacks.md §0). Settings, not controls.

Defaults follow the profile last applied; an explicit setting (the CLI, or an
attack's `needs:`) overrides it and stays until cleared. Defaults adapt to the
AS's discovery metadata as a real client does; explicit settings are used as
set, so the lab can make the TPP weak on purpose and let the AS refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.controls import profiles
from lab.controls.registry import Registry
from lab.store.base import Store

SETTINGS_KEY = "tpp_settings"

CHOICES: dict[str, tuple[str, ...]] = {
    "client_auth": ("client_secret_post", "client_secret_basic", "private_key_jwt",
                    "tls_client_auth"),
    "sender_constraint": ("none", "dpop", "mtls"),
    "pkce": ("none", "plain", "S256"),
    # attacks.md §0: jar = a signed request object by value (RFC 9101 §5.1); par+jar = the
    # request object pushed to PAR (RFC 9126 §3).
    "request": ("query", "par", "jar", "par+jar"),
    # JARM §2.3: "jwt" asks for the response as a signed JWT (query.jwt for the code flow).
    "response_mode": ("query", "jwt"),
    # attacks.md §0: the scripted victim consents to "initiate payments" too; "on" makes
    # FinLens ask for payments:write besides reading (an aggregator alone does not).
    "payments": ("off", "on"),
    # attacks.md §0: how "Sign in with your bank" asks for the ID token. hybrid (OIDC §3.3,
    # response_type=code id_token) takes it from the front channel, as legacy clients did.
    "login": ("hybrid", "code"),
}
# Settings that decide an "alt" control (profiles.ALT_SELECTED_BY).
ALT_SETTINGS = ("client_auth", "sender_constraint")

FALLBACK_PROFILE = "fapi2-security"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
ASYMMETRIC_METHODS = ("private_key_jwt", "tls_client_auth")
# The TPP's assertion keys (lab.keys "tpp" set), both on the FAPI2 list (lab.jose.algs.FAPI2).
ASSERTION_ALGS = ("ES256", "PS256")
DPOP_ALG = "ES256"


@dataclass(frozen=True)
class Effective:
    """The mechanisms one flow uses, and why (for the settings page and the evidence)."""

    client_auth: str
    pkce: str
    request: str
    response_mode: str
    sender_constraint: str = "none"
    assertion_alg: str = "ES256"
    payments: str = "off"
    login: str = "code"
    notes: tuple[str, ...] = ()

    @property
    def uses_mtls(self) -> bool:
        """The TLS client certificate goes with token and bank calls."""
        return self.client_auth == "tls_client_auth" or self.sender_constraint == "mtls"

    @property
    def uses_dpop(self) -> bool:
        return self.sender_constraint == "dpop"

    @property
    def uses_par(self) -> bool:
        return self.request in ("par", "par+jar")

    @property
    def signs_request(self) -> bool:
        """A request object (JAR, RFC 9101) signed with the assertion key."""
        return self.request in ("jar", "par+jar")


# Settings whose default is the same in every profile.
COMMON_DEFAULTS = {"payments": "off"}


def defaults_for(profile: str) -> dict[str, str]:
    """The mechanisms FinLens uses by default under `profile`: what the profile's controls
    demand of a client. An "alt" control is the other option, chosen only explicitly."""
    base = profiles.base_name(profile)
    if base not in profiles.PROFILES:
        base = FALLBACK_PROFILE
    demanded = {c for c, mark in profiles.marks(base).items() if mark != "alt"}
    return {
        **COMMON_DEFAULTS,
        "client_auth": "private_key_jwt" if "private_key_jwt_only" in demanded
        else "tls_client_auth" if "mtls_client_auth" in demanded
        else profiles.TPP_SECRET_METHOD.get(base, "client_secret_basic"),
        "sender_constraint": "dpop" if "dpop_bound_tokens" in demanded
        else "mtls" if "mtls_bound_tokens" in demanded else "none",
        "request": _request_default("par_required" in demanded, "jar_required" in demanded),
        "pkce": "S256" if "pkce_s256_only" in demanded
        else "plain" if "pkce_required" in demanded else "none",
        "login": "code" if "response_type_code_only" in demanded else "hybrid",
        "response_mode": "jwt" if "jarm" in demanded else "query",
    }


def _request_default(par: bool, jar: bool) -> str:
    return ("par+jar" if jar else "par") if par else ("jar" if jar else "query")


def profile_defaults(store: Store) -> dict[str, str]:
    return defaults_for(Registry(store).profile())


def overrides(store: Store) -> dict[str, str]:
    value = store.get_setting(SETTINGS_KEY, {})
    return {k: v for k, v in value.items() if k in CHOICES and v in CHOICES[k]} \
        if isinstance(value, dict) else {}


def current(store: Store) -> dict[str, str]:
    """Profile defaults with explicit settings on top (before adapting to the AS)."""
    return {**profile_defaults(store), **overrides(store)}


def _save(store: Store, saved: dict[str, str], changed: set[str]) -> None:
    with store.transaction():
        store.set_setting(SETTINGS_KEY, saved)
    if changed & set(ALT_SETTINGS):
        # attacks.md §0: an "alt" control is on when the TPP setting selects it.
        Registry(store).sync_alternatives()


def set_setting(store: Store, name: str, value: str) -> None:
    if name not in CHOICES:
        raise KeyError(f"unknown TPP setting {name!r} (settings: {', '.join(CHOICES)})")
    if value not in CHOICES[name]:
        raise ValueError(f"{name} must be one of {', '.join(CHOICES[name])}")
    saved = overrides(store)
    saved[name] = value
    _save(store, saved, {name})


def clear(store: Store, name: str | None = None) -> None:
    """Back to the profile default for `name`, or for every setting."""
    saved = overrides(store)
    changed = set(saved) if name is None else {name}
    if name is None:
        saved = {}
    else:
        saved.pop(name, None)
    _save(store, saved, changed)


def _client_auth(chosen: str, explicit: bool, meta: dict[str, Any], notes: list[str]) -> str:
    # RFC 8414 §2: token_endpoint_auth_methods_supported — "If omitted, the default is
    # client_secret_basic".
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if explicit or chosen in methods:
        return chosen
    # A FAPI client stays with asymmetric methods where it can (FAPI2 §5.3.3: "shall support
    # ... private_key_jwt or ... MTLS"); a secret-based client stays with secrets.
    order = ASYMMETRIC_METHODS + SECRET_METHODS if chosen in ASYMMETRIC_METHODS \
        else SECRET_METHODS + ASYMMETRIC_METHODS
    fitting = [m for m in order if m in methods]
    if fitting:
        notes.append(f"client_auth {chosen} not offered by the AS: using {fitting[0]}")
        return fitting[0]
    return chosen


def _assertion_alg(meta: dict[str, Any], notes: list[str]) -> str:
    supported = meta.get("token_endpoint_auth_signing_alg_values_supported")
    if not isinstance(supported, list):
        return ASSERTION_ALGS[0]
    fitting = [a for a in ASSERTION_ALGS if a in supported]
    if not fitting:
        notes.append("the AS lists no assertion algorithm FinLens has: signing ES256 anyway")
    return fitting[0] if fitting else ASSERTION_ALGS[0]


def _sender_constraint(chosen: str, explicit: bool, meta: dict[str, Any],
                       notes: list[str]) -> str:
    dpop_algs = meta.get("dpop_signing_alg_values_supported")
    dpop_ok = isinstance(dpop_algs, list) and DPOP_ALG in dpop_algs
    mtls_ok = meta.get("tls_client_certificate_bound_access_tokens") is True
    # As for PAR: an AS that says it only issues DPoP-bound tokens
    # (dpop_bound_access_tokens_required, the AS twin of RFC 9728 §2's) gets proofs from a
    # bearer client; one that merely supports DPoP (RFC 9449 §5.1) does not.
    if chosen == "none" and not explicit and dpop_ok \
            and meta.get("dpop_bound_access_tokens_required") is True:
        notes.append("sender_constraint none: the AS requires DPoP, using dpop")
        return "dpop"
    if explicit or chosen == "none" or (chosen == "dpop" and dpop_ok) \
            or (chosen == "mtls" and mtls_ok):
        return chosen
    # RFC 9449 §5.1: dpop_signing_alg_values_supported tells the client the AS does DPoP;
    # RFC 8705 §3.3: tls_client_certificate_bound_access_tokens says it binds to certificates.
    fallback = "mtls" if chosen == "dpop" and mtls_ok else \
        "dpop" if chosen == "mtls" and dpop_ok else "none"
    notes.append(f"sender_constraint {chosen} not offered by the AS: using {fallback}")
    return fallback


def _request(chosen: str, explicit: bool, meta: dict[str, Any], notes: list[str]) -> str:
    endpoint = isinstance(meta.get("pushed_authorization_request_endpoint"), str)
    # RFC 9126 §5: require_pushed_authorization_requests — "the authorization server accepts
    # authorization request data only via PAR".
    required = meta.get("require_pushed_authorization_requests") is True
    par, jar = chosen in ("par", "par+jar"), chosen in ("jar", "par+jar")
    if par and not endpoint:
        notes.append(f"request {chosen}: the AS has no PAR endpoint, sending the request in "
                     "the URL")
        par = False
    elif not par and required and endpoint and not explicit:
        notes.append(f"request {chosen}: the AS requires PAR, pushing the request")
        par = True
    # RFC 9101 §10.5: require_signed_request_object — the AS rejects any other request, so
    # FinLens signs even where its setting says otherwise (signing weakens nothing).
    if not jar and meta.get("require_signed_request_object") is True:
        notes.append(f"request {chosen}: the AS requires signed request objects, signing")
        jar = True
    return _request_default(par, jar)


def _login(chosen: str, explicit: bool, meta: dict[str, Any], notes: list[str]) -> str:
    # RFC 8414 §2 / OIDC Discovery §3: response_types_supported lists what the AS serves.
    supported = meta.get("response_types_supported")
    if chosen == "hybrid" and not explicit and isinstance(supported, list) \
            and "code id_token" not in supported:
        notes.append("login hybrid: the AS serves only the code flow, signing in with code")
        return "code"
    return chosen


def _response_mode(chosen: str, explicit: bool, meta: dict[str, Any], notes: list[str]) -> str:
    # JARM §3 / RFC 8414 §2: response_modes_supported. An AS that lists only JWT modes
    # serves nothing else (the lab's jarm control), so a query client asks for jwt there.
    modes = meta.get("response_modes_supported")
    if not isinstance(modes, list) or explicit:
        return chosen
    if chosen == "query" and "jwt" in modes and not {"query", "fragment", "form_post"} & \
            set(modes):
        notes.append("response_mode query: the AS requires JARM, asking for jwt")
        return "jwt"
    if chosen == "jwt" and "jwt" not in modes:
        notes.append("response_mode jwt not offered by the AS: using query")
        return "query"
    return chosen


def effective(store: Store, metadata: dict[str, Any]) -> Effective:
    """The settings one flow uses at the AS described by `metadata` (RFC 8414)."""
    chosen, explicit = current(store), overrides(store)
    notes: list[str] = []
    auth = _client_auth(chosen["client_auth"], "client_auth" in explicit, metadata, notes)
    alg = _assertion_alg(metadata, notes) if auth == "private_key_jwt" else ASSERTION_ALGS[0]
    sender = _sender_constraint(chosen["sender_constraint"], "sender_constraint" in explicit,
                                metadata, notes)
    request = _request(chosen["request"], "request" in explicit, metadata, notes)

    # RFC 7636 §4.2: S256 is Mandatory To Implement on the server; plain only if it cannot.
    # The metadata cannot say PKCE is required, so 'none' stays none.
    pkce = chosen["pkce"]
    supported = metadata.get("code_challenge_methods_supported")
    if "pkce" not in explicit and pkce == "plain" and isinstance(supported, list) \
            and "plain" not in supported and "S256" in supported:
        notes.append("pkce plain not offered by the AS: using S256")
        pkce = "S256"
    # F1P2 §5.2.2 (18): a FAPI 1.0 AS "shall require PAR requests, if supported, to use PKCE
    # ... with S256" (oidc-provider's '1.0 Final' profile does), FAPI2 §5.3.2.2 always: an AS
    # that takes requests only by PAR and offers only S256 gets PKCE from a client set to none.
    if "pkce" not in explicit and pkce == "none" and request.startswith("par") \
            and metadata.get("require_pushed_authorization_requests") is True \
            and supported == ["S256"]:
        notes.append("pkce none: the AS takes only pushed requests with S256 PKCE, using S256")
        pkce = "S256"

    login = _login(chosen["login"], "login" in explicit, metadata, notes)
    return Effective(client_auth=auth, pkce=pkce, request=request,
                     response_mode=_response_mode(chosen["response_mode"],
                                                  "response_mode" in explicit, metadata, notes),
                     sender_constraint=sender,
                     assertion_alg=alg, payments=chosen["payments"], login=login,
                     notes=tuple(notes))
