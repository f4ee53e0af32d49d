"""JWS algorithm names: the FAPI 2.0 allow-list and the families around it (data only).

A leaf module, so the controls catalog can name its default without an import cycle.
"""

from __future__ import annotations

# FAPI2 §5.4.1: "shall use PS256, ES256 or EdDSA (using the Ed25519 variant)" — the default of
# the alg_allow_list control's `algorithms` parameter, and the fapi2-security profile's value.
FAPI2: tuple[str, ...] = ("PS256", "ES256", "EdDSA")
# F1P2 §8.6: "shall use PS256 or ES256 algorithms" — the fapi1-advanced profile's value.
FAPI1: tuple[str, ...] = ("PS256", "ES256")
# Every asymmetric JWS alg PyJWT verifies: what a proof (RFC 9449 §4.3) or a client assertion
# (OIDC §9) may use when the allow-list is off. HMAC and none never count.
ASYMMETRIC: tuple[str, ...] = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
                               "RS256", "RS384", "RS512")
HMAC: tuple[str, ...] = ("HS256", "HS384", "HS512")
# The headers by which a JWS can bring its own verification key (RFC 7515 §4.1.2–4.1.6).
EMBEDDED_KEY_HEADERS: tuple[str, ...] = ("jwk", "jku", "x5u", "x5c")


def kty_for(alg: str | None) -> str | None:
    """The JWK key type an asymmetric alg needs (RFC 7518 §3.1), or None."""
    if not alg:
        return None
    if alg.startswith(("RS", "PS")):
        return "RSA"
    if alg.startswith("ES"):
        return "EC"
    if alg == "EdDSA":
        return "OKP"
    return None
