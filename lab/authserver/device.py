"""The browser's device cookie, the device-confirmation step, and alice's "phone".

risk_based_auth may ask a customer to confirm a sign-in on her registered device. In the
lab that device is a page, /lab/device (like the SMS inbox, it stands for her phone): it
lists the sign-ins waiting for her, with the reasons the AS asked, and she approves or
declines. The sign-in's own page then continues (POST /login/device).
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Flask, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from lab.domain import customers, login_risk
from lab.domain.login_risk import SignIn
from lab.protocol.errors import LoginRequiredError
from lab.store.base import Store

from . import login, pages
from . import pending as pending_store

bp = Blueprint("device", __name__)
COOKIE = "hb_device"
MAX_AGE = 400 * 86400          # RFC 6265bis caps cookie lifetimes at 400 days

WAITING = """<h1>Confirm on your phone</h1>
<p>This sign-in needs a confirmation on your registered device. Open the HonestBank app on
your phone and approve it, then continue here.</p>
{% if message %}<div class="error">{{ message }}</div>{% endif %}
{% if reasons %}<p>Why we ask:</p><ul class="reasons">{% for r in reasons %}<li>{{ r }}</li>
{% endfor %}</ul>{% endif %}
<form method="post" action="{{ action }}" data-step="device">
 <input type="hidden" name="pending" value="{{ pending }}">
 <button type="submit">I have approved it: continue</button>
 <p class="muted">Lab: the phone is the <a href="{{ phone }}" target="_blank">device page</a>.</p>
</form>"""

PHONE = """<h1>{{ username }}'s phone</h1>
<p class="muted">Lab: this page stands for the HonestBank app on the customer's registered
phone. In real life only she sees it.</p>
<form method="get"><label for="user">Customer</label>
<input id="user" name="user" value="{{ username }}"><button type="submit">Show</button></form>
{% for c in waiting %}<form method="post" data-step="phone"><fieldset>
 <legend>Sign-in from {{ c.address }}: was this you?</legend>
 <ul>{% for r in c.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
 <input type="hidden" name="confirmation" value="{{ c.id }}">
 <input type="hidden" name="user" value="{{ username }}">
 <button type="submit" name="answer" value="approve">Yes, it's me</button>
 <button type="submit" name="answer" value="decline" class="secondary">No, decline</button>
</fieldset></form>{% else %}<p>Nothing waiting.</p>{% endfor %}"""


def _store() -> Store:
    store: Store = current_app.extensions["lab_store"]
    return store


def init(app: Flask) -> None:
    """Give every browser a device cookie (a random id; known once a sign-in completes)."""
    app.register_blueprint(bp)

    @app.after_request
    def set_device_cookie(response: Response) -> Response:
        if new := g.get("new_device"):
            response.set_cookie(COOKIE, new, max_age=MAX_AGE, secure=True, httponly=True,
                                samesite="Lax")
        return response


def _device() -> str:
    value = request.cookies.get(COOKIE, "")
    if value and len(value) <= 64 and value.isascii():
        return value
    if not g.get("new_device"):
        g.new_device = secrets.token_urlsafe(16)
    return str(g.new_device)


def sign_in(pending: pending_store.Pending) -> SignIn:
    """This request's address (the real client's, lab.web.proxy_headers) and device."""
    return login.sign_in_of(pending, request.remote_addr or "", _device())


def refused(response: Response, result: login.StepResult | None) -> Response:
    """RFC 6585 §4 / RFC 9110 §10.2.3: a 429 says when to come back."""
    if result is not None and result.retry_after is not None:
        response.headers["Retry-After"] = str(result.retry_after)
    return response


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def page(pending: pending_store.Pending, result: login.StepResult, message: str = "",
         status: int = 200) -> Response:
    return _html(pages.page("Confirm on your phone", WAITING, pending=pending.id,
                            action=url_for("device.device_step"), reasons=result.reasons,
                            message=message, phone=url_for("device.phone",
                                                           user=pending.username)), status)


@bp.post("/login/device")
def device_step() -> Response:
    store = _store()
    pending_id = request.form.get("pending")
    found = pending_store.get(store, pending_id)
    if found is None or not pending_store.bound(session, pending_id) or found.stage != "device":
        raise LoginRequiredError()
    result = login.device_step(store, found, sign_in(found))
    if not result.ok:
        return page(found, result, result.message, result.status)
    if result.next_stage == "mfa":
        hint, sms = login.factor_hint(store, found)
        return _html(pages.page("Second factor", pages.MFA, hint=hint, sms=sms,
                                pending=found.id, action=url_for("authserver.mfa_step"),
                                sms_url=url_for("authserver.sms_inbox"), message=""))
    return redirect(url_for("authserver.consent_page", pending=found.id), 303)


@bp.route("/lab/device", methods=["GET", "POST"])
def phone() -> Response:
    store = _store()
    username = str(request.values.get("user", "alice"))[:100]
    if request.method == "POST":
        login_risk.answer(store, str(request.form.get("confirmation", "")),
                          request.form.get("answer") == "approve")
        return redirect(url_for("device.phone", user=username), 303)
    known = customers.get(store, username) is not None
    return _html(pages.page("Phone", PHONE, username=username,
                            waiting=login_risk.waiting(store, username) if known else []))
