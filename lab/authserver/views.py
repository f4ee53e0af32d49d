"""The AS's routes. Thin: each hands the request to lab.protocol or an authserver module."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from werkzeug.wrappers import Response

from lab import keys
from lab.domain import customers
from lab.protocol import metadata, userinfo
from lab.protocol import sender_binding as binding
from lab.protocol.errors import LoginRequiredError
from lab.store.base import Store

from . import authorize, clients, consent_flow, device, freshness, login, pages
from . import pending as pending_store
from .server import LabAuthorizationServer

bp = Blueprint("authserver", __name__)


def _server() -> LabAuthorizationServer:
    server: LabAuthorizationServer = current_app.extensions["lab_authorization_server"]
    return server


def _store() -> Store:
    store: Store = current_app.extensions["lab_store"]
    return store


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    # The login and consent pages must not be framed (clickjacking, RFC 6749 §10.13).
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def _pending(stage: str) -> pending_store.Pending:
    """The browser's own pending authorization at `stage`, or a readable refusal."""
    pending_id = request.values.get("pending")
    found = pending_store.get(_store(), pending_id)
    if found is None or not pending_store.bound(session, pending_id) or found.stage != stage:
        raise LoginRequiredError()
    return found


def _client_name(client_id: str) -> str:
    client = clients.get(_store(), client_id)
    return client.client_name if client else client_id


# --- discovery and keys ---------------------------------------------------------------------
@bp.get("/")
def index() -> Response:
    return _html(pages.page("Authorization server", pages.INDEX, issuer=_server().config.issuer))


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery() -> Response:
    return jsonify(metadata.build(_server().config.issuer))


@bp.get("/jwks")
def jwks() -> Response:
    return jsonify(keys.public_jwks(_server().signing.private_keys))


# --- authorization endpoint, login, consent --------------------------------------------------
@bp.route("/authorize", methods=["GET", "POST"])
def authorize_endpoint() -> Response:
    try:
        pending, client = authorize.begin(_server(), _store())
    except authorize.RedirectError as error:
        return error.response
    pending_store.bind(session, pending)
    return _login_page(pending, client.client_name)


def _login_page(pending: pending_store.Pending, client_name: str, message: str = "",
                username: str = "", status: int = 200,
                result: login.StepResult | None = None) -> Response:
    return device.refused(_html(pages.page(
        "Sign in", pages.LOGIN, client_name=client_name, pending=pending.id,
        action=url_for(".login_step"), message=message, username=username,
        reasons=result.reasons if result else []), status), result)


@bp.post("/login")
def login_step() -> Response:
    pending = _pending("login")
    username = str(request.form.get("username", "")).strip()
    result = login.password_step(_store(), pending, username, str(request.form.get("password", "")),
                                 device.sign_in(pending))
    if not result.ok:
        return _login_page(pending, _client_name(pending.client_id), result.message, username,
                           result.status, result)
    return _next(pending, result)


def _next(pending: pending_store.Pending, result: login.StepResult) -> Response:
    """The page after a step that succeeded: second factor, device confirmation, consent."""
    if result.next_stage == "mfa":
        return _mfa_page(pending_store.get(_store(), pending.id) or pending)
    if result.next_stage == "device":
        return device.page(pending, result)
    return redirect(url_for(".consent_page", pending=pending.id), 303)


def _mfa_page(pending: pending_store.Pending, message: str = "", status: int = 200,
              result: login.StepResult | None = None) -> Response:
    hint, sms = login.factor_hint(_store(), pending)
    return device.refused(_html(pages.page(
        "Second factor", pages.MFA, hint=hint, sms=sms, pending=pending.id,
        action=url_for(".mfa_step"), sms_url=url_for(".sms_inbox"), message=message), status),
        result)


@bp.post("/mfa")
def mfa_step() -> Response:
    pending = _pending("mfa")
    if request.form.get("action") == "resend":
        login.resend_sms(_store(), pending)
        return _mfa_page(pending, "A new code was sent.")
    result = login.second_factor_step(_store(), pending, str(request.form.get("code", "")),
                                      device.sign_in(pending))
    if not result.ok:
        return _mfa_page(pending, result.message, result.status, result)
    return redirect(url_for(".consent_page", pending=pending.id), 303)


def _client_scope(pending: pending_store.Pending) -> str:
    client = clients.get(_store(), pending.client_id)
    return str(client.metadata.get("scope") or "") if client else ""


def _sign_in_again(pending: pending_store.Pending) -> Response | None:
    """max_age (OIDC §3.1.2.1): a sign-in that aged past it is done again."""
    if not freshness.restart_if_stale(_store(), pending):
        return None
    return _login_page(pending, _client_name(pending.client_id), freshness.message(pending),
                       pending.username or "")


@bp.get("/consent")
def consent_page(message: str = "", status: int = 200) -> Response:
    pending = _pending("consent")
    if (again := _sign_in_again(pending)) is not None:
        return again
    view = consent_flow.view(_store(), pending, _client_scope(pending))
    return _html(pages.page("Consent", pages.CONSENT, client_name=_client_name(pending.client_id),
                            username=pending.username, pending=pending.id,
                            action=url_for(".consent_decision"), accounts=view.accounts,
                            permissions=view.permissions, identity=view.identity,
                            extras=view.extras, payment=view.payment, pay_from=view.pay_from,
                            earlier=view.earlier, earlier_more=view.earlier_more,
                            older_than=view.older_than, message=message), status)


@bp.post("/consent")
def consent_decision() -> Response:
    pending = _pending("consent")
    if (again := _sign_in_again(pending)) is not None:
        return again
    store = _store()
    decision = None
    if request.form.get("action") == "approve":
        chosen = {key[5:]: request.form.getlist(key) for key in request.form
                  if key.startswith("perm:")}
        decision = consent_flow.decide(store, pending, _client_scope(pending),
                                       request.form.getlist("account"), chosen,
                                       request.form.getlist("share"),
                                       debtor=request.form.get("debtor_account"),
                                       replaces=request.form.getlist("replaces"))
        if decision is None:
            return consent_page("Choose at least one account and one permission (for a "
                                "payment: the account it leaves), or deny.", 400)
    if not pending_store.finish(store, pending):
        raise LoginRequiredError()
    try:
        return authorize.finish(_server(), store, pending, decision)
    except authorize.RedirectError as error:
        return error.response


# --- pushed authorization requests (RFC 9126) ---------------------------------------------
@bp.post("/par")
def pushed_authorization() -> Response:
    response: Response = _server().create_endpoint_response("pushed_authorization")
    return response


# --- token, revocation, introspection, userinfo -------------------------------------------
@bp.post("/token")
def token() -> Response:
    response: Response = _server().create_token_response()
    return response


@bp.post("/revoke")
def revoke() -> Response:
    response: Response = _server().create_endpoint_response("revocation")
    return response


@bp.post("/introspect")
def introspect() -> Response:
    response: Response = _server().create_endpoint_response("introspection")
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo_endpoint() -> Response:
    scheme, token_value = userinfo.access_token(
        request.headers.get("Authorization"), request.form.get("access_token"),
        binding.dpop_scheme_allowed())
    cert = request.environ.get("SSL_CLIENT_CERT")
    resource = binding.ResourceRequest(
        method=request.method, url=_server().config.as_url + "/userinfo",
        dpop=request.headers.getlist("DPoP"), client_cert=cert if isinstance(cert, str) else None)

    def check_binding(claims: dict[str, Any]) -> None:
        # The bank's own validator: the same checks and the same controls' events.
        binding.DPoPTokenValidator().validate_token(claims, None, resource, scheme=scheme,
                                                    access_token=token_value)

    claims = userinfo.claims_for(token_value, _server().signing.private_keys, check_binding)
    response = jsonify(dict(claims))
    response.headers["Cache-Control"] = "no-store"
    if nonce := binding.current_nonce():
        response.headers["DPoP-Nonce"] = nonce
    return response


# --- dynamic client registration --------------------------------------------------------------
@bp.post("/register")
def register() -> Response:
    response: Response = _server().create_endpoint_response("client_registration")
    return response


@bp.route("/register/<client_id>", methods=["GET", "PUT", "DELETE"])
def client_configuration(client_id: str) -> Response:
    response: Response = _server().create_endpoint_response("client_configuration")
    return response


# --- lab pages ----------------------------------------------------------------------------------
@bp.get("/lab/sms")
def sms_inbox() -> Response:
    messages: list[dict[str, Any]] = []
    for m in customers.sms_inbox(_store()):
        sent = dt.datetime.fromtimestamp(m["sent_at"], dt.UTC).strftime("%H:%M:%S UTC")
        messages.append({**m, "sent": sent})
    return _html(pages.page("SMS inbox", pages.SMS, messages=messages))

