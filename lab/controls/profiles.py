"""Profiles: named sets of enabled controls, with the marks of attacks.md §2 (data only).

Marks: "✔" required by the profile's source, "◐" lab baseline where the source
recommends it or leaves it open, "alt" the other option of a one-of requirement.
A control absent from a profile is off in it.
"""

from __future__ import annotations

from typing import Any

from . import catalog

Marks = dict[str, str]

LEGACY: Marks = {}

OAUTH2: Marks = {
    "pkce_required": "◐",
    "pkce_s256_only": "◐",
    "pkce_downgrade_check": "✔",
    "exact_redirect_uri": "✔",
    "response_type_code_only": "◐",
    "ropc_disabled": "✔",
    "code_single_use": "✔",
    "code_client_binding": "✔",
    "refresh_token_client_binding": "✔",
    "refresh_rotation_reuse_detection": "◐",
    "refresh_scope_check": "✔",
    "revocation_cascade": "◐",
    "token_expiry_check": "✔",
    "aud_check": "✔",
    "scope_check": "✔",
    "consent_per_account": "✔",
    "alg_allow_list": "✔",
    "trusted_keys_only": "✔",
    "tpp_checks_state": "✔",
    "tpp_checks_nonce": "✔",
    "tpp_id_token_validation": "✔",
    "tpp_checks_granted_scope": "◐",
    "tpp_no_open_redirect": "✔",
    "tpp_referrer_policy": "◐",
    "mfa_required": "◐",
}

FAPI2_SECURITY: Marks = {
    "pkce_required": "✔",
    "pkce_s256_only": "✔",
    "pkce_downgrade_check": "✔",
    "exact_redirect_uri": "✔",
    "response_type_code_only": "✔",
    "ropc_disabled": "✔",
    "code_single_use": "✔",
    "code_short_lifetime": "✔",
    "code_client_binding": "✔",
    "refresh_token_client_binding": "✔",
    "refresh_scope_check": "✔",
    "revocation_cascade": "◐",
    "short_access_token_lifetime": "◐",
    "token_expiry_check": "✔",
    "at_revocation_check": "✔",
    "aud_check": "✔",
    "scope_check": "✔",
    "consent_per_account": "✔",
    "alg_allow_list": "✔",
    "trusted_keys_only": "✔",
    "tpp_id_token_validation": "✔",
    "tpp_no_open_redirect": "✔",
    "tpp_referrer_policy": "◐",
    "mfa_required": "◐",
    # FAPI 2.0 Security Profile proper (attacks.md §2.2, §2.3, §2.5, §2.6)
    "par_required": "✔",
    "request_uri_single_use": "◐",
    "iss_response_param": "✔",
    "private_key_jwt_only": "✔",
    "mtls_client_auth": "alt",
    "client_assertion_jti_single_use": "✔",
    "client_assertion_aud_check": "✔",
    # FAPI2 §5.3.2.1: iat/nbf up to 10 s ahead accepted, beyond 60 s refused; RFC 7523 §3 exp
    "client_assertion_time_window": "✔",
    "tpp_assertion_aud_issuer": "✔",
    "dpop_bound_tokens": "✔",
    "dpop_proof_binding": "✔",
    "dpop_iat_window": "✔",
    # RFC 9449 §10.1: an AS with PAR and DPoP "MUST" support both ways of binding the code
    "dpop_jkt_binding": "✔",
    "mtls_bound_tokens": "alt",
    "tpp_checks_iss": "✔",
}

# FAPI 1.0 Advanced (F1P2, final 2021) over Part 1 (attacks.md §2.1): `code` + JARM (F1P2
# §5.2.2.2 allows `code id_token` + s_hash instead; the lab picks JARM), a signed request object
# by value (PAR is optional in F1 and PKCE is only required with PAR, so neither is on),
# mTLS-bound tokens, private_key_jwt or mTLS client auth, state and nonce checked by the client.
FAPI1_ADVANCED: Marks = {
    "jar_required": "✔",
    "request_object_lifetime": "✔",
    "exact_redirect_uri": "✔",
    "response_type_code_only": "◐",
    "jarm": "✔",
    "ropc_disabled": "◐",
    "code_single_use": "✔",
    "code_client_binding": "✔",
    "private_key_jwt_only": "✔",
    "mtls_client_auth": "alt",
    "client_assertion_jti_single_use": "✔",
    "client_assertion_aud_check": "✔",
    "client_assertion_time_window": "✔",
    "refresh_token_client_binding": "✔",
    "refresh_scope_check": "✔",
    "revocation_cascade": "◐",
    "short_access_token_lifetime": "◐",
    "token_expiry_check": "✔",
    "at_revocation_check": "✔",
    "aud_check": "✔",
    "scope_check": "✔",
    "consent_per_account": "✔",
    "alg_allow_list": "✔",
    "trusted_keys_only": "✔",
    "mtls_bound_tokens": "✔",
    "tpp_checks_state": "✔",
    "tpp_checks_nonce": "✔",
    "tpp_id_token_validation": "✔",
    "tpp_checks_iss": "✔",
    "tpp_no_open_redirect": "◐",
    "tpp_referrer_policy": "◐",
    "mfa_required": "◐",
}

# FAPI 2.0 Message Signing (draft) = the Security Profile plus signed requests (JAR inside
# PAR, MS §5.3.1), signed authorization responses (JARM, MS §5.4) and, as the lab's ◐, HTTP
# message signatures for resource requests and responses (now in FAPI 2.0 HTTP Signatures).
FAPI2_MESSAGE_SIGNING: Marks = {
    **FAPI2_SECURITY,
    "jar_required": "✔",
    "request_object_lifetime": "✔",
    "jarm": "✔",
    "http_message_signing": "◐",
}

# Optional mitigations FAPI 2.0 names in its security considerations, and lab extras: off in
# every profile, on together in the overlay `<profile>+extras` (attacks.md §0). Only the ones
# built so far are listed.
EXTRAS: tuple[str, ...] = ("dpop_jti_replay", "dpop_nonce", "tpp_per_as_keys")

# The bank's own policy over FAPI 2.0 (attacks.md §2.7, issues 15/16): SCA strength, risk and
# throttling, payment consent, monitoring, key hygiene, audit. No FAPI profile marks them; they
# come on together in the overlay `fapi2-security+adaptive`. Each branch adds its control id;
# an id whose control is not in the catalog (yet) is skipped, so merges only extend the tuple.
ADAPTIVE: tuple[str, ...] = (
    "login_throttling",
    "risk_based_auth",
    "audit_chain",
    "as_key_rotation",
    "client_secret_rotation",
    "step_up_for_payments",
    "payment_consent_binding",
    "token_usage_monitoring",
)

# Overlay suffix → the controls it adds (mark "+") over its base profile.
OVERLAYS: dict[str, tuple[str, ...]] = {"+extras": EXTRAS, "+adaptive": ADAPTIVE}
# The base profile the matrix, the CLI and the dashboard show each overlay over.
OVERLAY_BASE = "fapi2-security"
# Profiles whose marks are another profile's plus their own (attacks.md §2: MS is F2 plus
# signed messages): the matrix expects them to stop what the other leaves open only through the
# controls they add, as for an overlay.
BUILDS_ON: dict[str, str] = {"fapi2-message-signing": "fapi2-security"}

# "alt" marks: the other option of a one-of requirement, on when the TPP setting selects it.
ALT_SELECTED_BY: dict[str, tuple[str, tuple[str, ...]]] = {
    "mtls_client_auth": ("client_auth", ("tls_client_auth", "self_signed_tls_client_auth")),
    "mtls_bound_tokens": ("sender_constraint", ("mtls",)),
}

# The one TPP default no control decides (lab/tpp/settings.py derives the rest from the marks):
# which shared-secret method FinLens uses where the profile allows secrets. RFC 6749 §2.3.1:
# the AS "MUST support the HTTP Basic authentication scheme", the default elsewhere; legacy
# shows the form-post credentials too many integrations copy.
TPP_SECRET_METHOD: dict[str, str] = {"legacy": "client_secret_post"}

PROFILES: dict[str, Marks] = {
    "legacy": LEGACY,
    "oauth2": OAUTH2,
    "fapi1-advanced": FAPI1_ADVANCED,
    "fapi2-security": FAPI2_SECURITY,
    "fapi2-message-signing": FAPI2_MESSAGE_SIGNING,
}

DESCRIPTIONS: dict[str, str] = {
    "legacy": "Every control off: OAuth as it is too often deployed.",
    "oauth2": "RFC 6749/6750/7636, OpenID Connect and the OAuth Security BCP (RFC 9700).",
    "fapi1-advanced": "FAPI 1.0 Advanced (final, 2021): code + JARM, a signed request "
                      "object, mTLS-bound tokens, private_key_jwt or mTLS client auth, "
                      "state and nonce.",
    "fapi2-security": "FAPI 2.0 Security Profile (final): PAR, PKCE S256, sender-constrained "
                      "tokens (DPoP or mTLS), private_key_jwt or mTLS client auth, iss.",
    "fapi2-message-signing": "FAPI 2.0 Message Signing (draft): fapi2-security plus a "
                             "signed request object inside PAR, JARM and HTTP message "
                             "signatures on bank calls (as far as built).",
    "fapi2-security+extras": "fapi2-security plus the optional mitigations of FAPI 2.0 §6 "
                             "built so far: DPoP jti cache, DPoP nonces, per-bank TPP keys.",
    "fapi2-security+adaptive": "fapi2-security plus the bank's own policy, which no FAPI "
                               "profile asks for (attacks.md §2.7): throttling, risk-based "
                               "login, step-up and payment consent, monitoring, key "
                               "rotation, audit, as far as built.",
}


def names() -> list[str]:
    """Every profile, then each overlay of the strictest one (what the matrix runs)."""
    return [*PROFILES, *(OVERLAY_BASE + suffix for suffix in OVERLAYS)]


def overlay_controls(suffix: str) -> tuple[str, ...]:
    """The controls an overlay adds, those of its list that exist in the catalog."""
    return tuple(c for c in OVERLAYS[suffix] if c in catalog.BY_ID)


def _split(profile: str) -> tuple[str, str]:
    """'fapi2-security+extras*' → ('fapi2-security', '+extras'); no overlay → (name, '')."""
    name = profile.rstrip("*")
    for suffix in OVERLAYS:
        if name.endswith(suffix):
            return name.removesuffix(suffix), suffix
    return name, ""


def base_name(profile: str) -> str:
    """'fapi2-security+extras*' → 'fapi2-security'."""
    return _split(profile)[0]


def marks(profile: str) -> Marks:
    """The profile's marks for the controls in the catalog. A mark whose control is not built
    (yet) is skipped, as overlay_controls does, so a branch adding the control only adds it."""
    base, suffix = _split(profile)
    if base not in PROFILES:
        raise KeyError(f"unknown profile {profile!r} (known: {', '.join(names())})")
    result = {c: mark for c, mark in PROFILES[base].items() if c in catalog.BY_ID}
    if suffix:
        result.update(dict.fromkeys(overlay_controls(suffix), "+"))
    return result


def enabled(profile: str, tpp_settings: dict[str, str] | None = None) -> set[str]:
    """Controls on in `profile`; an "alt" control only when the TPP setting selects it."""
    settings = tpp_settings or {}
    on = set()
    for control_id, mark in marks(profile).items():
        if mark == "alt":
            setting, values = ALT_SELECTED_BY[control_id]
            if settings.get(setting) not in values:
                continue
        on.add(control_id)
    return on


def params(profile: str) -> dict[str, dict[str, Any]]:
    """Control parameters the profile sets, from each catalog entry's `profile_params`
    (attacks.md §2.4: the allow-list differs per profile); only controls in the catalog."""
    base = base_name(profile)
    return {c.id: dict(c.profile_params[base]) for c in catalog.CONTROLS
            if base in c.profile_params}
