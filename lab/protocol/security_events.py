"""Security Event Tokens pushed to the app when HonestBank stops a grant (RFC 8417, RFC 8935).

The app hears of a revocation at once, not on its next call: the bank signs a SET with the
AS key (RFC 8417 §2: iss, iat, jti, aud, events; `typ: secevent+jwt`, §2.3) and POSTs it to
the app's receiver as `application/secevent+jwt` (RFC 8935 §2). The events follow the OpenID
Shared Signals Framework: CAEP `session-revoked` (the grant, as a session, ended) with the
reason, and for monitoring's verdict also RISC `credential-compromise` (the app's key and
tokens are in someone else's hands). `sub_id` (SSF §3) names the grant as an opaque id,
the one thing the app holds that identifies the link (its tokens' `grant_id`).

Delivery is bounded (TIMEOUT) and never raises: a failure is logged, the bank's request goes
on. The lab has one receiver, FinLens's (`/ssf/events` on its origin, for its client id);
a real transmitter would take it from an SSF stream configuration (SSF §7).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import jwt
import requests

from lab import clock, keys
from lab.config import LabConfig

log = logging.getLogger("fapi_lab.security_events")

TYP = "secevent+jwt"
MEDIA_TYPE = "application/secevent+jwt"
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
CREDENTIAL_COMPROMISE = "https://schemas.openid.net/secevent/risc/event-type/credential-compromise"
RECEIVER_PATH = "/ssf/events"
RECEIVER_CLIENT_ID = "tpp"       # FinLens's registration (lab/authserver/clients.py)
TIMEOUT = 2.0


def receiver_for(config: LabConfig, client_id: str) -> str | None:
    """Where the app registered to receive SETs; only FinLens has a receiver in the lab."""
    return config.tpp_url + RECEIVER_PATH if client_id == RECEIVER_CLIENT_ID else None


def build(config: LabConfig, *, client_id: str, grant_id: str, username: str, reason: str,
          initiator: str, compromised: bool) -> str:
    """The signed SET: CAEP session-revoked (+ RISC credential-compromise when compromised)."""
    now = clock.now_int()
    # CAEP §3.1 session-revoked; initiating_entity "policy" (monitoring) or "user" (her page).
    events: dict[str, Any] = {SESSION_REVOKED: {
        "event_timestamp": now, "initiating_entity": initiator,
        "reason_admin": {"en": reason}, "reason_user": {"en": reason}}}
    if compromised:
        events[CREDENTIAL_COMPROMISE] = {"credential_type": "bearer_token",
                                         "event_timestamp": now, "reason_admin": {"en": reason}}
    claims = {"iss": config.issuer, "aud": client_id, "iat": now,
              "jti": secrets.token_urlsafe(16),
              "sub_id": {"format": "opaque", "id": grant_id},
              "txn": grant_id, "events": events}
    private = keys.signing_key(keys.ensure_keyset(config.keys_dir, "as"), "ES256")
    # RFC 8417 §2.2: no "sub" or "exp" that an ID-token parser could mistake it for.
    return jwt.encode(claims, jwt.PyJWK(private, algorithm="ES256").key, algorithm="ES256",
                      headers={"typ": TYP, "kid": private["kid"]})


def push(config: LabConfig, *, client_id: str, grant_id: str, username: str, reason: str,
         initiator: str = "policy", compromised: bool = False) -> bool:
    """Deliver one SET (RFC 8935 §2); True when the receiver answered 202 Accepted."""
    url = receiver_for(config, client_id)
    if url is None:
        return False
    token = build(config, client_id=client_id, grant_id=grant_id, username=username,
                  reason=reason, initiator=initiator, compromised=compromised)
    try:
        with requests.Session() as http:
            http.trust_env = False
            response = http.post(url, data=token, timeout=TIMEOUT,
                                 verify=str(config.ca_cert_path),
                                 headers={"Content-Type": MEDIA_TYPE,
                                          "Accept": "application/json"})
    except requests.RequestException as exc:
        log.warning("SET for grant %s not delivered to %s: %s", grant_id, url, exc)
        return False
    if response.status_code != 202:
        log.warning("SET for grant %s refused by %s: %s %s", grant_id, url,
                    response.status_code, response.text[:200])
        return False
    return True
