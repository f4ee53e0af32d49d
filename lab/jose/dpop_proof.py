"""DPoP proof validation (RFC 9449 §4.3), shared by the AS token endpoint and the bank.

Framework-free: the caller passes the DPoP header values, its own method and URL,
and how to build its refusals (AS: 400 invalid_dpop_proof; bank: 401 with a DPoP
challenge). Each check belongs to one control and fires through its guard.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt

from lab import clock
from lab.controls import guard

from . import algs, b64, dpop_replay, jws
from .dpop_replay import Nonces
from .jwk import PRIVATE_MEMBERS, THUMBPRINT_MEMBERS, thumbprint

DPOP = guard("dpop_bound_tokens")
BINDING = guard("dpop_proof_binding")
IAT = guard("dpop_iat_window")
JTI = guard("dpop_jti_replay")
NONCE = guard("dpop_nonce")
ALG_ALLOW_LIST = guard("alg_allow_list")

EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
MAX_PROOF = 8192
JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class ProofErrors:
    """How the caller refuses: `invalid()` → invalid_dpop_proof, `use_nonce(n)` → use_dpop_nonce."""

    invalid: Callable[[], Exception]
    use_nonce: Callable[[str], Exception]


@dataclass(frozen=True)
class Proof:
    jkt: str
    header: dict[str, Any]
    claims: dict[str, Any]


def supported_algs() -> list[str]:
    """What proofs may be signed with: the alg_allow_list when on, else any asymmetric alg."""
    if ALG_ALLOW_LIST.on():
        return [a for a in jws.allow_list() if a in algs.ASYMMETRIC]
    return list(algs.ASYMMETRIC)


def ath(access_token: str) -> str:
    """RFC 9449 §4.2: ath is "the base64url-encoded SHA-256 hash of the ASCII encoding of the
    associated access token's value"."""
    return b64.sha256(access_token)


def htu(url: str) -> str:
    """RFC 9449 §4.2: "The HTTP target URI ..., without query and fragment parts" (what a
    client puts in a proof; the check compares after normalise_uri)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def normalise_uri(uri: object) -> str | None:
    """RFC 9449 §4.3: htu compared "without query and fragment parts", after RFC 3986 §6.2.2/§6.2.3
    normalisation: scheme and host lower-case, default port dropped, empty path as "/"."""
    if not isinstance(uri, str) or len(uri) > 2048:
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


# --- the proof ---------------------------------------------------------------------------------

def single_value(values: str | list[str] | None, errors: ProofErrors) -> str:
    """RFC 9449 §4.3 checks 1–2: "there is not more than one DPoP HTTP request header field"
    and its value "is a single, well-formed JWT"."""
    if isinstance(values, str):
        values = [values]
    values = [v for v in (values or []) if v is not None]
    if not values:
        raise DPOP.refuse(errors.invalid(), reason="no DPoP header")
    # Werkzeug joins repeated headers with commas; a compact JWS has none.
    if len(values) > 1 or "," in values[0]:
        raise DPOP.refuse(errors.invalid(), reason="more than one DPoP header")
    value = values[0].strip()
    if len(value) > MAX_PROOF or not JWS.fullmatch(value):
        raise DPOP.refuse(errors.invalid(), reason="DPoP header is not a compact JWS")
    return value


def _decode_part(part: str) -> Any:
    return json.loads(b64.decode(part))


def _check_key(jwk: object, alg: str) -> dict[str, Any]:
    if not isinstance(jwk, dict) or jwk.get("kty") not in THUMBPRINT_MEMBERS:
        raise ValueError("jwk header is not a public JWK of a supported type")
    # RFC 9449 §4.3 check 7: "the jwk JOSE Header Parameter does not contain a private key".
    if any(m in jwk for m in PRIVATE_MEMBERS):
        raise ValueError("jwk header carries private key material")
    kty = jwk["kty"]
    if alg in EC_CURVES and (kty != "EC" or jwk.get("crv") != EC_CURVES[alg]):
        raise ValueError(f"{alg} needs an EC {EC_CURVES[alg]} key")
    if alg == "EdDSA" and (kty != "OKP" or jwk.get("crv") not in ("Ed25519", "Ed448")):
        raise ValueError("EdDSA needs an Ed25519 or Ed448 key")
    if alg[:2] in ("RS", "PS"):
        if kty != "RSA" or not isinstance(jwk.get("n"), str):
            raise ValueError(f"{alg} needs an RSA key")
        # FAPI2 §5.4.1: RSA keys "shall have a minimum length of 2048 bits".
        if len(jwk["n"]) * 6 < 2040:
            raise ValueError("RSA key shorter than 2048 bits")
    return jwk


def parse(value: str, errors: ProofErrors) -> Proof:
    """RFC 9449 §4.3 checks 3–7: required fields, typ, asymmetric alg, signature by `jwk`."""
    try:
        # single_value checked the compact form and its alphabet.
        head, body, signature = value.split(".")
        header = _decode_part(head)
        claims = _decode_part(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise DPOP.refuse(errors.invalid(), reason="undecodable DPoP proof") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise DPOP.refuse(errors.invalid(), reason="DPoP proof parts are not JSON objects")
    # §4.3 check 4: "the typ JOSE Header Parameter has the value dpop+jwt".
    if header.get("typ") != "dpop+jwt":
        raise DPOP.refuse(errors.invalid(), reason=f"typ is {str(header.get('typ'))[:40]!r}")
    alg = header.get("alg")
    # §4.3 check 5: alg "is not none", "is an asymmetric algorithm" and acceptable to policy.
    if not isinstance(alg, str) or alg not in algs.ASYMMETRIC:
        raise DPOP.refuse(errors.invalid(), reason=f"alg {str(alg)[:20]!r} is not asymmetric")
    allowed = supported_algs()
    if alg not in allowed:
        raise ALG_ALLOW_LIST.refuse(errors.invalid(), reason=f"DPoP alg {alg} not in {allowed}")
    try:
        jwk = _check_key(header.get("jwk"), alg)
        jkt = thumbprint(jwk)
        # §4.3 check 6: "the JWT signature verifies with the public key contained in the jwk".
        # The key object is kept between proofs of one client (jwk.loaded_key), and the
        # parts split above are verified as they are, not split and decoded again by PyJWS.
        jws.verify_parts(header, f"{head}.{body}".encode(), b64.decode(signature), jwk, alg)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise DPOP.refuse(errors.invalid(), reason=f"DPoP proof key or signature: {exc!r}"[:160]
                          ) from None
    # §4.2: jti, htm, htu and iat are REQUIRED.
    iat = claims.get("iat")
    if not _text(claims.get("jti"), 256) or not _text(claims.get("htm"), 16) \
            or not _text(claims.get("htu"), 2048) \
            or not clock.is_time(iat):
        raise DPOP.refuse(errors.invalid(), reason="DPoP proof lacks jti, htm, htu or iat")
    return Proof(jkt, header, claims)


def _text(value: object, limit: int) -> bool:
    """A non-empty string that can be stored and compared (no lone surrogates)."""
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def validate(values: str | list[str] | None, *, method: str, uri: str, errors: ProofErrors,
             nonces: Nonces, access_token: str | None = None) -> Proof | None:
    """All of RFC 9449 §4.3 for one request; returns the proof with its key's thumbprint.

    Each check asks its own control; with dpop_bound_tokens off nothing is checked (None)."""
    if not DPOP.on():
        return None  # weak: DPoP headers are ignored; the token is a bearer token
    proof = parse(single_value(values, errors), errors)
    claims = proof.claims
    target = normalise_uri(uri) or uri
    if BINDING.on():
        # §4.3 check 8: "the htm claim matches the HTTP method of the current request".
        if claims["htm"] != method.upper():
            raise BINDING.refuse(errors.invalid(), reason=f"htm {claims['htm'][:10]!r} ≠ {method}")
        # §4.3 check 9: "the htu claim matches the HTTP URI value for the HTTP request in which
        # the JWT was received, ignoring any query and fragment parts".
        if normalise_uri(claims["htu"]) != target:
            raise BINDING.refuse(errors.invalid(),
                                 reason=f"htu {claims['htu'][:80]!r} is not {target}")
        # §4.3 check 12 / §7.1: "the value of the ath claim equals the hash of that access token".
        if access_token is not None and (
                not isinstance(claims.get("ath"), str)
                or not _text(claims["ath"], 128)
                or not hmac.compare_digest(claims["ath"].encode(), ath(access_token).encode())):
            raise BINDING.refuse(errors.invalid(), reason="ath is not the hash of this token")
    if NONCE.on() and not nonces.valid(claims.get("nonce")):
        # §8: "If the nonce is missing or invalid, ... respond with use_dpop_nonce" and a fresh
        # DPoP-Nonce; §11.3 keeps refusing until the client sends it.
        raise NONCE.refuse(errors.use_nonce(nonces.current()),
                           reason="no nonce" if "nonce" not in claims else "stale or foreign nonce")
    _check_iat(claims["iat"], errors)
    if JTI.on() and not dpop_replay.first_use(claims["jti"], target):
        raise JTI.refuse(errors.invalid(),
                         reason=f"jti {claims['jti'][:40]!r} already used at {target}")
    return proof


def _check_iat(iat: float, errors: ProofErrors) -> None:
    if not IAT.on():
        return  # weak: a proof found in a log works for ever
    past, future = float(IAT.param("past", 60)), float(IAT.param("future", 10))
    now = clock.now()
    # §4.3 check 11: "the creation time of the JWT ... is within an acceptable window"
    # (FAPI2 §5.3.2.1: up to 10 s in the future, no more than 60 s in the past).
    if not now - past <= iat <= now + future:
        raise IAT.refuse(errors.invalid(), reason=f"iat is {now - iat:.0f} s old (accepted: "
                         f"{past:g} s old to {future:g} s ahead)")
