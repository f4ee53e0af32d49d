"""The admin API (controls, profiles, events, clock) mounted on the AS origin under /admin."""

from .api import create_blueprint

__all__ = ["create_blueprint"]
