"""Render the lab's inline page templates, each compiled once per app.

Flask's `render_template_string` compiles its source on every call (Jinja caches only
templates loaded by name), so every login, consent and error page paid for a Jinja compile:
about as much CPU as the rest of the view. The sources are module constants, so the cache
is bounded by the number of templates; it lives on each app's Jinja environment.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app
from jinja2 import Environment, Template

_LOCK = threading.Lock()
_LIMIT = 256   # a safety bound: the lab has a handful of template constants
_COMPILED: dict[tuple[int, str], tuple[Environment, Template]] = {}


def compiled(env: Environment, source: str) -> Template:
    """`env.from_string(source)`, once per environment and source."""
    key = (id(env), source)
    found = _COMPILED.get(key)
    if found is not None and found[0] is env:
        return found[1]
    template = env.from_string(source)
    with _LOCK:
        if len(_COMPILED) >= _LIMIT:
            _COMPILED.clear()
        _COMPILED[key] = (env, template)
    return template


def render_string(source: str, **context: Any) -> str:
    """What `flask.render_template_string` renders (the app's context processors too)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = compiled(app.jinja_env, source)
    app.update_template_context(context)
    return template.render(context)
