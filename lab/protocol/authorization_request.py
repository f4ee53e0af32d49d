"""The authorization endpoint's one resolver (style.md §4): a PAR request_uri first (RFC 9126 §4).

Registered once on `before_get_authorization_grant`, so the grants only ever see
the request the client pushed. A request object (JAR, RFC 9101) is resolved next,
after PAR, by lab/protocol/request_object.py: in the front channel, in the pushed
parameters, and at the PAR endpoint while a push is validated.
"""

from __future__ import annotations

from typing import Any

from lab import clock, context
from lab.controls import guard

from . import auth_context, par, request_object
from .errors import InvalidRequestError

PAR = guard("par_required")
SINGLE_USE = guard("request_uri_single_use")

# FAPI2 §5.3.3: clients "shall only send client_id and request_uri request parameters to the
# authorization endpoint".
FRONT_CHANNEL_PARAMS = {"client_id", "request_uri"}


def consume_at() -> str:
    return "authorization" if SINGLE_USE.param("consume_at") == "authorization" else "load"


def resolve(server: Any, request: Any) -> None:
    """Replace a request_uri by the pushed request, then a request object by its parameters;
    enforce par_required (and, in request_object, jar_required); then check what the request
    asks of the user's authentication (OIDC §3.1.2.1), pushed or not."""
    _resolve(server, request)
    pushed = getattr(request, "lab_pushed", False)
    auth_context.validate(request.payload.data,
                          None if pushed else server.error_redirect_uri(request))


def _resolve(server: Any, request: Any) -> None:
    if getattr(request, "lab_restored", False):
        consume_on_authorization(request)
        return
    if not getattr(request, "lab_pushed", False):  # not the PAR endpoint validating a push
        resolve_request_uri(request)
    request_object.apply(server, request)


def resolve_request_uri(request: Any) -> None:
    data = request.payload.data
    if "request_uri" not in data:
        if PAR.on():
            # RFC 9126 §4: the AS "will refuse, using the invalid_request error code, to
            # process any request to the authorization endpoint that does not have a
            # request_uri parameter with a value obtained from the PAR endpoint".
            raise PAR.refuse(par.ParRequiredError(),
                             reason="authorization request without request_uri")
        return
    uris = request.payload.datalist.get("request_uri", [])
    if len(uris) != 1:
        raise InvalidRequestError()
    extras = sorted({str(k)[:40] for k in data if k not in FRONT_CHANNEL_PARAMS})
    if extras and PAR.on():
        raise PAR.refuse(par.ParRequiredError(), reason="front-channel parameters besides "
                         "client_id and request_uri: " + ", ".join(extras[:8]))
    store = context.current().store
    if str(uris[0]).lower().startswith(("https:", "http:")):
        # RFC 9101 §5.2: a request object by reference at a URL; the AS fetches nothing
        # (only the PAR endpoint's URNs are request_uris here).
        raise request_object.RequestUriNotSupportedError()
    pushed = par.find(store, uris[0])
    # RFC 9126 §4: the request_uri must have been pushed by the client named in client_id.
    if pushed is None or pushed.client_id != data.get("client_id"):
        raise par.InvalidRequestUriError()
    check_age(clock.now(store) - pushed.created_at)
    check_use(pushed)
    # RFC 9101 §5 (which RFC 9126 §4 builds on): only the pushed parameters are used.
    request.use_pushed(pushed.params, pushed.uri_hash)


def check_age(age: float) -> None:
    # RFC 9126 §4: "An expired request_uri MUST be rejected as invalid."
    if age > float(SINGLE_USE.param("lifetime_off", 590)):
        raise par.InvalidRequestUriError()
    limit = float(SINGLE_USE.param("lifetime", 60))
    if age > limit and SINGLE_USE.on():
        raise SINGLE_USE.refuse(par.InvalidRequestUriError(),
                                reason=f"request_uri is {age:.0f} s old (limit {limit:.0f} s)")


def check_use(pushed: par.PushedRequest) -> None:
    if not SINGLE_USE.on():
        return  # weak mode: reusable until it expires
    if consume_at() == "authorization":
        if pushed.used_at is not None:
            raise SINGLE_USE.refuse(par.InvalidRequestUriError(),
                                    reason="request_uri already used for an authorization")
        return
    # RFC 9126 §4: "Authorization servers SHOULD treat request_uri values as one-time use".
    if not par.consume(context.current().store, pushed.uri_hash):
        raise SINGLE_USE.refuse(par.InvalidRequestUriError(),
                                reason="request_uri already used (consumed at first load)")


def consume_on_authorization(request: Any) -> None:
    """consume_at=authorization: the first browser to get its response wins."""
    hashed = getattr(request, "lab_request_uri", None)
    if not hashed or not SINGLE_USE.on() or consume_at() != "authorization":
        return
    if not par.consume(context.current().store, hashed):
        raise SINGLE_USE.refuse(par.InvalidRequestUriError(),
                                reason="request_uri already used for an authorization")
