"""JWT Secured Authorization Response Mode (JARM, OpenID final) at the AS.

Authlib has no JARM: the code grant answers in the query whatever the response_mode says.
The lab adds it as a grant extension (the response of every authorization, error or not)
plus `wrap()` for errors redirected before a grant exists (server.error_response_to_client).
The response parameters go into one JWT signed with the AS's current key; `jarm` on makes
the AS refuse a request that asks for any other response mode.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from joserfc import jwt

from lab import clock
from lab.controls import guard
from lab.keys import key_set

from .errors import InvalidRequestError

JARM = guard("jarm")

# JARM §2.3: the response modes it defines; "jwt" is the default mode for the response type.
JWT_MODES = ("jwt", "query.jwt", "fragment.jwt")
PLAIN_MODES = ("query", "fragment", "form_post")
KNOWN_MODES = PLAIN_MODES + JWT_MODES
# What travels inside the JWT (JARM §2.1: "all response parameters").
RESPONSE_PARAMS = ("code", "state", "iss", "error", "error_description", "error_uri",
                   "access_token", "token_type", "expires_in", "id_token", "scope",
                   "session_state", "refresh_token")
# JARM §2.1: exp is REQUIRED; "a maximum JWT lifetime of 10 minutes is RECOMMENDED".
LIFETIME = 300
ALG = "ES256"


class JarmRequiredError(InvalidRequestError):
    description = "This authorization server only sends JWT-secured authorization responses."


def requested_mode(request: Any) -> str | None:
    values = request.payload.datalist.get("response_mode", [])
    if len(values) > 1:
        raise InvalidRequestError()
    return str(values[0]) if values else None


def check_response_mode(server: Any, request: Any) -> None:
    """`before_get_authorization_grant`, after the PAR resolver: the mode the request asks for.

    OAuth Multiple Response Types §5: an unknown response_mode is an error. With jarm on, only
    the JWT modes are served (F1P2 §5.2.2 item 2, MS §5.4.1: "shall require ... JARM")."""
    mode = requested_mode(request)
    if mode is not None and mode not in KNOWN_MODES:
        raise InvalidRequestError()
    if JARM.on() and mode not in JWT_MODES:
        raise JARM.refuse(JarmRequiredError(),
                          reason=f"response_mode {mode[:40]!r}" if mode else "no response_mode")


def _default_in_fragment(request: Any, mode: str) -> bool:
    """JARM §2.3.4: jwt is query.jwt for response_type=code, fragment.jwt when it holds tokens."""
    if mode != "jwt":
        return mode == "fragment.jwt"
    response_type = str(request.payload.data.get("response_type") or "code")
    return response_type.split() != ["code"]


def wrap(server: Any, request: Any, response: Any) -> None:
    """Put the response's parameters into a signed JWT, when the request asked for a JWT mode."""
    try:
        mode = requested_mode(request)
    except InvalidRequestError:
        return
    location = getattr(response, "location", None)
    if mode not in JWT_MODES or not location:
        return
    parts = urlsplit(location)
    query, fragment = parse_qsl(parts.query), parse_qsl(parts.fragment)
    carried = [(k, v) for k, v in query + fragment if k in RESPONSE_PARAMS]
    if not carried:
        return
    now = clock.now_int()
    claims: dict[str, Any] = dict(carried)
    # JARM §2.1: iss, aud (the client_id) and exp, beside the response parameters.
    claims.update(iss=server.config.issuer, aud=str(request.payload.client_id), iat=now,
                  exp=now + LIFETIME)
    key = server.signing.key
    token = jwt.encode({"alg": ALG, "kid": key["kid"]}, claims,
                       key_set([key]).keys[0], algorithms=[ALG])
    rest_q = [(k, v) for k, v in query if k not in RESPONSE_PARAMS]
    rest_f = [(k, v) for k, v in fragment if k not in RESPONSE_PARAMS]
    if _default_in_fragment(request, mode):
        rest_f.append(("response", token))
    else:
        rest_q.append(("response", token))
    response.location = urlunsplit(parts._replace(query=urlencode(rest_q),
                                                  fragment=urlencode(rest_f)))


class JarmResponse:
    """A grant extension: the authorization response (success or error) becomes a JWT."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_authorization_response", self._after)

    @staticmethod
    def _after(grant: Any, response: Any) -> None:
        wrap(grant.server, grant.request, response)
