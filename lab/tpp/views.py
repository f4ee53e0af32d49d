"""FinLens pages: thin views over links, client, callback and aggregate (no protocol logic here)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
)

from lab import context
from lab.config import LabConfig
from lab.controls import guard
from lab.controls.registry import Registry

from . import (
    aggregate,
    callback,
    client,
    identities,
    institutions,
    keyring,
    links,
    pay,
    pay_views,
    redirector,
    rewards,
    settings,
)
from . import signin as bank_signin
from .errors import NoSuchLinkError, TppError, UnknownInstitutionError
from .links import User

REFERRER_POLICY = guard("tpp_referrer_policy")
TPP_CONTROLS = ("tpp_checks_state", "tpp_checks_nonce", "tpp_id_token_validation",
                "tpp_checks_granted_scope", "tpp_no_open_redirect", "tpp_referrer_policy",
                "response_type_code_only", "tpp_checks_iss", "tpp_assertion_aud_issuer",
                "tpp_per_as_keys")
MAX_PENDING_FLOWS = 5

bp = Blueprint("tpp", __name__)


def _config() -> LabConfig:
    config: LabConfig = current_app.extensions["lab_config"]
    return config


def _store() -> Any:
    return context.current().store


def current_user() -> User | None:
    return links.get_user(_store(), session.get("user"))


def _user_or_guest() -> User:
    """"Link accounts" without signing in makes a guest profile for this browser."""
    user = current_user()
    if user is None:
        user = links.new_guest(_store())
        session["user"] = user.id
    return user


def _see_other(location: str) -> Response:
    return redirect(location, code=303)  # type: ignore[return-value]


@bp.get("/")
def home() -> str:
    return render_template("home.html", user=current_user(),
                           institutions=institutions.all_institutions(_store()))


@bp.post("/signin")
def signin() -> Response:
    username = request.form.get("username", "").strip()
    if not links.valid_username(username):
        raise TppError("A FinLens username is 1 to 32 letters, digits, dots, dashes or "
                       "underscores.")
    session["user"] = links.sign_in(_store(), username).id
    return _see_other("/dashboard")


@bp.post("/signin/bank/<inst_id>")
def signin_with_bank(inst_id: str) -> Response:
    """"Sign in with your bank": the flow is kept apart from link flows (OIDC §3.1.2.1)."""
    inst = institutions.get(_store(), inst_id)
    if inst is None:
        raise UnknownInstitutionError()
    url, flow = bank_signin.start(_config(), inst)
    pending = [f for f in session.get("signin_flows", []) if isinstance(f, dict)]
    session["signin_flows"] = [*pending[-(MAX_PENDING_FLOWS - 1):], flow.as_dict()]
    return _see_other(url)


def _save_signin_flows(flows: list[dict[str, Any]]) -> None:
    session["signin_flows"] = flows


def _complete_signin(source: Any) -> Response:
    try:
        who = bank_signin.handle(_config(), source.to_dict(flat=False), session.get("signin_flows"),
                            _save_signin_flows)
    except TppError as error:
        error.title = "FinLens could not sign you in"
        raise
    # A new sign-in starts a new session: nothing of the previous user's flows carries over.
    session.clear()
    session["user"] = who.user.id
    inst = institutions.get(_store(), who.institution_id)
    flash(f"Signed in with {inst.name if inst else 'your bank'} as {who.subject[:64]}.")
    return _see_other("/dashboard")


@bp.route("/signin/callback", methods=["GET", "POST"])
def signin_callback() -> Response | str:
    if request.method == "POST":
        return _complete_signin(request.form)
    if not request.args:
        # Hybrid (OIDC §3.3.2.5): the response is in the fragment; this page posts it back.
        return render_template("fragment.html", action="/signin/callback")
    return _complete_signin(request.args)


@bp.post("/signout")
def signout() -> Response:
    session.clear()
    return _see_other("/")


@bp.get("/link")
def choose_institution() -> str:
    return render_template("institutions.html", user=current_user(),
                           institutions=institutions.all_institutions(_store()))


def _start(inst_id: object) -> Response:
    inst = institutions.get(_store(), inst_id)
    if inst is None:
        raise UnknownInstitutionError()
    url, flow = client.start_flow(_config(), inst)
    _user_or_guest()
    pending = [f for f in session.get("flows", []) if isinstance(f, dict)]
    session["flows"] = [*pending[-(MAX_PENDING_FLOWS - 1):], flow.as_dict()]
    return _see_other(url)


@bp.route("/link/<inst_id>", methods=["GET", "POST"])
def start_link(inst_id: str) -> Response:
    return _start(inst_id)


def _save_flows(flows: list[dict[str, Any]]) -> None:
    session["flows"] = flows


def _complete(source: Any) -> Response:
    """Check and redeem the authorization response, store the link, go to a clean URL."""
    waiting = pay_views.take_step_up(source.get("state"))   # a payment's step-up (RFC 9470)
    outcome = callback.handle(_config(), source.to_dict(flat=False), session.get("flows"),
                              _save_flows)
    user = _user_or_guest()
    payment = pay.awaiting(_store(), outcome.flow.state if outcome.flow else None)
    if payment is not None and payment["user_id"] == user.id:
        done = pay.submit(_config(), outcome.institution, payment, outcome.token)
        return _see_other(f"/payments/{done['id']}")
    links.save_link(_store(), user_id=user.id, institution_id=outcome.institution.id,
                    subject=outcome.subject, token=outcome.token)
    if waiting is not None:
        return pay_views.finish_step_up(user.id, waiting)
    flash(f"{outcome.institution.name} is linked.")
    return _see_other("/dashboard")


@bp.route("/callback", methods=["GET", "POST"])
def callback_endpoint() -> Response | str:
    if request.method == "POST":
        return _complete(request.form)
    if not request.args:
        # A response in the fragment (implicit/hybrid) never reaches the server: this page
        # posts it back (the "fragment form-post" of legacy clients).
        return render_template("fragment.html")
    if REFERRER_POLICY.on():
        # BCP §4.2.4: the redirect endpoint handles the response server-side and sends the
        # browser on to a clean URL, so no page ever renders with the code in its address.
        REFERRER_POLICY.prevented("authorization response handled server-side; 303 to a "
                                  "clean URL with Referrer-Policy: no-referrer")
        return _complete(request.args)
    # Weak mode: an interstitial with a partner's image renders with ?code=… in its URL and
    # redeems by script. unsafe-url (set "so partners can attribute referrals") makes the
    # browser send the full URL, code included, in the image request's Referer.
    response = Response(render_template(
        "interstitial.html", fields=list(request.args.items(multi=True)),
        pixel=redirector.partner_origin(_config()) + "/pixel.png"))
    response.headers["Referrer-Policy"] = "unsafe-url"
    return response


@bp.get("/dashboard")
def dashboard() -> Response | str:
    user = current_user()
    if user is None:
        return _see_other("/")
    view = aggregate.build(_config(), user.id)
    return render_template("dashboard.html", user=user, dash=view,
                           partners=redirector.partners(_config()),
                           identity=identities.of_user(_store(), user.id))


@bp.get("/rewards")
def rewards_page() -> Response | str:
    """Points at partner programmes of the user's banks (FinLens calls the partner's API)."""
    user = current_user()
    if user is None:
        return _see_other("/")
    return render_template("rewards.html", user=user, rows=rewards.points(_config(), user.id))


def _own_link(link_id: str) -> dict[str, Any]:
    user = current_user()
    link = links.get_link(_store(), user.id, link_id) if user else None
    if link is None:
        raise NoSuchLinkError()
    return link


@bp.post("/links/<link_id>/unlink")
def unlink(link_id: str) -> Response:
    """RFC 7009 §2.1: revoke the refresh token (and so the grant), then forget the tokens."""
    link = _own_link(link_id)
    inst = institutions.get(_store(), link["institution_id"])
    if inst is not None:
        client.revoke(_config(), inst, link["refresh_token"], "refresh_token")
        client.revoke(_config(), inst, link["access_token"], "access_token")
    links.delete_link(_store(), link["id"])
    flash(f"{inst.name if inst else 'The institution'} is unlinked.")
    return _see_other("/dashboard")


@bp.post("/links/<link_id>/relink")
def relink(link_id: str) -> Response:
    return _start(_own_link(link_id)["institution_id"])


@bp.get("/pay/<link_id>")
def pay_page(link_id: str) -> str:
    link = _own_link(link_id)
    return render_template("pay.html", user=current_user(), link=link, payees=pay.PAYEES)


@bp.post("/pay/<link_id>")
def start_payment(link_id: str) -> Response:
    """Ask the link's bank for consent to this one payment (RFC 9396), then pay it."""
    link = _own_link(link_id)
    inst = institutions.get(_store(), link["institution_id"])
    if inst is None:
        raise UnknownInstitutionError()
    wanted = pay.order({k: str(v) for k, v in request.form.items()})
    user = _user_or_guest()
    url, flow = pay.start(_config(), inst, user.id, wanted)
    pending = [f for f in session.get("flows", []) if isinstance(f, dict)]
    session["flows"] = [*pending[-(MAX_PENDING_FLOWS - 1):], flow.as_dict()]
    return _see_other(url)


@bp.get("/payments/<payment_id>")
def payment_page(payment_id: str) -> str:
    user = current_user()
    payment = pay.get(_store(), user.id, payment_id) if user else None
    if payment is None:
        raise pay.NoSuchPaymentError()
    return render_template("payment.html", user=user, payment=payment)


@bp.get("/go")
def go() -> Response:
    return redirect(redirector.target(_config(), request.args.items(multi=True)), code=302
                    )  # type: ignore[return-value]


@bp.get("/settings")
def settings_page() -> str:
    rows: list[tuple[institutions.Institution, settings.Effective | None, Any]] = []
    for inst in institutions.all_institutions(_store()):
        try:
            _, eff = client.prepare(_config(), inst)
            rows.append((inst, eff, keyring.describe(_config(), inst, eff)))
        except TppError as exc:
            rows.append((inst, None, exc.description))
    registry = Registry(_store())
    return render_template("settings.html", user=current_user(), rows=rows,
                           chosen=settings.current(_store()),
                           explicit=settings.overrides(_store()),
                           controls=[(c, registry.is_on(c)) for c in TPP_CONTROLS])


def _render_error(error: TppError) -> Response:
    from lab.web.errors import error_response, wants_html

    if not wants_html():
        response = error_response(error.status_code or 400, error.error or "invalid_request",
                                  error.description or "")
    else:
        response = Response(render_template("error.html", error=error, user=current_user(),
                                            request_id=getattr(g, "request_id", None)),
                            status=error.status_code or 400)
        response.headers["Cache-Control"] = "no-store"
    # The error may be the answer to a callback: never leak its URL onwards.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(pay_views.bp)
    app.register_error_handler(TppError, _render_error)

    @app.template_filter("money")
    def _money(value: Any) -> str:
        return "—" if value is None else f"{value:,.2f}"

    @app.after_request
    def _no_referrer_on_callback(response: Response) -> Response:
        if request.path in ("/callback", "/signin/callback") \
                and "Referrer-Policy" not in response.headers:
            response.headers["Referrer-Policy"] = "no-referrer"
        return response
