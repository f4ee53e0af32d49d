"""The authorization server's Flask app (Authlib 1.9) and its first-start set-up."""

from __future__ import annotations

from flask import Flask

from lab import keys, pki
from lab.config import LabConfig
from lab.domain import clients as domain_clients
from lab.domain import login_risk, login_throttle, pseudonyms, reference_tokens, refresh_tokens
from lab.protocol import client_auth, codes, par, subjects
from lab.protocol.oidc import Signing
from lab.store import Store
from lab.web.app_base import init_lab_app

from . import clients, device, pending
from .server import build_server
from .views import bp

GATEWAY_OWNER = "gateway"  # keys/gateway.jwks.json: its client assertions and inner JWTs


def setup(config: LabConfig, store: Store) -> None:
    """First-start work (idempotent): tables, the AS keys, the TPP's registration."""
    domain_clients.ensure_schema(store)
    pseudonyms.ensure_schema(store)
    codes.ensure_schema(store)
    refresh_tokens.ensure_schema(store)
    pending.ensure_schema(store)
    par.ensure_schema(store)
    client_auth.ensure_schema(store)
    login_throttle.ensure_schema(store)
    login_risk.ensure_schema(store)
    keys.ensure_keyset(config.keys_dir, "as")
    # The TPP's public keys are part of its registration, as if handed over at onboarding,
    # so it can switch to private_key_jwt without re-registering.
    tpp_jwks = keys.public_jwks(keys.ensure_keyset(config.keys_dir, "tpp"))
    # ... and the subject of its lab-CA client certificate, for tls_client_auth (RFC 8705 §2.1).
    tpp_cert = pki.client_cert(config.pki_dir, "tpp")
    clients.register_tpp(config, store, tpp_jwks, clients.subject_dn(tpp_cert.cert.read_text()))
    reference_tokens.ensure_schema(store)
    reference_tokens.set_mode(store, config.access_tokens)
    if config.opaque_tokens:
        # The phantom-token gateway introspects as a resource server (docs/gateway.md).
        clients.register_gateway(store, keys.public_jwks(
            keys.ensure_keyset(config.keys_dir, GATEWAY_OWNER, ("ES256",))))
        pki.client_cert(config.pki_dir, GATEWAY_OWNER)  # its mutual TLS to the bank


def create_app(config: LabConfig, store: Store) -> Flask:
    app = Flask(__name__)
    init_lab_app(app, component="as", store=store, data_dir=config.data_dir)
    keys.ensure_keyset(config.keys_dir, "as")
    signing = Signing(config.issuer, keys.KeyFile(config.keys_dir, "as"),
                      subjects.Subjects(subjects.salt_file(config.data_dir)))
    app.extensions["lab_authorization_server"] = build_server(config, signing)
    app.register_blueprint(bp)
    device.init(app)
    return app
