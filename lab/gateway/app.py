"""The gateway's Flask app: one thin view that hands each API request to the protocol layer."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Response, current_app, g, jsonify, request

from lab.config import LabConfig
from lab.protocol import http_signatures as signing
from lab.protocol import issuer_keys
from lab.protocol.phantom_http import Gateway, nonce_header
from lab.protocol.sender_binding import ResourceRequest
from lab.store import Store
from lab.web.app_base import init_lab_app

API_PREFIXES = ("accounts", "payments")


def _gateway() -> Gateway:
    return current_app.extensions["lab_gateway"]  # type: ignore[no-any-return]


def _api(path: str) -> Response:
    """Any method on /accounts… and /payments…: admitted and forwarded, or refused (RFC 6750)."""
    gateway = _gateway()
    public_path = "/" + quote(path, safe="/!$&'()*+,;=:@-._~")
    cert = request.environ.get("SSL_CLIENT_CERT")
    g.signed_message = gateway.signed_message(request.method, public_path, request.query_string,
                                              list(request.headers.items()))
    outcome = gateway.forward(
        method=request.method, path=public_path, query=request.query_string,
        headers=list(request.headers.items()), body=request.get_data(cache=False),
        authorization=request.headers.get("Authorization"),
        # RFC 9449 §4.3: htu is the URL the client addressed: the gateway's.
        request=ResourceRequest(method=request.method, url=gateway.config.gateway_url +
                                public_path, dpop=request.headers.getlist("DPoP"),
                                client_cert=cert if isinstance(cert, str) else None),
        request_id=g.request_id, client_address=request.remote_addr or "")
    g.signature_label = outcome.signature_label
    return Response(outcome.body, status=outcome.status, headers=outcome.headers)


def _jwks() -> Response:
    """The key the API's answers are signed with (FAPI 2.0 HTTP Signatures): HonestBank's, as
    the bank publishes it; FinLens fetches it from the origin it calls."""
    return jsonify(signing.bank_jwks(_gateway().config.keys_dir))


def create_app(config: LabConfig, store: Store) -> Flask:
    app = Flask(__name__)
    init_lab_app(app, component="gateway", store=store, data_dir=config.data_dir)
    issuer_keys.ensure_schema(store)
    app.extensions["lab_gateway"] = Gateway(config, store)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app.add_url_rule("/.well-known/jwks.json", "jwks", _jwks, methods=["GET"])
    for prefix in API_PREFIXES:
        app.add_url_rule(f"/<any({prefix}):path>", f"api_{prefix}", _api, methods=methods)
        app.add_url_rule(f"/{prefix}/<path:rest>", f"api_{prefix}_sub",
                         lambda rest, prefix=prefix: _api(f"{prefix}/{rest}"), methods=methods)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        for name, value in nonce_header():
            response.headers[name] = value
        message = g.get("signed_message")
        if message is not None:
            # HTTPSig: signed last, over the final fields and body; refusals are signed too.
            response.headers.update(_gateway().sign_response(
                response.status_code, list(response.headers.items()), response.get_data(),
                message, g.get("signature_label")))
        return response

    return app
