"""The customer's side of the bank: sign in (password + second factor) and revoke connected apps.

Revoking calls `lab.domain.revocation.revoke_grant`, so the user's "stop" reaches
the tokens exactly as far as revocation_cascade and at_revocation_check allow.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import BadRequest

from lab.domain import clients, consent, customers, ledger, revocation, usage_monitor
from lab.protocol import security_events
from lab.store.base import Store
from lab.web.look import HONESTBANK_CSS

bp = Blueprint("bank_web", __name__)

MAX_CODE_ATTEMPTS = 5
# Connected apps per page, and monitoring stops shown: each card is about 0.8 KB, so a page
# stays some 25 KB however often the customer linked (each link is one card).
APPS_PER_PAGE = 25
STOPS_SHOWN = 5
PAGE_HEADERS = {
    # No external assets, no framing (a revoke button must not be clickjacked).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _store() -> Store:
    return current_app.extensions["lab_store"]  # type: ignore[no-any-return]


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def _check_csrf() -> None:
    """Every POST carries the per-session token (OWASP synchronizer-token pattern)."""
    sent = request.form.get("csrf_token", "").encode()
    expected = str(session.get("csrf", "")).encode()
    if not expected or not hmac.compare_digest(sent, expected):
        raise BadRequest("The form expired or did not come from this site. Please try again.")


def _page(template: str, status: int = 200, **values: Any) -> Response:
    body = render_template(template, user=session.get("user"), csrf_token=_csrf_token(),
                           honestbank_css=HONESTBANK_CSS, **values)
    return Response(body, status=status, headers=PAGE_HEADERS, mimetype="text/html")


@bp.get("/")
def home() -> Response:
    return redirect(url_for("bank_web.connected_apps"))  # type: ignore[return-value]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    if request.method == "GET":
        return _page("bank_login.html")
    _check_csrf()
    username = request.form.get("username", "").strip()
    if not customers.check_password(_store(), username, request.form.get("password", "")):
        return _page("bank_login.html", 401, error="Wrong username or password.")
    # A fresh session at each sign-in: no fixation of a pre-login session or its CSRF token.
    session.clear()
    session["pending_user"] = username
    session["code_attempts"] = 0
    customer = customers.get(_store(), username) or {}
    if customer.get("second_factor") == "sms":
        customers.send_sms_code(_store(), username)
    return redirect(url_for("bank_web.second_factor"), 303)  # type: ignore[return-value]


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> Response:
    username = session.get("pending_user")
    customer = customers.get(_store(), username) if isinstance(username, str) else None
    if customer is None:
        return redirect(url_for("bank_web.login"), 303)  # type: ignore[return-value]
    hint = customers.second_factor_hint(customer)
    if request.method == "GET":
        return _page("bank_code.html", hint=hint)
    _check_csrf()
    code = request.form.get("code", "")
    check = customers.check_totp if customer["second_factor"] == "totp" else \
        customers.check_sms_code
    if not check(_store(), customer["username"], code):
        session["code_attempts"] = int(session.get("code_attempts", 0)) + 1
        if session["code_attempts"] >= MAX_CODE_ATTEMPTS:
            session.clear()
            flash("Too many wrong codes. Please sign in again.")
            return redirect(url_for("bank_web.login"), 303)  # type: ignore[return-value]
        return _page("bank_code.html", 401, hint=hint, error="That code is not right.")
    session.clear()
    session["user"] = customer["username"]
    return redirect(url_for("bank_web.connected_apps"), 303)  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    _check_csrf()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("bank_web.login"), 303)  # type: ignore[return-value]


def _when(ts: float | None) -> str:
    """To the second: two links of one app made a minute apart must read differently."""
    if not ts:
        return "at an unknown time"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("on %d %b %Y at %H:%M:%S UTC")


def _app_view(grant: dict[str, Any], number: int, of: int) -> dict[str, Any]:
    """One connected-app entry; `number` of `of` tells apart several links of one app."""
    accounts = []
    for account_id, permissions in grant["accounts"].items():
        account = ledger.get_account(_store(), account_id) or {"name": account_id, "iban": ""}
        accounts.append({"name": account["name"], "iban": account["iban"],
                         "permissions": [consent.PERMISSIONS.get(p, p) for p in permissions]})
    return {"grant_id": grant["id"], "client_id": grant["client_id"],
            "client_name": _app_name(grant["client_id"]), "scope": grant["scope"],
            "granted": _when(grant["created_at"]), "accounts": accounts,
            "link": f"link {number} of {of}" if of > 1 else "",
            "account_names": ", ".join(a["name"] for a in accounts) or "no accounts"}


def _app_views(grants: list[dict[str, Any]], first: int, last: int) -> list[dict[str, Any]]:
    """Cards `first`..`last` (0-based, end excluded) of `grants` (newest first); an app linked
    more than once has its links numbered oldest first, counted over every link."""
    number: dict[str, int] = {}
    count: dict[str, int] = {}
    for grant in sorted(grants, key=lambda g: g["created_at"] or 0):
        count[grant["client_id"]] = count.get(grant["client_id"], 0) + 1
        number[grant["id"]] = count[grant["client_id"]]
    return [_app_view(g, number[g["id"]], count[g["client_id"]]) for g in grants[first:last]]


def _app_name(client_id: str) -> str:
    """The name the app registered with (the AS's client directory is the bank's own)."""
    return clients.client_name(_store(), client_id)


@bp.get("/connected-apps")
def connected_apps() -> Response:
    """One page of cards, newest first: a customer linked hundreds of times (a matrix job's
    alice) still gets a page of bounded size, never one that outgrows the capture proxy's
    body limit (whose 502 she would see instead)."""
    user = session.get("user")
    if not user:
        return redirect(url_for("bank_web.login"), 303)  # type: ignore[return-value]
    grants = consent.grants_of(_store(), user)
    pages = max(1, -(-len(grants) // APPS_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    first = (page - 1) * APPS_PER_PAGE
    apps = _app_views(grants, first, first + APPS_PER_PAGE)
    stopped = usage_monitor.stopped(_store(), user)
    stops = [{"client_name": _app_name(f["client_id"]), "because": f["because"],
              "when": _when(f["revoked_at"])} for f in stopped[:STOPS_SHOWN]]
    return _page("bank_connected_apps.html", apps=apps, stops=stops,
                 older_stops=len(stopped) - len(stops), page=page, pages=pages,
                 total=len(grants), first=first + 1, last=first + len(apps))


@bp.post("/connected-apps/revoke")
def revoke() -> Response:
    user = session.get("user")
    if not user:
        return redirect(url_for("bank_web.login"), 303)  # type: ignore[return-value]
    _check_csrf()
    grant = consent.get_grant(_store(), request.form.get("grant_id", ""))
    if grant is None or grant["username"] != user:
        abort(404)
    # RFC 7009 §2.1 and FAPI2 §6.8: withdrawing consent should end every token under it;
    # how far that reaches is revocation_cascade's and at_revocation_check's call.
    if revocation.revoke_grant(_store(), grant["id"]):
        flash(_revoked_message(user, grant))
        # The app hears of it at once (RFC 8935 push of a CAEP session-revoked SET).
        security_events.push(current_app.extensions["bank_protector"].config,
                             client_id=grant["client_id"], grant_id=grant["id"], username=user,
                             reason="you revoked its access on HonestBank's connected-apps page",
                             initiator="user")
    return redirect(url_for("bank_web.connected_apps"), 303)  # type: ignore[return-value]


def _revoked_message(user: str, grant: dict[str, Any]) -> str:
    """What revoking one link did, truthfully: other links of the same app keep working."""
    name = _app_name(grant["client_id"])
    revoked = _app_view(grant, 1, 1)
    left = [g for g in consent.grants_of(_store(), user) if g["client_id"] == grant["client_id"]]
    said = f"The link of {name} made {revoked['granted']} ({revoked['account_names']}) is revoked."
    if not left:
        return f"{said} {name} can no longer access your accounts."
    return (f"{said} {name} still has access through {len(left)} other "
            f"link{'s' if len(left) > 1 else ''} listed below; revoke "
            f"{'those' if len(left) > 1 else 'it'} too to stop it entirely.")
