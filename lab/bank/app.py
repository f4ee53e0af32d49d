"""HonestBank's Flask app: the open-banking API and the customer's "connected apps" page."""

from __future__ import annotations

from flask import Flask

from lab.bank import api, web
from lab.bank.protector import Protector
from lab.config import LabConfig
from lab.domain import idempotency, payment_consents, pseudonyms, refresh_tokens, usage_monitor
from lab.protocol import issuer_keys
from lab.store import Store
from lab.web.app_base import init_lab_app


def setup(config: LabConfig, store: Store) -> None:
    """First-start work (idempotent): the page's revoke touches refresh_tokens, maybe before
    the AS has created the table. Payment consents: the AS writes them, the bank uses them."""
    refresh_tokens.ensure_schema(store)
    pseudonyms.ensure_schema(store)
    issuer_keys.ensure_schema(store)
    payment_consents.ensure_schema(store)
    idempotency.ensure_schema(store)
    usage_monitor.ensure_schema(store)


def create_app(config: LabConfig, store: Store) -> Flask:
    app = Flask(__name__)
    init_lab_app(app, component="bank", store=store, data_dir=config.data_dir)
    app.extensions["bank_protector"] = Protector(config, store)
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    return app
