"""What each JWT header field and claim protects against, with its spec section and control.

Keyed by token kind where the meaning differs ("aud" of an access token is the API it is
for; of a client assertion, the AS it authenticates to); "*" is every other kind. Spec
abbreviations as in lab/controls/catalog.py: FAPI2 (FAPI 2.0 Security Profile), F1P2 (FAPI
1.0 Advanced), OIDC (OpenID Connect Core 1.0), JARM, BCP (RFC 9700).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ANY = "*"


@dataclass(frozen=True)
class Note:
    text: str
    spec: str
    control: str = ""


N = Note

HEADER: dict[str, dict[str, Note]] = {
    "alg": {
        ANY: N("How it is signed. The verifier picks the algorithms it accepts; if the header "
               "decides, 'none' or HS256 keyed with a public key walks in.",
               "RFC 8725 §3.1; FAPI2 §5.4.1", "alg_allow_list"),
        "dpop_proof": N("Must be asymmetric, so only the holder of the private key can make a "
                        "proof.", "RFC 9449 §4.2, §4.3", "alg_allow_list"),
    },
    "kid": {
        ANY: N("Which of the issuer's published keys verifies it. The key comes from the "
               "issuer's JWKS, never from the token, so a forger cannot bring their own.",
               "RFC 7515 §4.1.4; FAPI2 §5.4.2", "trusted_keys_only"),
    },
    "typ": {
        ANY: N("Explicit typing: says what the JWT is for, so one kind of JWT cannot be "
               "passed off as another signed by the same key.", "RFC 8725 §3.11"),
        "access_token": N("at+jwt marks an access token: an ID token (or any other JWT from "
                          "this AS) cannot be used as one at the bank.",
                          "RFC 9068 §2.1, §4; RFC 8725 §3.11"),
        "id_token": N("An ID token is not an access token; a resource server that checks for "
                      "at+jwt refuses it.", "RFC 9068 §4; RFC 8725 §3.11"),
        "dpop_proof": N("dpop+jwt: a proof cannot be mistaken for any other JWT the client "
                        "signs, nor another JWT for a proof.", "RFC 9449 §4.2, §4.3"),
        "request_object": N("oauth-authz-req+jwt: a signed request cannot be replayed as "
                            "another kind of JWT.", "RFC 9101 §4, §10.8"),
        "client_assertion": N("RFC 7523 needs no typ; explicit typing stops another JWT of "
                              "the client being replayed as its assertion.",
                              "RFC 7523 §3; draft-ietf-oauth-rfc7523bis"),
    },
    "jwk": {
        ANY: N("A key carried by the token itself. A verifier that uses it accepts whatever a "
               "forger signs with their own key; only the issuer's keys count.",
               "RFC 7515 §4.1.3; RFC 8725 §3.10; FAPI2 §5.4.2", "trusted_keys_only"),
        "dpop_proof": N("The public key the proof is signed with. Its thumbprint (jkt) is what "
                        "the access token's cnf.jkt names: a stolen token is useless without "
                        "the private key.", "RFC 9449 §4.2, §6.1", "dpop_bound_tokens"),
    },
    "jku": {ANY: N("A URL to fetch the key from, chosen by whoever made the token: a "
                   "verifier that follows it lets the forger pick the key.",
                   "RFC 7515 §4.1.2; RFC 8725 §3.10", "trusted_keys_only")},
    "x5u": {ANY: N("A URL to a certificate chain, chosen by the token's maker: not a trust "
                   "anchor.", "RFC 7515 §4.1.5; RFC 8725 §3.10", "trusted_keys_only")},
    "x5c": {ANY: N("A certificate chain inside the token: trusted only if it chains to an "
                   "anchor the verifier already holds.", "RFC 7515 §4.1.6",
                   "trusted_keys_only")},
    "x5t#S256": {ANY: N("SHA-256 thumbprint of the signer's certificate: a hint for choosing "
                        "the key, not proof of anything.", "RFC 7515 §4.1.8")},
    "crit": {ANY: N("Extensions the verifier must understand, or reject the token.",
                    "RFC 7515 §4.1.11")},
}

_ISS_AS = N("Who issued it. Checked against the AS the client talks to: a token from another "
            "AS (mix-up) is refused, and iss picks the keys.",
            "RFC 9068 §4; OIDC §3.1.3.7; RFC 8725 §3.8")
_CLIENT_ISS = N("The client's client_id: the AS verifies with that client's registered key, so "
                "only that client can sign.", "RFC 7523 §3", "private_key_jwt_only")

CLAIMS: dict[str, dict[str, Note]] = {
    "iss": {
        ANY: N("Who issued it; the verifier checks it names an issuer it trusts.",
               "RFC 7519 §4.1.1; RFC 8725 §3.8"),
        "access_token": _ISS_AS, "jarm_response": _ISS_AS,
        "id_token": N(_ISS_AS.text, "OIDC §3.1.3.7", "tpp_id_token_validation"),
        "client_assertion": _CLIENT_ISS,
        "request_object": N("The client that signed the request; the AS checks its key.",
                            "RFC 9101 §4"),
    },
    "sub": {
        ANY: N("Whom the token is about.", "RFC 7519 §4.1.2"),
        "access_token": N("The user the token acts for: the bank serves only that user's "
                          "accounts.", "RFC 9068 §2.2"),
        "id_token": N("The user's stable identifier at this AS; with iss, the only safe key "
                      "for the user (not the e-mail address).", "OIDC §2, §5.7"),
        "client_assertion": N("Equals the client_id: the assertion authenticates the client "
                              "itself.", "RFC 7523 §3"),
    },
    "aud": {
        ANY: N("Whom the token is for; a recipient refuses tokens meant for someone else.",
               "RFC 7519 §4.1.3; RFC 8725 §3.9"),
        "access_token": N("The API it is for. The bank refuses tokens for another API, so a "
                          "token handed to one (maybe hostile) API cannot be replayed at the "
                          "bank.", "RFC 9068 §4; RFC 8707", "aud_check"),
        "id_token": N("Must contain this client's client_id: an ID token issued to another "
                      "app (the attacker's) cannot sign anybody in here.", "OIDC §3.1.3.7",
                      "tpp_id_token_validation"),
        "client_assertion": N("The AS it authenticates to, as its issuer identifier: an "
                              "assertion sent to a rogue AS cannot be replayed at the honest "
                              "one.", "RFC 7523 §3; FAPI2 §5.3.2.1",
                              "client_assertion_aud_check"),
        "request_object": N("The AS the request is for: it cannot be replayed at another AS.",
                            "RFC 9101 §4"),
        "jarm_response": N("The client the response is for: another client cannot use it.",
                           "JARM §2.1, §4.4"),
    },
    "exp": {
        ANY: N("After this, the token is worthless.", "RFC 7519 §4.1.4"),
        "access_token": N("After this, the token is worthless: it bounds how long a stolen "
                          "token can be replayed.", "RFC 9068 §4; FAPI2 §5.3.4",
                          "token_expiry_check"),
        "id_token": N("The client refuses an expired ID token.", "OIDC §3.1.3.7",
                      "tpp_id_token_validation"),
        "client_assertion": N("Short (60 s in the lab): a captured assertion is soon useless.",
                              "RFC 7523 §3; OIDC §9"),
        "request_object": N("A signed request expires: a captured one is soon useless.",
                            "F1P2 §5.2.2"),
        "jarm_response": N("A signed response expires: a leaked one is soon useless.",
                           "JARM §2.1"),
    },
    "iat": {
        ANY: N("When it was issued.", "RFC 7519 §4.1.6"),
        "dpop_proof": N("When the proof was made: the server takes only fresh proofs, so one "
                        "made in advance, or captured, expires in seconds.",
                        "RFC 9449 §4.3, §11.1", "dpop_iat_window"),
        "id_token": N("Lets the client refuse ID tokens issued long ago.", "OIDC §3.1.3.7",
                      "tpp_id_token_validation"),
    },
    "nbf": {ANY: N("Not valid before this time.", "RFC 7519 §4.1.5")},
    "jti": {
        ANY: N("A unique identifier: lets a recipient notice a replay.", "RFC 7519 §4.1.7"),
        "dpop_proof": N("Unique per proof; the server remembers it, so a captured proof "
                        "cannot be sent again.", "RFC 9449 §4.3, §11.1", "dpop_jti_replay"),
        "client_assertion": N("Unique per assertion; the AS accepts each once, so a captured "
                              "assertion cannot be replayed.", "RFC 7523 §3; OIDC §9",
                              "client_assertion_jti_single_use"),
        "access_token": N("The token's own identifier: the AS and the bank can track it and "
                          "mark it revoked.", "RFC 9068 §2.2", "at_revocation_check"),
    },
    "cnf.jkt": {ANY: N("Binds the token to the client's DPoP key (the thumbprint of its public "
                       "key): the bank wants a proof signed with that key on every request, "
                       "so a stolen token alone is useless.", "RFC 9449 §6.1; RFC 7800 §3.1",
                       "dpop_bound_tokens")},
    "cnf.x5t#S256": {ANY: N("Binds the token to the client's TLS certificate (its SHA-256 "
                            "thumbprint): the bank accepts it only on a connection made with "
                            "that certificate.", "RFC 8705 §3.1", "mtls_bound_tokens")},
    "ath": {ANY: N("Hash of the access token sent beside the proof: a proof made for one "
                   "token cannot be reused with another.", "RFC 9449 §4.2, §7.1",
                   "dpop_proof_binding")},
    "htm": {ANY: N("The HTTP method the proof was made for: it cannot be replayed with "
                   "another method.", "RFC 9449 §4.2, §4.3", "dpop_proof_binding")},
    "htu": {ANY: N("The URL (without query and fragment) the proof was made for: a captured "
                   "proof cannot be replayed at another endpoint.", "RFC 9449 §4.2, §4.3",
                   "dpop_proof_binding")},
    "nonce": {
        ANY: N("A one-time value chosen by the party that will check it: a replay carries a "
               "stale one.", "OIDC §3.1.2.1; RFC 9449 §8"),
        "dpop_proof": N("A value the server chose: proofs cannot be signed in advance, since "
                        "nobody knows the next nonce.", "RFC 9449 §8, §9, §11.2", "dpop_nonce"),
        "id_token": N("Echoes the nonce of the client's request: ties the ID token (and its "
                      "code) to this browser session, stopping replay and code injection.",
                      "OIDC §3.1.2.1, §3.1.3.7", "tpp_checks_nonce"),
        "request_object": N("The nonce the ID token must echo back.", "OIDC §3.1.2.1",
                            "tpp_checks_nonce"),
    },
    "scope": {
        ANY: N("What is asked for or granted.", "RFC 6749 §3.3"),
        "access_token": N("What the token may do: the bank checks it per endpoint, so a token "
                          "to read balances cannot pay.", "RFC 9068 §2.2.3; RFC 6750 §3.1",
                          "scope_check"),
        "request_object": N("What the client asks for; signed (or pushed), it cannot be "
                            "widened in the browser.", "RFC 9101 §1; RFC 9126 §1",
                            "par_required"),
    },
    "client_id": {
        ANY: N("The client concerned.", "RFC 6749 §2.2"),
        "access_token": N("The client the token was issued to.", "RFC 9068 §2.2"),
        "request_object": N("Must equal the client_id outside the object: the AS verifies with "
                            "that client's key.", "RFC 9101 §5"),
    },
    "authorization_details": {ANY: N(
        "Fine-grained permission (one payment, this amount, this creditor): a token for €10 "
        "to Bob cannot pay €1000 to Mallory.", "RFC 9396 §2, §9.1")},
    "acr": {ANY: N("How strongly the user signed in (with a second factor or not): an API can "
                   "demand more before a payment.", "OIDC §2; RFC 9068 §2.2.1; RFC 9470",
                   "mfa_required")},
    "amr": {ANY: N("Which methods the user signed in with (pwd, otp).", "RFC 8176; OIDC §2")},
    "auth_time": {ANY: N("When the user last signed in: a client or API can ask for a fresh "
                         "login before something sensitive.", "OIDC §2; RFC 9068 §2.2.1")},
    "azp": {ANY: N("The client the ID token was issued to; must be this client.",
                   "OIDC §2, §3.1.3.7", "tpp_id_token_validation")},
    "at_hash": {ANY: N("Hash of the access token issued with it: the client notices a "
                       "swapped access token.", "OIDC §3.3.2.11")},
    "c_hash": {ANY: N("Hash of the code in a hybrid response: the signed ID token vouches for "
                      "the code, so an injected code is noticed.", "OIDC §3.3.2.11; F1P2 §5.1.1")},
    "s_hash": {ANY: N("Hash of state: the signed ID token vouches for state too.",
                      "F1P2 §5.1.1")},
    "grant_id": {ANY: N("The grant the token came from: revoking the grant stops its tokens.",
                        "FAPI Grant Management (grant_id)", "revocation_cascade")},
    "response_type": {ANY: N("What the AS returns; 'code' keeps tokens out of the browser.",
                             "RFC 6749 §3.1.1; FAPI2 §5.3.2.2", "response_type_code_only")},
    "redirect_uri": {ANY: N("Where the code goes; signed or pushed, and matched exactly, it "
                            "cannot be swapped for an attacker's page.",
                            "RFC 6749 §10.6; BCP §4.1", "exact_redirect_uri")},
    "state": {
        ANY: N("Comes back to the client: ties the response to the browser session that "
               "started the flow (CSRF).", "RFC 6749 §10.12", "tpp_checks_state"),
        "jarm_response": N("Inside the signed response, it cannot be swapped in the browser.",
                           "JARM §2.1, §4.4", "tpp_checks_state"),
    },
    "code": {ANY: N("The authorization code, inside a signed response: it cannot be swapped "
                    "in the browser, and iss and aud say who made it for whom.",
                    "JARM §2.1, §4.4")},
    "code_challenge": {ANY: N("Hash of the client's secret code_verifier: only the party that "
                              "started the flow can redeem the code.", "RFC 7636 §4.2",
                              "pkce_required")},
    "code_challenge_method": {ANY: N("S256: the challenge reveals nothing; 'plain' would give "
                                     "the verifier away.", "RFC 7636 §4.2, §7.2",
                                     "pkce_s256_only")},
    "dpop_jkt": {ANY: N("Binds the code to the DPoP key of the token request: a stolen code "
                        "cannot be redeemed with another key.", "RFC 9449 §10",
                        "dpop_bound_tokens")},
    "response_mode": {ANY: N("How the response comes back; 'jwt' (JARM) signs it.",
                             "JARM §2.3")},
    "max_age": {ANY: N("Asks for a login no older than this.", "OIDC §3.1.2.1")},
    "prompt": {ANY: N("Asks for a fresh login or consent.", "OIDC §3.1.2.1")},
}


def _pick(table: dict[str, dict[str, Note]], name: str, kind: str) -> Note | None:
    notes = table.get(name)
    if notes is None:
        return None
    return notes.get(kind) or notes.get(ANY)


def header_note(name: str, kind: str) -> Note | None:
    return _pick(HEADER, name, kind)


def claim_note(name: str, kind: str, value: Any = None) -> Note | None:
    """The note for a claim; cnf by what it binds to (jkt: DPoP, x5t#S256: a certificate)."""
    if name == "cnf" and isinstance(value, dict):
        member = "jkt" if "jkt" in value else "x5t#S256" if "x5t#S256" in value else ""
        return _pick(CLAIMS, f"cnf.{member}", kind) if member else None
    return _pick(CLAIMS, name, kind)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"),
                                                           ensure_ascii=False, default=str)
    return text if len(text) <= 400 else text[:400] + "…"


def _rows(values: dict[str, Any], note: Callable[[str, Any], Note | None],
          times: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for name, value in values.items():
        found = note(str(name), value)
        shown = _shown(value)
        if name in times:
            shown = f"{shown} — {times[name]}"
        rows.append({"field": str(name), "value": shown,
                     "protects against": found.text if found else "",
                     "spec": found.spec if found else "",
                     "control": found.control if found else ""})
    return rows


def header_rows(header: dict[str, Any], kind: str) -> list[dict[str, str]]:
    """The JOSE header as table rows: field, value, what it protects against, spec, control."""
    return _rows(header, lambda name, _value: header_note(name, kind), {})


def claim_rows(claims: dict[str, Any], kind: str, times: dict[str, str] | None = None
               ) -> list[dict[str, str]]:
    """The claims as table rows; time claims carry their value in words (`times`)."""
    return _rows(claims, lambda name, value: claim_note(name, kind, value), times or {})
