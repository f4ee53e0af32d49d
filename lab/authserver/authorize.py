"""The authorization endpoint's two halves: validate and park the request; later, answer it.

RFC 6749 §4.1.1–4.1.2: the request is validated before the user sees anything;
errors go back to the client only once its redirect_uri is known to be good.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Response

from lab.protocol.tokens import EndUser
from lab.store.base import Store

from . import clients, consent_flow
from . import pending as pending_store
from .server import LabAuthorizationServer


class RedirectError(Exception):
    """The validation failed in a way the client must hear about at its redirect_uri."""

    def __init__(self, response: Response) -> None:
        super().__init__("authorization error redirect")
        self.response = response


def _answer_error(server: LabAuthorizationServer, request: Any, error: OAuth2Error) -> None:
    if error.redirect_uri:
        raise RedirectError(server.error_response_to_client(request, error))
    raise error


def begin(server: LabAuthorizationServer, store: Store) -> tuple[pending_store.Pending,
                                                                 clients.Client]:
    """Validate the live request with Authlib and keep it server-side."""
    request = server.create_oauth2_request(None)
    try:
        grant = server.get_consent_grant(request)
    except OAuth2Error as error:
        _answer_error(server, request, error)
        raise
    client = grant.request.client
    return pending_store.create(store, client.client_id, server.stored_request(request)), client


def finish(server: LabAuthorizationServer, store: Store, pending: pending_store.Pending,
           decision: consent_flow.Decision | None) -> Response:
    """Approve (a decision) or deny (None): issue the response to the client's redirect_uri."""
    request = server.restore_request(pending.request)
    user = None
    if decision is not None:
        grant_id = consent_flow.record(store, pending, decision)
        user = EndUser(pending.username or "", grant_id, pending.auth_time, pending.acr,
                       tuple(pending.amr), decision.scope)
    try:
        grant = server.get_consent_grant(request, end_user=user)
    except OAuth2Error as error:
        _answer_error(server, request, error)
        raise
    response: Response = server.create_authorization_response(request, grant_user=user,
                                                              grant=grant)
    return response
