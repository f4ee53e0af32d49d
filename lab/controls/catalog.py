"""THE table of controls: id, what it checks, where, its refusal, spec and teaching text.

Ids, refusals, specs and profile marks come from ../shared/attacks.md §2. Every
enforcement point names a control from here through `guard(id)`.
"""

from __future__ import annotations

from lab.jose import algs

from .model import Control, Edit, Param, Refusal

R = Refusal

CONTROLS: tuple[Control, ...] = (
    # --- 2.2 Authorization endpoint ---------------------------------------------------------
    Control(
        "pkce_required", "PKCE required",
        "Authorization requests without code_challenge are refused; a stored challenge is "
        "always verified at the token endpoint.",
        ("AS",), R(400, "invalid_request"),
        "RFC 7636 §4.4.1, §4.6; BCP §2.1.1; FAPI2 §5.3.2.2",
        "PKCE binds the authorization code to the browser session that started the flow: only "
        "the party holding the code_verifier can redeem the code. Without it, a code that leaks "
        "(Referer, logs, a swapped browser) can be injected into the attacker's own session.",
        off_behaviour="A request with no code_challenge is accepted; its code needs no verifier. "
                      "A challenge that was sent is still verified (RFC 7636 §4.6), by the "
                      "always-on pkce_verification check.",
    ),
    Control(
        "pkce_s256_only", "S256 only",
        "Any code_challenge_method other than S256, or a missing method, is refused.",
        ("AS",), R(400, "invalid_request"),
        "RFC 7636 §4.2, §4.4.1; FAPI2 §5.3.2.2",
        "With the 'plain' method the challenge that travels in the front channel IS the verifier: "
        "whoever reads the authorization request can redeem the code. S256 sends only a hash.",
        # RFC 7636 §4.2 / FAPI2 §5.3.2.2: S256 only.
        metadata={"code_challenge_methods_supported": ["S256"]},
        off_behaviour="'plain' (or no method, meaning plain) is accepted.",
    ),
    Control(
        "pkce_downgrade_check", "PKCE downgrade check",
        "A code_verifier sent for a code that was issued without a code_challenge is refused.",
        ("AS",), R(400, "invalid_grant"),
        "BCP §2.1.1, §4.8.2",
        "An attacker who strips the challenge from their own request gets a code with no PKCE "
        "binding; if the victim's client then sends its verifier with that code, the AS must "
        "notice the mismatch instead of ignoring the verifier.",
        off_behaviour="A verifier is ignored when the code carries no challenge.",
    ),
    Control(
        "exact_redirect_uri", "Exact redirect URI",
        "redirect_uri must be string-equal to a registered https URI.",
        ("AS",), R(400, "invalid_request", "error page, no redirect"),
        "BCP §2.1, §4.1.3; RFC 6749 §10.6; F1P1 §5.2.2",
        "Loose matching (a path prefix, any port on loopback) lets an attacker choose where the "
        "code is delivered: a page they control, or an open redirector on the client's own site.",
        off_behaviour="Path-prefix match; the port is ignored on loopback hosts.",
    ),
    Control(
        "response_type_code_only", "Code flow only",
        "The AS refuses token-bearing response types; the TPP takes tokens only from the token "
        "endpoint.",
        ("AS", "TPP"), R(400, "unsupported_response_type", "TPP abort"),
        "FAPI2 §5.3.2.2; BCP §2.1.2",
        "Tokens in the front channel (implicit and hybrid flows) end up in browser history, "
        "Referer headers and logs, and can be injected. The code flow keeps tokens on the back "
        "channel where the client authenticates.",
        # FAPI2 §5.3.2.2: "shall require the response_type value code".
        metadata={"response_types_supported": ["code"],
                  "response_modes_supported": ["query", "jwt", "query.jwt"]},
        off_behaviour="response_type 'token', 'id_token', 'code id_token' and the like are served.",
    ),
    # --- 2.3 Token endpoint, grants ---------------------------------------------------------
    Control(
        "ropc_disabled", "No password grant",
        "grant_type=password is refused.",
        ("AS",), R(400, "unsupported_grant_type"),
        "BCP §2.4; FAPI2 §5.3.2.1",
        "The password grant hands the user's bank password to the client and skips the bank's "
        "login page, its second factor and its consent screen.",
        # BCP §2.4: the password grant MUST NOT be used.
        metadata={"grant_types_supported": Edit(remove=("password",))},
        off_behaviour="grant_type=password issues tokens for a username and password.",
    ),
    Control(
        "code_single_use", "Single-use code",
        "A code can be redeemed once; a second redemption is refused and the tokens issued on "
        "the first one are revoked.",
        ("AS",), R(400, "invalid_grant"),
        "RFC 6749 §4.1.2; FAPI2 §5.3.2.2",
        "A captured token request can be replayed. If the code stays valid, the replay mints a "
        "second, independent set of tokens for whoever replayed it.",
        off_behaviour="A code can be redeemed again until it expires.",
    ),
    Control(
        "code_short_lifetime", "Code ≤ 60 s",
        "Authorization codes expire 60 s after issue (off: 10 minutes).",
        ("AS",), R(400, "invalid_grant"),
        "FAPI2 §5.3.2.1; RFC 6749 §4.1.2",
        "A short code lifetime shrinks the window in which a leaked code can be injected.",
        params={"lifetime": 60, "lifetime_off": 600},
        off_behaviour="Codes live 10 minutes.",
    ),
    Control(
        "code_client_binding", "Code bound to its client",
        "A code is redeemed only by the client it was issued to, with the same redirect_uri.",
        ("AS",), R(400, "invalid_grant"),
        "RFC 6749 §4.1.3",
        "Without the binding, any registered client — the attacker's own — can redeem a code "
        "issued to the TPP.",
        off_behaviour="Any authenticated client can redeem any code, with any redirect_uri.",
    ),
    Control(
        "refresh_token_client_binding", "Refresh token bound to its client",
        "A refresh token is accepted only from the client it was issued to.",
        ("AS",), R(400, "invalid_grant"),
        "RFC 6749 §6, §10.4",
        "A refresh token that leaks from the token leg would otherwise give any registered client "
        "long-lived access to the user's accounts.",
        off_behaviour="Any authenticated client can redeem any refresh token.",
    ),
    Control(
        "refresh_rotation_reuse_detection", "Rotation + reuse detection",
        "Each refresh returns a new refresh token; presenting a superseded one revokes the whole "
        "family.",
        ("AS",), R(400, "invalid_grant"),
        "BCP §4.14.2; RFC 6749 §10.4",
        "If an attacker and the TPP both hold the same refresh token, rotation means one of them "
        "will eventually present a superseded token — and the AS can then revoke everything. "
        "FAPI 2.0 forbids rotation (§5.3.2.1) because sender constraint does this job better.",
        off_behaviour="The same refresh token is returned and stays valid.",
    ),
    Control(
        "refresh_scope_check", "No scope growth on refresh",
        "A refresh request may only narrow the originally granted scope.",
        ("AS",), R(400, "invalid_scope"),
        "RFC 6749 §6",
        "A refresh must never grant more than the user consented to; otherwise whoever holds the "
        "refresh token can add payments:write without asking.",
        off_behaviour="The requested scope is granted as asked.",
    ),
    Control(
        "revocation_cascade", "Revocation cascades",
        "Revoking a grant kills its refresh tokens and marks its access tokens revoked.",
        ("AS",), R(400, "invalid_grant"),
        "RFC 7009 §2.1; FAPI2 §6.8",
        "When the user withdraws consent, every token minted under it must stop working; "
        "otherwise a copy of the refresh token lives on.",
        off_behaviour="Revoking a grant removes it from the list; its refresh tokens still work.",
    ),
    Control(
        "short_access_token_lifetime", "Access tokens ≤ 300 s",
        "Access tokens are issued with a 300 s lifetime (off: 3600 s).",
        ("AS",), R(401, "invalid_token", "at the bank"),
        "FAPI2 §6.1; F1P1 §5.2.2; RFC 9449 §11.2",
        "A short lifetime bounds how long a stolen token is useful.",
        requires=("token_expiry_check",),
        fires_via=("token_expiry_check",),
        params={"lifetime": 300, "lifetime_off": 3600},
        off_behaviour="Access tokens live one hour.",
    ),
    # --- 2.4 Tokens at the bank, JOSE, keys -------------------------------------------------
    Control(
        "token_expiry_check", "exp/nbf checked",
        "The bank refuses access tokens past exp or before nbf, with at most 10 s of skew.",
        ("bank",), R(401, "invalid_token"),
        "RFC 9068 §4; FAPI2 §5.3.4",
        "An expired token found in a log or a capture must be worthless.",
        params={"leeway": 10},
        off_behaviour="exp and nbf are not checked.",
    ),
    Control(
        "at_revocation_check", "Revocation status checked",
        "The bank checks, on every request, that the access token and its grant are not revoked.",
        ("bank",), R(401, "invalid_token"),
        "FAPI2 §5.3.4; F1P1 §6.2.1; RFC 7662",
        "A self-contained JWT stays cryptographically valid until it expires. Revocation only "
        "works if the resource server asks.",
        off_behaviour="A revoked but unexpired token keeps working until exp.",
    ),
    Control(
        "aud_check", "Audience",
        "The AS issues each token for one resource (its aud); the bank refuses tokens with "
        "another aud.",
        ("AS", "bank"), R(401, "invalid_token"),
        "RFC 9068 §4; BCP §2.3, §4.10.2; RFC 8707",
        "A token meant for one API (a rewards partner) must not be replayable at another (the "
        "bank): the receiving API could be the attacker.",
        off_behaviour="Tokens carry no audience and the bank accepts any.",
    ),
    Control(
        "scope_check", "Scope per endpoint",
        "Each bank endpoint requires its scope: accounts:read, transactions:read, payments:write.",
        ("bank",), R(403, "insufficient_scope"),
        "RFC 6750 §3.1; FAPI2 §5.3.4",
        "A token granted to read balances must not initiate payments.",
        off_behaviour="Any valid token reaches every endpoint.",
    ),
    Control(
        "consent_per_account", "Per-account consent",
        "The bank lists and serves only the accounts and permissions the user consented to.",
        ("bank",), R(403, "insufficient_scope"),
        "FAPI2 §5.3.4; F1P1 §6.2.1; BCP §2.3",
        "The user picked checking and savings, not the credit card. Consent is per account and "
        "per permission, and the resource server is where it is enforced.",
        off_behaviour="Every account of the user is listed and served.",
    ),
    Control(
        "alg_allow_list", "Algorithm allow-list",
        "Every JWS is verified only with an allowed algorithm: never none, never HMAC keyed with "
        "a public key.",
        ("AS", "bank", "TPP"),
        R(401, "invalid_token", "bank; AS invalid_client / invalid_request_object; TPP abort"),
        "RFC 8725 §3.1–3.2; FAPI2 §5.4.1; F1P2 §8.6",
        "If the verifier lets the token choose its own algorithm, 'alg: none' needs no signature "
        "and HS256 can be keyed with the AS's public key, which everybody has.",
        metadata={
            "id_token_signing_alg_values_supported": Param("algorithms"),
            "userinfo_signing_alg_values_supported": Param("algorithms", drop=("none",)),
            "token_endpoint_auth_signing_alg_values_supported": Param("algorithms"),
            "revocation_endpoint_auth_signing_alg_values_supported": Param("algorithms"),
            "introspection_endpoint_auth_signing_alg_values_supported": Param("algorithms"),
            "request_object_signing_alg_values_supported": Param("algorithms"),
        },
        params={"algorithms": list(algs.FAPI2)},
        profile_params={"oauth2": {"algorithms": ["RS256", "PS256", "ES256"]},
                        "fapi1-advanced": {"algorithms": list(algs.FAPI1)},
                        "fapi2-security": {"algorithms": list(algs.FAPI2)},
                        "fapi2-message-signing": {"algorithms": list(algs.FAPI2)}},
        off_behaviour="The verifier uses whatever alg the header names, including none and HS256.",
    ),
    Control(
        "trusted_keys_only", "Pinned keys",
        "Only the issuer's jwks_uri (or a client's registered JWKS) is trusted; jwk/jku/x5u/x5c "
        "headers are ignored; an unknown kid triggers one refresh, then refusal.",
        ("AS", "bank", "TPP"), R(401, "invalid_token"),
        "FAPI2 §5.4.2; OIDC §10.1",
        "A token that carries its own verification key proves only that somebody signed it.",
        off_behaviour="A key embedded in the JWS header (jwk) is used to verify it.",
    ),
    # --- 2.6 TPP checks ---------------------------------------------------------------------
    Control(
        "tpp_checks_state", "state bound to the session",
        "The TPP's callback accepts only the state of a flow pending in this browser session, "
        "once.",
        ("TPP",), R(400, "state_mismatch", "TPP abort"),
        "RFC 6749 §10.12; BCP §4.7.1",
        "Without state (or PKCE) the redirect endpoint is open to CSRF: an attacker can make the "
        "victim's browser deliver the attacker's code and link the attacker's account.",
        off_behaviour="A callback without a matching pending flow is accepted; the TPP forwards "
                      "the code without a verifier and lets the AS decide.",
    ),
    Control(
        "tpp_checks_nonce", "ID token nonce",
        "The ID token's nonce must equal the one the session sent.",
        ("TPP",), R(400, "nonce_mismatch", "TPP abort"),
        "OIDC §3.1.3.7; BCP §4.5.3.2; F1P1 §5.2.2.2",
        "The nonce ties the ID token — and so the code it came with — to this session, which "
        "stops injected codes in OpenID Connect flows.",
        off_behaviour="The nonce is not compared.",
    ),
    Control(
        "tpp_id_token_validation", "ID token validation",
        "Signature, iss, aud, azp, exp and iat freshness of the ID token are checked.",
        ("TPP",), R(400, "id_token_invalid", "TPP abort"),
        "OIDC §3.1.3.7, §16.11",
        "An ID token issued to another client, by another issuer, or long ago must not sign "
        "anybody in.",
        off_behaviour="The ID token's claims are read without verification.",
    ),
    Control(
        "tpp_checks_granted_scope", "Granted ⊆ requested scope",
        "If the token response grants more scope than the TPP asked for, the TPP discards and "
        "revokes it.",
        ("TPP",), R(400, "scope_mismatch", "TPP abort"),
        "F1P1 §5.2.2, §5.2.3; RFC 6749 §5.1",
        "A tampered authorization request can widen what the user approves; the client notices "
        "when the granted scope exceeds what it asked for.",
        off_behaviour="Whatever scope is granted is kept.",
    ),
    Control(
        "tpp_no_open_redirect", "No open redirector",
        "The TPP's /go endpoint redirects only to an allow-list and forwards no parameters.",
        ("TPP",), R(400, "invalid_request", "TPP refuses the redirect"),
        "BCP §4.11.1; FAPI2 §5.3.3.1",
        "An open redirector on the client's own origin turns a prefix-matched redirect_uri into "
        "a path for codes to reach the attacker.",
        off_behaviour="/go?url=… redirects anywhere, query string included.",
    ),
    Control(
        "tpp_referrer_policy", "No credential in Referer",
        "The callback is handled server-side first, with Referrer-Policy: no-referrer and a 303 "
        "to a clean URL.",
        ("TPP",), R(None, None, "prevented event"),
        "BCP §4.2.4",
        "A callback page that renders with ?code=… in its URL leaks the code in the Referer of "
        "every third-party resource it loads.",
        kind="preventive",
        off_behaviour="The callback renders an interstitial that loads a partner image and "
                      "redeems the code by script.",
    ),
    # --- 2.7 Authentication -----------------------------------------------------------------
    Control(
        "mfa_required", "Second factor",
        "Login needs a second factor (TOTP, or a code sent to the SMS inbox); password-only "
        "paths, including the password grant, are refused.",
        ("AS",), R(400, "invalid_grant", "login page asks for the code; ROPC invalid_grant"),
        "PSD2 Art. 97; RTS Art. 4; F1P1 §5.2.2 (LoA)",
        "A phished or reused password alone must not link a person's bank accounts: strong "
        "customer authentication wants two independent factors.",
        off_behaviour="The password alone signs the user in.",
    ),
)

# Each area keeps its controls in its own module (attacks.md §2.2–§2.7); one line each here.
from .catalog_audit import AUDIT_CONTROLS  # noqa: E402
from .catalog_fapi2 import FAPI2_CONTROLS  # noqa: E402
from .catalog_httpsig import HTTPSIG_CONTROLS  # noqa: E402
from .catalog_jar import JAR_CONTROLS  # noqa: E402
from .catalog_jarm import JARM_CONTROLS  # noqa: E402
from .catalog_keys import KEYS_CONTROLS  # noqa: E402
from .catalog_loginrisk import LOGINRISK_CONTROLS  # noqa: E402
from .catalog_monitor import MONITOR_CONTROLS  # noqa: E402
from .catalog_negatives import NEGATIVES_CONTROLS  # noqa: E402
from .catalog_payments import PAYMENTS_CONTROLS  # noqa: E402
from .catalog_ppid import PPID_CONTROLS  # noqa: E402
from .catalog_stepup import STEPUP_CONTROLS  # noqa: E402

CONTROLS = (
    CONTROLS
    + FAPI2_CONTROLS
    + AUDIT_CONTROLS
    + LOGINRISK_CONTROLS
    + KEYS_CONTROLS
    + STEPUP_CONTROLS
    + PAYMENTS_CONTROLS
    + JARM_CONTROLS
    + MONITOR_CONTROLS
    + JAR_CONTROLS
    + NEGATIVES_CONTROLS
    + HTTPSIG_CONTROLS
    + PPID_CONTROLS
)

BY_ID: dict[str, Control] = {c.id: c for c in CONTROLS}


def get(control_id: str) -> Control:
    try:
        return BY_ID[control_id]
    except KeyError:
        raise KeyError(f"unknown control {control_id!r}") from None
