"""The attack catalog's expectations (../shared/attacks.md §3): which controls block what.

Expected, not measured: the matrix (attacker module) compares these with fired events.
Sender constraints (dpop_bound_tokens, mtls_bound_tokens) also block every replay of a
captured token from the attacker's own client; attacks.md leaves that implied.
"""

from __future__ import annotations

from typing import NamedTuple


class ExpectedAttack(NamedTuple):
    id: str
    title: str
    attacker: str
    blocked_by: tuple[str, ...]


ATTACKS: tuple[ExpectedAttack, ...] = (
    ExpectedAttack(
        "at-replay-bearer",
        "Stolen token replayed as bearer",
        "A5",
        ("dpop_bound_tokens", "mtls_bound_tokens"),
    ),
    ExpectedAttack(
        "at-replay-own-dpop-key",
        "Stolen DPoP-bound token with the attacker's own proof",
        "A5",
        ("dpop_bound_tokens",),
    ),
    ExpectedAttack(
        "at-replay-own-client-cert",
        "Certificate-bound token used over the attacker's TLS",
        "A5",
        ("mtls_bound_tokens",),
    ),
    ExpectedAttack(
        "at-replay-late",
        "Bearer token reused 20 minutes later",
        "A5",
        ("short_access_token_lifetime",),
    ),
    ExpectedAttack(
        "token-wrong-audience",
        "Partner API replays the token it received",
        "A1 running PartnerRewards (BCP A5)",
        ("aud_check", "scope_check"),
    ),
    ExpectedAttack(
        "cuckoos-token",
        "Stolen bound token laundered through the honest TPP",
        "A1a + A5",
        ("tpp_per_as_keys", "dpop_bound_tokens"),
    ),
    ExpectedAttack(
        "dpop-proof-replay",
        "Resource request replayed verbatim",
        "A5",
        ("dpop_jti_replay", "dpop_nonce"),
    ),
    ExpectedAttack(
        "dpop-proof-retarget",
        "Proof reused for another URL, method or token",
        "A5",
        ("dpop_proof_binding",),
    ),
    ExpectedAttack(
        "dpop-stale-proof",
        "Old proof replayed after the `jti` window",
        "A5",
        ("dpop_iat_window", "dpop_jti_replay"),
    ),
    ExpectedAttack(
        "dpop-pregenerated-proof",
        "Proofs signed in advance, used after losing the key (why nonces; nonce bypass)",
        "MT",
        ("dpop_nonce", "short_access_token_lifetime", "token_usage_monitoring"),
    ),
    ExpectedAttack(
        "payment-replay-altered-body",
        "Payment request replayed with a new amount and creditor",
        "A5",
        ("dpop_jti_replay", "dpop_nonce", "http_message_signing", "payment_consent_binding"),
    ),
    ExpectedAttack(
        "refresh-token-replay",
        "Refresh token redeemed by the attacker's client",
        "A4",
        ("refresh_token_client_binding",),
    ),
    ExpectedAttack(
        "client-impersonation-leaked-secret",
        "Client impersonated with an old leaked secret + a stolen refresh token, for lasting access",  # noqa: E501
        "A4",
        (
            "private_key_jwt_only",
            "mtls_client_auth",
            "client_secret_rotation",
            "refresh_rotation_reuse_detection",
        ),
    ),
    ExpectedAttack(
        "client-assertion-replay",
        "Captured client assertion reused",
        "A4",
        ("client_assertion_jti_single_use",),
    ),
    ExpectedAttack(
        "client-assertion-audience-injection",
        "Genuine TPP assertion harvested by a rogue AS",
        "A1a + A4",
        ("tpp_assertion_aud_issuer", "client_assertion_aud_check"),
    ),
    ExpectedAttack(
        "code-replay",
        "Captured code redemption replayed",
        "A4",
        ("code_single_use", "client_assertion_jti_single_use"),
    ),
    ExpectedAttack(
        "code-redeem-own-client",
        "Leaked code redeemed by the attacker's client",
        "A3b",
        ("code_client_binding", "pkce_required"),
    ),
    ExpectedAttack(
        "id-token-replay-login",
        "Victim's ID token replayed to log in to the TPP",
        "A4",
        ("response_type_code_only", "tpp_checks_nonce", "tpp_id_token_validation"),
    ),
    ExpectedAttack(
        "code-injection",
        "Leaked code injected into the attacker's TPP session",
        "A3b",
        ("pkce_required", "tpp_checks_nonce", "jarm", "tpp_checks_state"),
    ),
    ExpectedAttack(
        "code-injection-late", "The same, 90 s after issue", "A3b", ("code_short_lifetime",)
    ),
    ExpectedAttack(
        "auth-response-leak-referer",
        "Code leaked through the callback page's Referer",
        "A1 (attacker site)",
        ("tpp_referrer_policy", "pkce_required", "tpp_checks_nonce", "code_single_use"),
    ),
    ExpectedAttack(
        "csrf-redirect-endpoint",
        "Attacker's code forced into the victim's TPP session",
        "A1",
        ("tpp_checks_state", "pkce_required", "tpp_checks_nonce"),
    ),
    ExpectedAttack(
        "login-csrf",
        "Victim logged in to the TPP as the attacker, then links his own accounts",
        "A1",
        ("tpp_checks_state", "tpp_checks_nonce", "pkce_required"),
    ),
    ExpectedAttack(
        "mix-up",
        "Honest bank's code sent to the attacker's AS",
        "A1a",
        (
            "tpp_checks_iss",
            "par_required",
            "jar_required",
            "pkce_required",
            "tpp_checks_nonce",
            "jarm",
        ),
    ),
    ExpectedAttack(
        "browser-swapping", "Attacker-started flow completed by the victim", "A1 + A3b", ()
    ),
    ExpectedAttack(
        "id-token-wrong-audience",
        "ID token of another client used at the TPP",
        "A1 running EvilApp",
        ("tpp_id_token_validation", "response_type_code_only", "tpp_checks_nonce"),
    ),
    ExpectedAttack(
        "pkce-downgrade",
        "Challenge stripped from the attacker's own request",
        "A1",
        (
            "pkce_required",
            "pkce_downgrade_check",
            "par_required",
            "jar_required",
            "tpp_checks_state",
        ),
    ),
    ExpectedAttack(
        "pkce-plain-leak",
        "A `plain` challenge is the verifier",
        "A3a + A3b + A4",
        ("pkce_s256_only", "par_required", "private_key_jwt_only"),
    ),
    ExpectedAttack(
        "pkce-chosen-challenge",
        "Forged request carrying the attacker's challenge",
        "A1 + A3b + A4",
        ("par_required", "jar_required", "private_key_jwt_only"),
    ),
    ExpectedAttack(
        "authz-request-scope-tampering",
        "Extension widens the request the victim approves",
        "UA",
        ("par_required", "jar_required", "tpp_checks_granted_scope"),
    ),
    ExpectedAttack(
        "redirect-uri-manipulation",
        "Code delivered to the attacker's origin",
        "A1",
        ("exact_redirect_uri", "par_required", "jar_required", "pkce_required"),
    ),
    ExpectedAttack(
        "open-redirector-leak",
        "Code forwarded by the TPP's open redirector",
        "A1",
        (
            "exact_redirect_uri",
            "tpp_no_open_redirect",
            "par_required",
            "jar_required",
            "pkce_required",
        ),
    ),
    ExpectedAttack(
        "unsigned-request-object",
        "Request object with `alg: none`",
        "A1",
        ("jar_required", "alg_allow_list", "par_required", "exact_redirect_uri"),
    ),
    ExpectedAttack(
        "request-object-replay",
        "Signed request object reused two hours later",
        "A3a + A1",
        ("request_object_lifetime", "par_required"),
    ),
    ExpectedAttack(
        "request-uri-replay-csrf",
        "Leaked `request_uri` used by the attacker, code forced into the victim",
        "A3a + A1",
        ("request_uri_single_use",),
    ),
    ExpectedAttack("jwt-alg-none", "unsigned token (`alg: none`)", "A1", ("alg_allow_list",)),
    ExpectedAttack(
        "jwt-hs256-key-confusion",
        "HS256 keyed with the AS's published public key, AS `kid`",
        "A1",
        ("alg_allow_list",),
    ),
    ExpectedAttack(
        "jwt-embedded-key",
        "ES256 by the attacker's key, named in `jwk`/`jku`, unknown `kid`",
        "A1",
        ("trusted_keys_only",),
    ),
    ExpectedAttack(
        "jwt-expired",
        "genuine token two days past `exp`",
        "A5 (capture history)",
        ("token_expiry_check",),
    ),
    ExpectedAttack(
        "forged-token-retired-as-key",
        "forged with the AS key of 40 days ago (leaked backup; without rotation still current)",
        "A1",
        ("as_key_rotation",),
    ),
    ExpectedAttack(
        "consent-bypass-unconsented-account",
        "Token used on an account not shared",
        "MT",
        ("consent_per_account",),
    ),
    ExpectedAttack(
        "scope-escalation-at-refresh",
        "Payment scope added at refresh",
        "MT",
        ("refresh_scope_check",),
    ),
    ExpectedAttack(
        "payment-tampering-after-consent",
        "Consented payment changed before submission",
        "MT",
        ("payment_consent_binding",),
    ),
    ExpectedAttack(
        "payment-without-step-up",
        "Payment on a days-old authentication",
        "MT",
        ("step_up_for_payments", "payment_consent_binding"),
    ),
    ExpectedAttack(
        "refresh-after-revocation",
        "Refresh after the user revoked the TPP",
        "MT",
        ("revocation_cascade",),
    ),
    ExpectedAttack(
        "access-token-after-revocation",
        "Unexpired token used after revocation",
        "MT",
        ("at_revocation_check",),
    ),
    ExpectedAttack(
        "token-use-new-location",
        "Exfiltrated key and tokens used elsewhere",
        "MT",
        ("token_usage_monitoring",),
    ),
    ExpectedAttack(
        "credential-stuffing",
        "Leaked passwords at the login page",
        "CS",
        ("login_throttling", "risk_based_auth"),
    ),
    ExpectedAttack(
        "password-only-login",
        "Phished password links the victim's accounts",
        "CS",
        ("mfa_required", "risk_based_auth"),
    ),
    ExpectedAttack("otp-brute-force", "Second factor guessed", "CS", ("login_throttling",)),
    ExpectedAttack(
        "otp-phishing-relay",
        "Password and TOTP relayed in real time",
        "CS + A1",
        ("risk_based_auth",),
    ),
    ExpectedAttack(
        "ropc-mfa-bypass",
        "Password grant skips second factor and consent",
        "CS",
        ("ropc_disabled", "mfa_required"),
    ),
    ExpectedAttack(
        "audit-log-tampering",
        "Fraud hidden by editing and truncating the trail",
        "LI",
        ("audit_chain",),
    ),
)


def blocked_by(control_id: str) -> list[ExpectedAttack]:
    """The catalog attacks this control is expected to block."""
    return [a for a in ATTACKS if control_id in a.blocked_by]
