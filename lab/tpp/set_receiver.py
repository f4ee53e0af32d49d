"""FinLens's Security Event Token receiver (RFC 8935 push, RFC 8417 SETs, SSF/CAEP events).

HonestBank POSTs a signed SET when it stops a grant: FinLens verifies it against
HonestBank's JWKS (the issuer's jwks_uri, as for ID tokens), checks `typ: secevent+jwt`
(RFC 8417 §2.3), iss, aud (its own client id), iat, and that the jti was never seen, then
marks the link stopped with the reason. Anything else is refused with RFC 8935 §2.3's
error JSON (`err`, `description`; codes from §2.4's registry), logged, and never acted on.

Strict whatever the switches say: a receiver that believes unsigned events would let anyone
cut a customer's links, so this is not a teaching control with a weak mode.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import jwt as pyjwt
from flask import Blueprint, Response, current_app, request

from lab import clock, context
from lab.config import LabConfig
from lab.jose import b64, jws
from lab.protocol import security_events as sets
from lab.store.base import Store

from . import client, institutions, links
from .errors import InstitutionUnavailableError

log = logging.getLogger("fapi_lab.tpp.set_receiver")

bp = Blueprint("tpp_set_receiver", __name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS tpp_set_jtis (
    jti TEXT PRIMARY KEY,
    iss TEXT NOT NULL,
    received_at REAL NOT NULL
);
"""
ALGS = ("ES256", "PS256")
MAX_BODY = 16 * 1024
IAT_WINDOW = 300          # seconds either side of the lab clock
MAX_JTI = 256


@dataclass
class Refused(Exception):
    """RFC 8935 §2.3: 400 with {"err": code, "description": text}."""

    err: str
    description: str


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def _honestbank(store: Store, config: LabConfig) -> institutions.Institution:
    inst = institutions.by_issuer(store, config.issuer)
    if inst is None:
        raise Refused("invalid_issuer", "no institution sends security events here")
    return inst


def _verify(token: str, store: Store, config: LabConfig) -> dict[str, Any]:
    """The SET's claims, or Refused; signature first, then what the claims say."""
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(b64.decode(head_b64))
        unverified = json.loads(b64.decode(body_b64))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused("invalid_request", "the body is not a compact JWS") from None
    if not isinstance(header, dict) or not isinstance(unverified, dict):
        raise Refused("invalid_request", "the JWS header and payload must be JSON objects")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none" or not sig_b64:
        raise Refused("authentication_failed", "the SET is not signed")
    if alg not in ALGS:
        raise Refused("invalid_key", f"alg {alg[:20]!r} is not accepted")
    # RFC 8417 §2.3: typ "secevent+jwt" keeps a SET from being taken for another JWT.
    if header.get("typ") != sets.TYP:
        raise Refused("invalid_request", "typ must be secevent+jwt")
    if unverified.get("iss") != config.issuer:
        raise Refused("invalid_issuer", "the SET is not from HonestBank")
    inst = _honestbank(store, config)
    ca = institutions.ca_for(str(config.ca_cert_path), inst)
    try:
        source = institutions.jwks(institutions.metadata(inst, ca), ca)
        kid = header.get("kid")
        key = source.find(kid if isinstance(kid, str) else None, alg) or \
            source.refresh() and source.find(kid if isinstance(kid, str) else None, alg)
    except (InstitutionUnavailableError, ValueError, OSError) as exc:
        log.warning("SET refused: HonestBank's keys unavailable: %s", exc)
        raise Refused("invalid_key", "the issuer's keys are unavailable") from None
    if not key:
        raise Refused("invalid_key", "the SET's key is not one HonestBank publishes")
    try:
        jws.verify_with(token, key, alg)
    except (pyjwt.PyJWTError, ValueError, TypeError, KeyError):
        raise Refused("invalid_key", "the signature does not verify") from None
    return _check_claims(unverified, inst, config)


def _check_claims(claims: dict[str, Any], inst: institutions.Institution,
                  config: LabConfig) -> dict[str, Any]:
    expected_aud = client.credentials(config, inst).client_id
    aud = claims.get("aud")
    if aud != expected_aud and not (isinstance(aud, list) and expected_aud in aud):
        raise Refused("invalid_audience", "the SET is for another recipient")
    iat = claims.get("iat")
    if not clock.is_time(iat) or abs(float(iat) - clock.now()) > IAT_WINDOW:  # type: ignore[arg-type]
        raise Refused("invalid_request", "iat is missing or too far from now")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI:
        raise Refused("invalid_request", "jti is missing")
    events = claims.get("events")
    event = events.get(sets.SESSION_REVOKED) if isinstance(events, dict) else None
    sub_id = claims.get("sub_id")
    grant_id = sub_id.get("id") if isinstance(sub_id, dict) else None
    if not isinstance(event, dict) or not isinstance(grant_id, str) or not grant_id:
        raise Refused("invalid_request", "no session-revoked event with an opaque sub_id")
    return claims


def _reason(claims: dict[str, Any]) -> str:
    event = claims["events"][sets.SESSION_REVOKED]
    said = event.get("reason_user") or event.get("reason_admin") or {}
    text = said.get("en") if isinstance(said, dict) else None
    who = "HonestBank's monitoring" if event.get("initiating_entity") == "policy" else \
        "you, at HonestBank" if event.get("initiating_entity") == "user" else "HonestBank"
    return f"stopped by {who}: {str(text)[:300]}" if text else f"stopped by {who}"


def receive(store: Store, config: LabConfig, body: bytes, content_type: str) -> int:
    """Verify one pushed SET and stop the links it names; the number of links stopped."""
    if content_type.split(";")[0].strip().lower() != sets.MEDIA_TYPE:
        raise Refused("invalid_request", "Content-Type must be application/secevent+jwt")
    if len(body) > MAX_BODY:
        raise Refused("invalid_request", "the SET is too large")
    try:
        token = body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise Refused("invalid_request", "the body is not a compact JWS") from None
    claims = _verify(token, store, config)
    # Single use, decided by the row count (RFC 8417 §2.2 jti: unique per SET).
    if not store.consume("INSERT INTO tpp_set_jtis(jti, iss, received_at) VALUES (?, ?, ?) "
                         "ON CONFLICT(jti) DO NOTHING", (claims["jti"], claims["iss"],
                                                         clock.now())):
        raise Refused("invalid_request", "this SET (jti) was already received")
    grant_id = claims["sub_id"]["id"]
    stopped = 0
    for link in store.query("SELECT id, access_token, grant_id FROM tpp_links "
                            "WHERE status = 'active'"):
        # The grant id the token response gave (opaque references show nothing), else the one
        # in the link's JWT access token.
        known = link["grant_id"] or \
            b64.json_segment(str(link["access_token"] or ""), 1).get("grant_id")
        if known == grant_id:
            links.mark_revoked(store, link["id"], _reason(claims))
            stopped += 1
    log.info("SET %s: grant %s stopped, %d link(s)", claims["jti"], grant_id, stopped)
    return stopped


@bp.post(sets.RECEIVER_PATH)
def security_events() -> Response:
    config: LabConfig = current_app.extensions["lab_config"]
    try:
        receive(context.current().store, config, request.get_data(cache=False),
                request.headers.get("Content-Type", ""))
    except Refused as refused:
        log.warning("SET refused (%s): %s", refused.err, refused.description)
        return Response(json.dumps({"err": refused.err, "description": refused.description}),
                        status=400, mimetype="application/json",
                        headers={"Cache-Control": "no-store"})
    # RFC 8935 §2.2: 202 Accepted, no body.
    return Response(status=202)
