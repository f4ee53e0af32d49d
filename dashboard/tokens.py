"""The token inspector's logic: decode a JWT, say what kind it is, verify it, time it.

No Streamlit here, and nothing raises at the page: a pasted string that is not a JWT comes
back as an `Inspection` whose `error` says why, in words a workshop attendee can act on.
Finding tokens in captures is `dashboard.token_find`; signatures are checked in
`dashboard.token_keys` against the key the token's kind calls for.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lab.jose import b64
from lab.jose.dpop_proof import ath, htu

from . import token_keys
from .token_find import KINDS, Found, find_in_capture, recent

__all__ = ["KINDS", "Found", "classify", "classify_found", "decode", "find_in_capture",
           "inspect", "recent"]

# RFC 8725 §3.11 explicit typing: the typ header says what a JWT is for.
TYPES = {"at+jwt": "access_token", "dpop+jwt": "dpop_proof",
         "oauth-authz-req+jwt": "request_object"}
MAX_TOKEN = 64 * 1024


@dataclass(frozen=True)
class Decoded:
    token: str
    header: dict[str, Any]
    claims: dict[str, Any]


@dataclass(frozen=True)
class Check:
    """One comparison a verifier makes, here made for the attendee to see."""

    name: str
    ok: bool
    text: str


@dataclass
class Inspection:
    """Everything the page shows about one token; `error` without `decoded`: not a JWT."""

    found: Found | None = None
    decoded: Decoded | None = None
    error: str | None = None
    kind: str = "unknown"
    verdict: token_keys.Verdict | None = None
    times: dict[str, str] = field(default_factory=dict)
    expired: bool = False
    jkt: str | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


# --- decoding and classifying ----------------------------------------------------------------

def _b64json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = b64.decode(part)
    except ValueError:
        raise ValueError(f"the {what} is not base64url") from None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError(f"the {what} decodes, but not to JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"the {what} is JSON, but not an object")
    return value


def clean(text: str) -> str:
    """What a person pastes: strip blanks, quotes and an `Authorization` scheme."""
    text = text.strip().strip("\"'").strip()
    for scheme in ("Bearer ", "DPoP ", "bearer ", "dpop "):
        if text.startswith(scheme):
            text = text[len(scheme):].strip()
    return "".join(text.split())


def decode(text: str) -> Decoded:
    """Header and claims of a compact JWS (RFC 7515 §7.1); ValueError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("nothing to decode: paste a JWT (three base64url parts joined by dots)")
    if len(text) > MAX_TOKEN:
        raise ValueError(f"too long for a JWT ({len(text)} characters)")
    token = clean(text)
    parts = token.split(".")
    if len(parts) == 5:
        raise ValueError("this is a JWE (five parts): an encrypted JWT, which only the holder "
                         "of the decryption key can read")
    if len(parts) != 3:
        raise ValueError(f"a JWT has three parts separated by dots; this has {len(parts)}")
    if not re.fullmatch(r"[A-Za-z0-9_-]*", "".join(parts)):
        raise ValueError("a JWT holds only base64url characters (A-Z a-z 0-9 - _) and dots")
    header = _b64json(parts[0], "header (part 1)")
    claims = _b64json(parts[1], "claims (part 2)")
    return Decoded(token, header, claims)


def classify(header: dict[str, Any], claims: dict[str, Any], hint: str | None = None,
             issuer: str | None = None) -> str:
    """The token's kind: its typ first (RFC 8725 §3.11), then where it was, then its claims."""
    typ = str(header.get("typ", "")).lower().removeprefix("application/")
    if typ in TYPES:
        return TYPES[typ]
    if hint:
        return hint
    if "htm" in claims and "htu" in claims:
        return "dpop_proof"
    iss = claims.get("iss")
    if issuer is not None and iss == issuer:
        if any(k in claims for k in ("nonce", "at_hash", "c_hash", "azp")):
            return "id_token"
        if "code" in claims or "error" in claims:
            return "jarm_response"
        return "access_token"
    if any(k in claims for k in ("response_type", "redirect_uri", "code_challenge")):
        return "request_object"
    if iss is not None and iss == claims.get("sub") and "aud" in claims and "jti" in claims:
        return "client_assertion"
    return "unknown"


def classify_found(found: Found, issuer: str | None = None) -> str:
    """The kind of a found token, for its label (a token that does not decode: its hint)."""
    try:
        decoded = decode(found.token)
    except ValueError:
        return found.hint or "unknown"
    return classify(decoded.header, decoded.claims, found.hint, issuer)


# --- time ------------------------------------------------------------------------------------

def span(seconds: float) -> str:
    """90 → '90 s', 200 → '3 min', 7300 → '2 h', in the words a workshop reads aloud."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def _when(value: float) -> str:
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "out of range"


def time_words(claims: dict[str, Any], now: float) -> tuple[dict[str, str], bool]:
    """exp, iat, nbf, auth_time in words against the lab clock; and whether it has expired."""
    words: dict[str, str] = {}
    expired = False
    for name in ("exp", "nbf", "iat", "auth_time"):
        value = claims.get(name)
        if name not in claims:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            words[name] = "not a number: RFC 7519 §2 wants seconds since the epoch"
            continue
        delta = float(value) - now
        past = delta <= 0
        if name == "exp":
            expired = past
            text = f"expired {span(delta)} ago" if past else f"expires in {span(delta)}"
        elif name == "nbf":
            text = f"valid since {span(delta)} ago" if past else \
                f"not valid for another {span(delta)}"
        elif name == "iat":
            text = f"issued {span(delta)} ago" if past else \
                f"issued {span(delta)} in the future (pre-dated, or a skewed clock)"
        else:
            text = f"the user signed in {span(delta)} ago" if past else \
                f"sign-in {span(delta)} in the future"
        words[name] = f"{text} ({_when(float(value))})"
    return words, expired


# --- DPoP and exchange checks ----------------------------------------------------------------

def _claims_of(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return decode(token).claims
    except ValueError:
        return {}


def dpop_checks(claims: dict[str, Any], jkt: str | None, found: Found | None) -> list[Check]:
    """RFC 9449 §4.3 and §7.1 comparisons against the exchange the proof travelled in."""
    if found is None:
        return []
    checks = []
    if found.method and "htm" in claims:
        same = claims.get("htm") == found.method
        checks.append(Check("htm", same, f"htm {claims.get('htm')!r} "
                            f"{'matches' if same else 'differs from'} the request's "
                            f"method {found.method}"))
    if found.url and "htu" in claims:
        same = claims.get("htu") == htu(found.url)
        checks.append(Check("htu", same, f"htu {'matches' if same else 'differs from'} the "
                            f"URL it was sent to ({htu(found.url)})"))
    bound = _claims_of(found.access_token).get("cnf")
    if jkt and isinstance(bound, dict) and "jkt" in bound:
        same = bound.get("jkt") == jkt
        whose = "the access token it was presented with" \
            if found.access_token_role == "presented" else "the access token the AS issued"
        verb = "equals" if same else "is not"
        checks.append(Check("cnf.jkt", same, f"its key's thumbprint {verb} the cnf.jkt of "
                            f"{whose}"))
    if found.access_token_role == "presented" and found.access_token:
        same = claims.get("ath") == ath(found.access_token)
        checks.append(Check("ath", same, "ath is the hash of the access token beside it" if same
                            else "ath is missing or is not the hash of the access token "
                                 "beside it"))
    return checks


def access_checks(header: dict[str, Any], claims: dict[str, Any], found: Found | None
                  ) -> list[Check]:
    """What the bank checks of an access token: its typ (RFC 9068 §4), and when presented,
    its audience and, for a DPoP-bound one, the DPoP scheme with a proof (RFC 9449 §7.1)."""
    checks = []
    typ = str(header.get("typ", "")).lower().removeprefix("application/")
    if typ != "at+jwt":
        checks.append(Check("typ", False, f"typ is {header.get('typ')!r}, not at+jwt: a bank "
                            "following RFC 9068 §4 refuses it (an ID token, say, used as an "
                            "access token)"))
    if found is None or found.side != "request" or not found.where.startswith("Authorization"):
        return checks
    parts = urlsplit(found.url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    aud = claims.get("aud")
    audiences = [str(a) for a in (aud if isinstance(aud, list) else [aud]) if a is not None]
    if origin and not audiences:
        checks.append(Check("aud", False, "no aud: every API that trusts this AS would take it "
                                          "(the lab leaves aud out when aud_check is off)"))
    elif origin:
        same = any(a.rstrip("/") == origin or a.startswith(origin + "/") for a in audiences)
        verb = "names" if same else "does not name"
        checks.append(Check("aud", same, f"aud {verb} the API it was sent to ({origin})"))
    cnf = claims.get("cnf")
    if isinstance(cnf, dict) and "jkt" in cnf:
        dpop = "dpop" in found.where.lower()
        checks.append(Check("cnf.jkt", dpop, "bound to a DPoP key and sent with the DPoP scheme: "
                            "the bank wants a proof signed with that key" if dpop else
                            "bound to a DPoP key (cnf.jkt) but sent as a Bearer token: only a bank "
                            "that does not enforce dpop_bound_tokens takes it"))
    return checks


# --- one call for the page -------------------------------------------------------------------

def inspect(source: str | Found, keys: token_keys.KeyRing, now: float) -> Inspection:
    """Decode, classify, verify and time one token; never raises."""
    found = source if isinstance(source, Found) else None
    text = source.token if isinstance(source, Found) else source
    try:
        decoded = decode(text)
    except ValueError as error:
        return Inspection(found=found, error=f"Not a readable JWT: {error}.")
    except Exception as error:  # the page must get a message, not a traceback
        return Inspection(found=found, error=f"Not a readable JWT ({type(error).__name__}).")
    kind = classify(decoded.header, decoded.claims, found.hint if found else None,
                    keys.issuer)
    result = Inspection(found=found, decoded=decoded, kind=kind)
    try:
        result.verdict = token_keys.verify(decoded.token, decoded.header, decoded.claims,
                                           kind, keys)
        result.times, result.expired = time_words(decoded.claims, now)
        if kind == "dpop_proof":
            result.jkt = token_keys.thumbprint(decoded.header.get("jwk"))
            result.checks = dpop_checks(decoded.claims, result.jkt, found)
        elif isinstance(decoded.claims.get("cnf"), dict):
            jkt = decoded.claims["cnf"].get("jkt")
            result.jkt = jkt if isinstance(jkt, str) else None
        if kind == "access_token":
            result.checks = access_checks(decoded.header, decoded.claims, found)
    except Exception as error:  # a message on the page, never a crash
        result.error = f"The inspector could not finish ({type(error).__name__}: {error})."
    return result
