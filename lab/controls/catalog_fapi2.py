"""Controls of the FAPI 2.0 Security Profile: PAR, DPoP, mutual TLS, private_key_jwt, `iss`.

Ids, refusals, specs and profile marks from ../shared/attacks.md §2.2, §2.3, §2.5, §2.6.
"""

from __future__ import annotations

from lab.jose import algs

from .model import Control, Edit, Param, Refusal

R = Refusal

# Client authentication methods (RFC 8414 §2, RFC 8705 §2): the ones a shared secret (or
# nothing) authenticates, and the mutual-TLS ones.
SECRET_METHODS = ("client_secret_basic", "client_secret_post", "none")
MTLS_METHODS = ("tls_client_auth", "self_signed_tls_client_auth")
AUTH_METHOD_KEYS = ("token_endpoint_auth_methods_supported",
                    "revocation_endpoint_auth_methods_supported",
                    "introspection_endpoint_auth_methods_supported")

FAPI2_CONTROLS: tuple[Control, ...] = (
    # --- 2.2 Authorization endpoint and PAR -------------------------------------------------
    Control(
        "par_required", "PAR required",
        "The authorization endpoint accepts only client_id plus a request_uri from the PAR "
        "endpoint; PAR itself needs client authentication and a redirect_uri.",
        ("AS",), R(400, "invalid_request"),
        "RFC 9126 §2.1, §5; FAPI2 §5.3.2.2",
        "Parameters in the front channel can be read and changed by anything between the user "
        "and the bank (a browser extension, a proxy, a crafted link). Pushing them over the "
        "authenticated back channel means the AS only acts on what the client itself sent.",
        # RFC 9126 §5: "require_pushed_authorization_requests".
        metadata={"require_pushed_authorization_requests": True},
        off_behaviour="Authorization requests with all their parameters in the URL are served.",
    ),
    Control(
        "request_uri_single_use", "request_uri single use, 60 s",
        "A request_uri is consumed at first use and lives 60 s (param consume_at: 'load' = "
        "first render of the login page, the stricter default a lesson can switch on; "
        "'authorization' = when the code is issued, what fapi2-security and "
        "fapi2-message-signing set, as FAPI2 §5.3.2.2 note 3 lets the user reload the page).",
        ("AS",), R(400, "invalid_request_uri"),
        "RFC 9126 §4; FAPI2 §5.3.2.2 (note 3), §6.4; OIDC §3.1.2.6",
        "A request_uri that leaks (logs, a shoulder, a proxy) can be opened by somebody else "
        "while the victim is still on the login page; one use and a short life close that "
        "window. FAPI 2.0 itself only requires < 600 s.",
        params={"consume_at": "load", "lifetime": 60, "lifetime_off": 590},
        # FAPI2 §5.3.2.2 note 3: a reload before authentication completes must work (the
        # conformance suite warns when a reused request_uri is refused before that point).
        profile_params={p: {"consume_at": "authorization"}
                        for p in ("fapi2-security", "fapi2-message-signing")},
        off_behaviour="A request_uri can be used again until it expires (590 s).",
    ),
    Control(
        "iss_response_param", "iss in the authorization response",
        "The AS adds its issuer identifier as `iss` to every authorization response.",
        ("AS",), R(None, None, "enabler: checked by tpp_checks_iss"),
        "RFC 9207 §2, §3; FAPI2 §5.3.2.2",
        "A client that talks to several banks must know which one answered. The `iss` "
        "parameter tells it, so it can spot a response that came back from the wrong place.",
        kind="enabler",
        # RFC 9207 §3: "authorization_response_iss_parameter_supported".
        metadata={"authorization_response_iss_parameter_supported": True},
        off_behaviour="Authorization responses carry no iss.",
    ),
    # --- 2.3 Client authentication ----------------------------------------------------------
    Control(
        "private_key_jwt_only", "Asymmetric client auth",
        "client_secret_* and none are refused at the token, PAR, revocation and introspection "
        "endpoints; only private_key_jwt (or mTLS, when mtls_client_auth is on) is accepted, "
        "so only confidential clients remain.",
        ("AS",), R(401, "invalid_client"),
        "FAPI2 §5.3.2.1; F1P2 §5.2.2; OIDC §9; BCP §2.5",
        "A shared secret travels with every request and sits in config files and backups: "
        "once it leaks, anyone can be the client. With private_key_jwt the client proves it "
        "holds a key that never leaves it.",
        # FAPI2 §5.3.2.1: "shall only support confidential clients" (MTLS or private_key_jwt).
        metadata=dict.fromkeys(AUTH_METHOD_KEYS, Edit(remove=SECRET_METHODS)),
        off_behaviour="client_secret_basic, client_secret_post and none are accepted.",
    ),
    Control(
        "mtls_client_auth", "mTLS client auth",
        "tls_client_auth (a lab-CA certificate with the registered subject) and "
        "self_signed_tls_client_auth (a certificate in the client's registered JWKS) "
        "authenticate the client; secrets are refused.",
        ("AS",), R(401, "invalid_client"),
        "RFC 8705 §2; FAPI2 §5.3.2.1",
        "The client proves itself with the TLS handshake: nothing reusable crosses the wire.",
        metadata=dict.fromkeys(AUTH_METHOD_KEYS, Edit(add=MTLS_METHODS, remove=SECRET_METHODS)),
        off_behaviour="tls_client_auth and self_signed_tls_client_auth are not offered.",
    ),
    Control(
        "client_assertion_jti_single_use", "Assertion used once",
        "A client assertion's jti is accepted once (atomically across workers), and "
        "exp − iat must be at most 60 s.",
        ("AS",), R(401, "invalid_client"),
        "OIDC §9; RFC 7523 §3",
        "A client assertion read from a log or proxy could be presented again by someone else "
        "while it is valid; remembering its jti makes it worthless after first use.",
        off_behaviour="The same assertion is accepted until it expires.",
    ),
    Control(
        "client_assertion_aud_check", "Assertion audience",
        "The assertion's aud must name this AS: its issuer identifier (its endpoint URLs are "
        "also accepted unless param issuer_only is set).",
        ("AS",), R(401, "invalid_client"),
        "RFC 7523 §3; FAPI2 §5.3.2.1; draft-ietf-oauth-rfc7523bis",
        "An assertion made for another server (a rogue AS the client also talks to) must not "
        "authenticate the client here.",
        params={"issuer_only": False},
        off_behaviour="Any aud is accepted.",
    ),
    Control(
        "tpp_assertion_aud_issuer", "TPP sends the issuer as aud",
        "The TPP puts the AS's issuer identifier (a string) in its assertions' aud, never an "
        "endpoint URL taken from metadata.",
        ("TPP",), R(None, None, "fires via client_assertion_aud_check"),
        "FAPI2 §5.3.3.1; draft-ietf-oauth-rfc7523bis",
        "If the client addresses assertions to an endpoint URL, a rogue AS whose metadata names "
        "the honest bank's token endpoint collects assertions valid at the honest bank.",
        fires_via=("client_assertion_aud_check",),
        off_behaviour="The TPP uses the endpoint URL it is posting to as aud.",
    ),
    # --- 2.5 Sender-constrained tokens ------------------------------------------------------
    Control(
        "dpop_bound_tokens", "DPoP binding",
        "The AS needs a valid DPoP proof (typ dpop+jwt, asymmetric alg, signature, public key "
        "only) at the token and PAR endpoints, issues cnf.jkt and token_type=DPoP, and "
        "remembers dpop_jkt (compared by dpop_jkt_binding); the bank needs Authorization: DPoP "
        "with a proof from the bound key and refuses the token as Bearer.",
        ("AS", "bank"), R(401, "invalid_token", "AS: invalid_dpop_proof; bank: invalid_token"),
        "RFC 9449 §4.3, §5, §6.1, §7.1–7.2, §10; FAPI2 §5.3.2.1, §5.3.4",
        "A bearer token works for whoever holds it. A DPoP-bound token works only with a proof "
        "signed by the client's private key, which never travels: a stolen token is useless.",
        # RFC 9449 §5.1: "dpop_signing_alg_values_supported": the proof algorithms, i.e. the
        # allow-list's asymmetric ones (any asymmetric one while the allow-list is off).
        metadata={
            "dpop_signing_alg_values_supported": Param(
                "algorithms", control="alg_allow_list", keep=algs.ASYMMETRIC,
                otherwise=algs.ASYMMETRIC),
            # RFC 9449 only says DPoP is supported; draft-emelia-oauth-as-metadata-dpop-required
            # (the AS twin of RFC 9728 §2's dpop_bound_access_tokens_required) says it is
            # required, as it is here: a token request without a proof (and not
            # certificate-bound) is refused. FinLens reads it and adapts.
            "dpop_bound_access_tokens_required": True,
        },
        off_behaviour="Tokens are bearer tokens; DPoP headers are ignored.",
    ),
    Control(
        "dpop_proof_binding", "Proof bound to request and token",
        "The proof's htm and htu (normalised, no query or fragment) must match the request, "
        "and at the bank its ath must be the hash of the access token.",
        ("AS", "bank"), R(400, "invalid_dpop_proof", "bank: 401 invalid_dpop_proof"),
        "RFC 9449 §4.3, §7",
        "A proof captured with one request must not authorise another URL, method or token.",
        requires=("dpop_bound_tokens",),
        off_behaviour="Any valid proof from the right key is accepted, whatever it was made for.",
    ),
    Control(
        "dpop_iat_window", "Proof freshness",
        "The proof's iat must lie in [now − 60 s, now + 10 s] (lab clock).",
        ("AS", "bank"), R(400, "invalid_dpop_proof", "bank: 401 invalid_dpop_proof"),
        "RFC 9449 §4.3, §11.1; FAPI2 §5.3.2.1",
        "Old proofs lying in logs must not work; the window bounds how long a captured proof "
        "stays usable.",
        requires=("dpop_bound_tokens",),
        params={"past": 60, "future": 10},
        off_behaviour="A proof of any age is accepted.",
    ),
    Control(
        "dpop_jti_replay", "Proof jti cache",
        "Each proof jti is accepted once per URI within the iat window (atomic across workers).",
        ("AS", "bank"), R(400, "invalid_dpop_proof", "bank: 401 invalid_dpop_proof"),
        "RFC 9449 §11.1; FAPI2 §6.2",
        "A proof is not a signature over the request: inside its window the very same request "
        "can be replayed. Remembering jti values stops the replay.",
        requires=("dpop_bound_tokens",),
        off_behaviour="A proof can be replayed verbatim within its iat window.",
    ),
    Control(
        "dpop_nonce", "Server nonces",
        "Every proof must carry the current server-provided nonce; without it the server "
        "answers use_dpop_nonce with a fresh DPoP-Nonce header.",
        ("AS", "bank"), R(400, "use_dpop_nonce", "bank: 401 use_dpop_nonce"),
        "RFC 9449 §8, §9, §11.2–11.3; FAPI2 §5.3.2.1, §5.3.3.1",
        "Proofs signed in advance (by an insider who briefly held the key) stop working once "
        "the server demands a nonce it chose recently.",
        requires=("dpop_bound_tokens",),
        params={"lifetime": 120},
        off_behaviour="Proofs without a nonce are accepted.",
    ),
    Control(
        "mtls_bound_tokens", "Certificate binding",
        "Tokens issued over mutual TLS carry cnf.x5t#S256; the bank compares it with the TLS "
        "client certificate of the request.",
        ("AS", "bank"), R(401, "invalid_token"),
        "RFC 8705 §3, §3.1; F1P2 §5.2.2, §8.2; FAPI2 §5.3.2.1",
        "The token works only over a TLS connection authenticated with the client's "
        "certificate, whose private key never leaves the client.",
        # RFC 8705 §3.3: "tls_client_certificate_bound_access_tokens".
        metadata={"tls_client_certificate_bound_access_tokens": True},
        off_behaviour="Tokens are not bound to the certificate.",
    ),
    Control(
        "tpp_per_as_keys", "Per-institution keys",
        "The TPP uses a distinct DPoP key and client certificate for each institution.",
        ("TPP",), R(None, None, "fires via the binding controls"),
        "FAPI2 §6.3",
        "With one key for every bank, a rogue bank can hand the TPP a token stolen from the "
        "honest bank, and the TPP will present it there with a valid proof (the cuckoo's "
        "token). Separate keys make the proof fail.",
        fires_via=("dpop_bound_tokens", "mtls_bound_tokens"),
        off_behaviour="One DPoP key and one certificate for all institutions.",
    ),
    # --- 2.6 TPP checks ---------------------------------------------------------------------
    Control(
        "tpp_checks_iss", "Mix-up check",
        "The response's iss (the parameter, or the claim of a JARM response) must equal the "
        "issuer the flow was started with; a response without iss is refused when the AS "
        "advertises it. That issuer is the one FinLens fetched the discovery document from: "
        "a document naming another issuer is refused and not used.",
        ("TPP",), R(400, "mix_up_detected", "TPP abort"),
        "RFC 9207 §2.4; BCP §4.4.2.1; FAPI2 §5.3.3.2; RFC 8414 §3.3; OIDC Discovery §4.3",
        "A client of several banks sends the code to the token endpoint of the bank it thinks "
        "answered. A malicious bank can make an honest bank's code land at its own token "
        "endpoint — unless the client checks who really answered, against an issuer the "
        "malicious bank could not choose (its discovery document may claim the honest one).",
        # attacks.md §2.8: requires iss_response_param or jarm (RFC 9207 §2.4, JARM §4.4).
        requires=("iss_response_param",), requires_alternatives={"iss_response_param": ("jarm",)},
        off_behaviour="The TPP trusts that the response came from the bank it asked, and "
                      "takes the issuer to expect from whatever the discovery document says.",
    ),
)
