"""max_age at the consent step: a sign-in older than the client allows is done again.

OIDC Core §3.1.2.1: "If the elapsed time is greater than this value, the OP MUST attempt
to actively re-authenticate the End-User." The lab's AS has no sign-in session across
requests, so the only sign-in that can age is the pending authorization's own, between
its login and the consent decision (lab clock).
"""

from __future__ import annotations

from lab import clock
from lab.protocol import auth_context
from lab.store.base import Store

from . import pending as pending_store


def restart_if_stale(store: Store, pending: pending_store.Pending) -> bool:
    """True (and the pending authorization back at its login step) when its sign-in is
    older than the request's max_age."""
    params = dict(pending.request["params"])
    if not auth_context.too_old(params, pending.auth_time, clock.now_int(store)):
        return False
    store.execute("UPDATE as_pending SET stage = 'login', auth_time = NULL, acr = NULL, "
                  "amr = '[]' WHERE id = ?", (pending.id,))
    return True


def message(pending: pending_store.Pending) -> str:
    limit = auth_context.max_age(dict(pending.request["params"])) or 0
    return (f"Please sign in again: the app asks for a sign-in less than {limit} seconds old.")
