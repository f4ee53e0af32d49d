"""Pushed Authorization Requests (RFC 9126): the PAR endpoint and the pushed-request store.

The client pushes its authorization request over the authenticated back channel;
the AS validates it as /authorize would and answers with a short-lived
request_uri, which `authorization_request.resolve` turns back into the request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.endpoint import Endpoint, EndpointRequest

from lab import clock, context
from lab.controls import guard
from lab.store.base import Once, Store

from . import dpop, errors
from .grants import CLIENT_AUTH_METHODS

PAR = guard("par_required")
SINGLE_USE = guard("request_uri_single_use")

URN_PREFIX = "urn:ietf:params:oauth:request_uri:"
# Parameters that authenticate the client at PAR; RFC 9126 §2.1: they "are relied upon only
# for client authentication and are not germane to the authorization request itself".
CLIENT_AUTH_PARAMS = {"client_secret", "client_assertion", "client_assertion_type"}
MAX_PARAMS, MAX_VALUE = 64, 8192
PURGE_AFTER = 3600      # pushed requests are refused after 590 s; their rows go after an hour

SCHEMA = """
CREATE TABLE IF NOT EXISTS as_par_requests (
    uri_hash TEXT PRIMARY KEY,            -- SHA-256 of the request_uri
    client_id TEXT NOT NULL,
    params TEXT NOT NULL,                 -- JSON [[name, value], ...], the pushed request
    created_at REAL NOT NULL,
    used_at REAL
);
"""


class InvalidRequestUriError(OAuth2Error):
    """RFC 9101 §10.2 / RFC 9126 §4: the request_uri is unknown, expired or used."""

    error = "invalid_request_uri"
    description = "The request_uri is unknown, expired, already used or not for this client."
    status_code = 400


class ParRequiredError(errors.InvalidRequestError):
    description = "This server accepts authorization requests only as client_id and a " \
                  "request_uri from its PAR endpoint."


class ParRedirectUriRequiredError(errors.InvalidRequestError):
    description = "A pushed authorization request must include redirect_uri."


class ParClientMismatchError(errors.InvalidRequestError):
    description = "client_id is missing or differs from the authenticated client."


@dataclass
class PushedRequest:
    uri_hash: str
    client_id: str
    params: list[tuple[str, str]]
    created_at: float
    used_at: float | None = None

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


@dataclass
class ValidatedPush(EndpointRequest):
    params: list[tuple[str, str]] = field(default_factory=list)


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def uri_hash(request_uri: str) -> str:
    return hashlib.sha256(request_uri.encode()).hexdigest()


def lifetime() -> int:
    """FAPI2 §5.3.2.2: expires_in "shall" be "less than 600 seconds"."""
    if SINGLE_USE.on():
        return int(SINGLE_USE.param("lifetime", 60))
    return int(SINGLE_USE.param("lifetime_off", 590))


def push(store: Store, client_id: str, params: list[tuple[str, str]]) -> str:
    # RFC 9126 §2.2: the request_uri "MUST contain some part generated using a
    # cryptographically strong pseudorandom algorithm".
    request_uri = URN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now(store)
    keep = max(PURGE_AFTER, 2 * float(SINGLE_USE.param("lifetime_off", 590)))
    store.execute("DELETE FROM as_par_requests WHERE created_at < ?", (now - keep,))
    store.execute("INSERT INTO as_par_requests(uri_hash, client_id, params, created_at) "
                  "VALUES (?, ?, ?, ?)",
                  (uri_hash(request_uri), client_id, json.dumps(params), now))
    return request_uri


def find(store: Store, request_uri: object) -> PushedRequest | None:
    if not isinstance(request_uri, str) or not request_uri.startswith(URN_PREFIX) \
            or len(request_uri) > 200:
        return None
    row = store.query_one("SELECT * FROM as_par_requests WHERE uri_hash = ?",
                          (uri_hash(request_uri),))
    if row is None:
        return None
    row["params"] = [(str(k), str(v)) for k, v in json.loads(row["params"])]
    return PushedRequest(**row)


def consume(store: Store, hashed: str) -> bool:
    """RFC 9126 §4: "Authorization servers SHOULD treat request_uri values as one-time use".
    One conditional UPDATE: True only for the first use."""
    return store.consume("UPDATE as_par_requests SET used_at = ? WHERE uri_hash = ? "
                         "AND used_at IS NULL", (clock.now(store), hashed),
                         once=Once("request_uri", hashed, 2 * PURGE_AFTER + 600))


def _pushed_params(request: OAuth2Request) -> list[tuple[str, str]]:
    params = [(k, v) for k, vs in request.form.lists() for v in vs  # type: ignore[attr-defined]
              if k not in CLIENT_AUTH_PARAMS]
    if len(params) > MAX_PARAMS or any(len(k) > 100 or len(v) > MAX_VALUE for k, v in params):
        raise errors.InvalidRequestError()
    # RFC 9126 §2.1: "The request_uri authorization request parameter ... MUST NOT be provided."
    if any(k == "request_uri" for k, _ in params):
        raise errors.InvalidRequestError()
    return params


def _dpop_jkt(request: OAuth2Request, params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """RFC 9449 §10.1: a DPoP proof at PAR binds the code to its key, like dpop_jkt; the
    proof and a dpop_jkt sent with it must agree (checked by lab.protocol.dpop)."""
    jkt = dpop.par_dpop_jkt(request)
    if not jkt:
        return params
    return [(k, v) for k, v in params if k != "dpop_jkt"] + [("dpop_jkt", jkt)]


def _require_redirect_uri(params: list[tuple[str, str]]) -> None:
    if not any(k == "redirect_uri" for k, _ in params) and PAR.on():
        # FAPI2 §5.3.2.2: "shall require the redirect_uri parameter in pushed
        # authorization requests".
        raise PAR.refuse(ParRedirectUriRequiredError(), reason="PAR without redirect_uri")


class PushedAuthorizationEndpoint(Endpoint):
    """POST /par (RFC 9126 §2): authenticate, validate like /authorize, store, answer 201."""

    ENDPOINT_NAME = "pushed_authorization"

    def validate_request(self, request: OAuth2Request) -> ValidatedPush:
        # RFC 9126 §2: the AS "MUST ... authenticate the client in the same way as at the
        # token endpoint".
        client = self.server.authenticate_client(request, CLIENT_AUTH_METHODS,
                                                 self.ENDPOINT_NAME)
        params = _pushed_params(request)
        client_ids = [v for k, v in params if k == "client_id"]
        if client_ids != [client.get_client_id()]:
            raise ParClientMismatchError()
        has_request_object = any(k == "request" for k, _ in params)
        if not has_request_object:
            _require_redirect_uri(params)
        # RFC 9126 §2.1: the AS "MUST validate the pushed request as it would an
        # authorization request sent to the authorization endpoint".
        inner = self.server.pushed_request(params)
        try:
            self.server.get_consent_grant(inner)
            if has_request_object:  # RFC 9126 §3: the parameters are inside the object
                _require_redirect_uri(list(inner.payload.data.items()))
        except OAuth2Error as error:
            error.redirect_uri, error.state = None, None  # PAR errors are never redirects
            raise
        return ValidatedPush(request, client, _dpop_jkt(request, params))

    def create_response(self, validated: EndpointRequest) -> tuple[int, Any, list[Any]]:
        assert isinstance(validated, ValidatedPush)
        request_uri = push(context.current().store, validated.client.get_client_id(),
                           validated.params)
        # RFC 9126 §2.2: 201 with request_uri and expires_in.
        body = {"request_uri": request_uri, "expires_in": lifetime()}
        return 201, body, list(default_json_headers)


