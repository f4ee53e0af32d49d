"""Placeholder factory; replaced by the real bank app."""

from __future__ import annotations

from flask import Flask

from lab.config import LabConfig
from lab.store import Store
from lab.web.app_base import init_lab_app


def setup(config: LabConfig, store: Store) -> None:
    """First-start work for this component (idempotent)."""


def create_app(config: LabConfig, store: Store) -> Flask:
    app = Flask(__name__)
    init_lab_app(app, component="bank", store=store, data_dir=config.data_dir)
    return app
