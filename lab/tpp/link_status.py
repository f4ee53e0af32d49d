"""What FinLens's open dashboard polls to show a stopped link without a reload.

HonestBank pushes a Security Event Token when it stops a grant (lab/tpp/set_receiver.py marks
the link revoked); a page already open in the browser learns of it here. The dashboard asks
every POLL_MS while one of its links is still active and, on a change, rewrites that link's
card in place. A poll of FinLens's own database, not of the bank: it costs one indexed
query, and works the same however many FinLens processes share the store (Server-Sent
Events would hold a server thread per open page and still have to look at the store).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, session

from lab import context
from lab.store.base import Store

from . import institutions, links

# At worst 300 ms to notice leaves 700 ms of the second for the fetch on a loaded machine.
POLL_MS = 300
PATH = "/links/status"

bp = Blueprint("tpp_link_status", __name__)


def ended_message(institution: str, reason: str | None) -> str:
    """The sentence the dashboard shows on a stopped link (the page and the poll agree)."""
    said = f" ({reason})" if reason else ""
    return f"Access to {institution} has ended{said}. Re-link to see these accounts again."


def statuses(store: Store, user_id: str) -> list[dict[str, str]]:
    """Each of the user's links: id, status and, once stopped, the sentence saying why."""
    names = {i.id: i.name for i in institutions.all_institutions(store)}
    rows = []
    for link in links.links_of(store, user_id):
        name = names.get(link["institution_id"], link["institution_id"])
        stopped = link["status"] != "active"
        rows.append({"id": link["id"], "status": link["status"], "institution": name,
                     "message": ended_message(name, link["status_reason"]) if stopped else ""})
    return rows


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json",
                    headers={"Cache-Control": "no-store"})


@bp.get(PATH)
def link_status() -> Response:
    store = context.current().store
    user = links.get_user(store, session.get("user"))
    if user is None:
        return _json({"error": "login_required",
                      "error_description": "sign in to FinLens to see your links"}, 401)
    return _json({"links": statuses(store, user.id), "poll_ms": POLL_MS})


def register(app: Flask) -> None:
    """The route, and what dashboard.html needs to show and poll a link's status."""
    app.register_blueprint(bp)
    app.jinja_env.globals.update(ended_message=ended_message, link_poll_ms=POLL_MS,
                                 link_status_path=PATH)
