"""HonestBank's open-banking API (docs/architecture.md): accounts, balances, transactions, payments.

Views are thin: the protector decides who may see what; this module only shapes
JSON and validates query parameters and bodies.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, g, jsonify, request

from lab import clock, context
from lab.bank import payment_submission, payments
from lab.bank.protector import AccessToken, Protector
from lab.domain import ledger, reference_tokens
from lab.jose import http_signatures as sig
from lab.protocol import http_signatures as signing
from lab.protocol import sender_binding as binding
from lab.protocol import step_up
from lab.protocol.phantom import CONFIRMED_HEADER, FORWARDED_FOR_HEADER
from lab.protocol.resource_errors import InvalidRequestError

bp = Blueprint("bank_api", __name__)

DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000


def protector() -> Protector:
    return current_app.extensions["bank_protector"]  # type: ignore[no-any-return]


def _token_elsewhere() -> bool:
    """RFC 6750 §2.2/§2.3: the form-body and query-string methods, which the bank refuses."""
    if "access_token" in request.args:
        return True
    return request.mimetype == "application/x-www-form-urlencoded" and \
        "access_token" in request.form


def _resource_request() -> binding.ResourceRequest:
    """Method, public URL (the bank's origin, as the client addressed it: RFC 9449 §4.3 htu),
    DPoP headers and the TLS client certificate Werkzeug put in the environ."""
    cert = request.environ.get("SSL_CLIENT_CERT")
    # What the gateway says counts only in opaque mode, where the bank requires the gateway's
    # mutual TLS; in JWT mode a client could send the same headers.
    gateway = reference_tokens.opaque(context.current().store)
    return binding.ResourceRequest(
        method=request.method,
        url=protector().config.bank_url + quote(request.path, safe="/!$&'()*+,;=:@-._~"),
        dpop=request.headers.getlist("DPoP"),
        client_cert=cert if isinstance(cert, str) else None,
        confirmed=request.headers.get(CONFIRMED_HEADER) if gateway else None,
        forwarded_for=request.headers.get(FORWARDED_FOR_HEADER) if gateway else None)


def _behind_gateway() -> bool:
    """Opaque mode: the bank answers only the gateway, which verifies the client's message
    signature and signs the answer the client gets (docs/gateway.md)."""
    return reference_tokens.opaque(context.current().store)


def _signed_message() -> sig.Request:
    """The request as RFC 9421 sees it: @target-uri is the bank's public URL with the query as
    sent (the client signed what it addressed, not the internal port behind the capture)."""
    query = request.query_string.decode("latin-1")
    return sig.Request(request.method, _resource_request().url + (f"?{query}" if query else ""),
                       sig.Fields(request.headers.items()))


def authorized(scope: str) -> AccessToken:
    """The request's verified token, with the scope this endpoint needs."""
    resource = _resource_request()
    token = protector().authenticate(request.headers.get("Authorization"), _token_elsewhere(),
                                     resource)
    # HTTPSig: the signature is the token's client's, so it is checked once the token is known.
    # In opaque mode the gateway checked it at the URL the client addressed (docs/gateway.md).
    if not _behind_gateway():
        g.signature_label = signing.check_request(protector().store, token.client_id,
                                                  _signed_message(), request.get_data())
    protector().require_customer(token)
    account_id = (request.view_args or {}).get("account_id")
    protector().watch_usage(token, resource,
                            address=protector().client_address(resource, request.remote_addr),
                            user_agent=request.headers.get("User-Agent", ""),
                            account_id=account_id if isinstance(account_id, str) else None,
                            request_id=context.current().request_id)
    protector().require_scope(token, scope)
    return token


@bp.after_request
def _no_store(response: Response) -> Response:
    # Account data must not sit in shared caches (RFC 9111 §5.2.2.5).
    response.headers["Cache-Control"] = "no-store"
    # RFC 9449 §9: a resource server that requires nonces supplies the next one this way.
    nonce = binding.current_nonce()
    if nonce:
        response.headers["DPoP-Nonce"] = nonce
    if signing.signs_responses() and not _behind_gateway():
        # HTTPSig: the response signed last, over the fields above and the final body.
        response.headers.update(signing.sign_response(
            protector().config.keys_dir, response.status_code, list(response.headers.items()),
            response.get_data(), _signed_message(), g.get("signature_label")))
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The key the bank signs its responses with (FAPI 2.0 HTTP Signatures), for clients."""
    return jsonify(signing.bank_jwks(protector().config.keys_dir))


def _account_json(account: dict[str, Any]) -> dict[str, Any]:
    return {"account_id": account["id"], "type": account["type"], "name": account["name"],
            "iban": account["iban"], "currency": account["currency"]}


@bp.get("/accounts")
def list_accounts() -> Response:
    token = authorized("accounts:read")
    return jsonify({"accounts": [_account_json(a) for a in protector().accounts(token)]})


@bp.get("/accounts/<account_id>/balances")
def balances(account_id: str) -> Response:
    token = authorized("accounts:read")
    account = protector().account(token, account_id, "balances")
    store = protector().store
    today = dt.datetime.fromtimestamp(clock.now(), dt.UTC).date()
    current = ledger.balance_cents(store, account["id"])
    row = store.query_one("SELECT COALESCE(SUM(amount_cents), 0) AS s FROM transactions "
                          "WHERE account_id = ? AND booked_on >= ?",
                          (account["id"], today.isoformat()))
    closing = current - int(row["s"] if row else 0)
    currency = account["currency"]
    return jsonify({"account_id": account["id"], "balances": [
        {"type": "closingBooked", "amount": ledger.money(closing, currency),
         "reference_date": (today - dt.timedelta(days=1)).isoformat()},
        {"type": "interimAvailable", "amount": ledger.money(current, currency),
         "reference_date": today.isoformat()},
    ]})


def _date_arg(name: str) -> str | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        if not DATE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidRequestError("from and to must be dates as YYYY-MM-DD.") from None


def _int_arg(name: str, default: int, highest: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"[0-9]{1,7}", value) or not 1 <= int(value) <= highest:
        raise InvalidRequestError("page must be 1 or more; page_size from 1 to 100.")
    return int(value)


def _page_url(account_id: str, page: int, page_size: int, from_date: str | None,
              to_date: str | None) -> str:
    query = {k: v for k, v in (("from", from_date), ("to", to_date)) if v}
    query.update(page=str(page), page_size=str(page_size))
    return (f"{protector().config.bank_url}/accounts/{quote(account_id, safe='')}"
            f"/transactions?{urlencode(query)}")


@bp.get("/accounts/<account_id>/transactions")
def transactions(account_id: str) -> Response:
    token = authorized("transactions:read")
    from_date, to_date = _date_arg("from"), _date_arg("to")
    page = _int_arg("page", 1, MAX_PAGE)
    page_size = _int_arg("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if from_date and to_date and from_date > to_date:
        raise InvalidRequestError("from must not be after to.")
    account = protector().account(token, account_id, "transactions")
    rows, total = ledger.transactions(protector().store, account["id"], from_date=from_date,
                                      to_date=to_date, offset=(page - 1) * page_size,
                                      limit=page_size)
    links = {"self": _page_url(account["id"], page, page_size, from_date, to_date)}
    if (page - 1) * page_size + len(rows) < total:
        links["next"] = _page_url(account["id"], page + 1, page_size, from_date, to_date)
    return jsonify({
        "account_id": account["id"],
        "transactions": [{
            "transaction_id": r["id"], "booking_date": r["booked_on"],
            "amount": ledger.money(r["amount_cents"], account["currency"]),
            "description": r["description"], "counterparty": r["counterparty"],
        } for r in rows],
        "page": page, "page_size": page_size, "total": total, "_links": links,
    })


@bp.post("/payments")
def create_payment() -> tuple[Response, int]:
    token = authorized("payments:write")
    step_up.require_recent_sca(token.claims)   # RFC 9470: before the body is even read
    body = payments.parse_body(request.mimetype, request.get_data())
    order = payments.parse_payment(body)
    account = protector().account(token, order.debtor_account_id, "payments")
    payments.check_account(order, account)
    payment = payment_submission.submit(
        protector().store, token, order, account, body,
        request.headers.get(payment_submission.IDEMPOTENCY_HEADER))
    return jsonify(payment), 201
