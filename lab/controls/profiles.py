"""Profiles: named sets of enabled controls, with the marks of attacks.md §2 (data only).

Marks: "✔" required by the profile's source, "◐" lab baseline where the source
recommends it or leaves it open, "alt" the other option of a one-of requirement.
A control absent from a profile is off in it.
"""

from __future__ import annotations

from typing import Any

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
}

PROFILES: dict[str, Marks] = {
    "legacy": LEGACY,
    "oauth2": OAUTH2,
    "fapi2-security": FAPI2_SECURITY,
}

# Control parameters a profile sets (attacks.md §2.4: the allow-list differs per profile).
PROFILE_PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "oauth2": {"alg_allow_list": {"algorithms": ["RS256", "PS256", "ES256"]}},
    "fapi2-security": {"alg_allow_list": {"algorithms": ["PS256", "ES256", "EdDSA"]}},
}

DESCRIPTIONS: dict[str, str] = {
    "legacy": "Every control off: OAuth as it is too often deployed.",
    "oauth2": "RFC 6749/6750/7636, OpenID Connect and the OAuth Security BCP (RFC 9700).",
    "fapi2-security": "FAPI 2.0 Security Profile (final) — the controls built so far.",
}


def names() -> list[str]:
    return list(PROFILES)


def enabled(profile: str) -> set[str]:
    try:
        return set(PROFILES[profile])
    except KeyError:
        raise KeyError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})") from None
