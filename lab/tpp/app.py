"""FinLens's Flask app and its first-start set-up (tables, directory, keys)."""

from __future__ import annotations

from flask import Flask

from lab.config import LabConfig
from lab.store import Store
from lab.web.app_base import init_lab_app

from . import identities, institutions, keyring, link_status, links, pay, set_receiver, views


def setup(config: LabConfig, store: Store) -> None:
    """First-start work (idempotent): the TPP's tables and its directory's HonestBank entry.

    Its keys and home certificate are made here, before requests race to create them.
    """
    links.ensure_schema(store)
    identities.ensure_schema(store)
    pay.ensure_schema(store)
    set_receiver.ensure_schema(store)
    institutions.seed(store, config)
    keyring.ensure_home_material(config)


def create_app(config: LabConfig, store: Store) -> Flask:
    app = Flask(__name__)
    init_lab_app(app, component="tpp", store=store, data_dir=config.data_dir)
    app.extensions["lab_config"] = config
    views.register(app)
    app.register_blueprint(set_receiver.bp)
    link_status.register(app)
    return app
