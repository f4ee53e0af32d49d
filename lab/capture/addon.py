"""The lab's mitmproxy addon: forward the client's certificate and address, record each exchange.

`request`: strip the proxy headers a client may have sent (lab.web.proxy_headers),
then add the client certificate (URL-encoded PEM), the client address and the
per-run secret the apps check. `response` / `error`: one `captures` row, with the
leg from lab.capture.legs, the request id the app stamped (X-Lab-Request-Id) and the
client's address (who sent it: 127.0.0.2 is the attacker).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from lab.store.base import Store
from lab.web.proxy_headers import (
    CLIENT_ADDR_HEADER,
    CLIENT_CERT_HEADER,
    PROXY_HEADERS,
    SECRET_HEADER,
)
from lab.web.request_id import HEADER as REQUEST_ID_HEADER

from . import legs
from .store import Exchange, ensure_schema, record

log = logging.getLogger("fapi_lab.capture")
ADMIN_PREFIX = "/admin"


class LabCapture:
    def __init__(self, store: Store, secret: str, labels: dict[int, str]) -> None:
        """`labels`: listening (public) port → origin label ("as", "bank", "tpp")."""
        self.store = store
        self.secret = secret
        self.labels = labels
        ensure_schema(store)

    def _label(self, flow: Any) -> str:
        sockname = getattr(flow.client_conn, "sockname", None)
        port = sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None
        return self.labels.get(port, "other") if isinstance(port, int) else "other"

    def request(self, flow: Any) -> None:
        flow.metadata.setdefault("lab_label", self._label(flow))
        flow.metadata["lab_request_headers"] = [
            (k, v) for k, v in flow.request.headers.items(multi=True)]
        for name in PROXY_HEADERS:
            flow.request.headers.pop(name, None)
        chain = getattr(flow.client_conn, "certificate_list", None) or []
        if chain:
            flow.request.headers[CLIENT_CERT_HEADER] = quote(chain[0].to_pem().decode())
        peer = _peer_address(flow)
        if peer is not None:
            flow.request.headers[CLIENT_ADDR_HEADER] = peer
        flow.request.headers[SECRET_HEADER] = self.secret

    def response(self, flow: Any) -> None:
        self._record(flow)

    def error(self, flow: Any) -> None:
        self._record(flow)

    def _record(self, flow: Any) -> None:
        if flow.metadata.get("lab_recorded"):
            return
        flow.metadata["lab_recorded"] = True
        if is_operator_traffic(legs.flow_label(flow), flow.request.path) \
                or is_page_poll(legs.flow_label(flow), flow.request.path):
            return
        req, resp = flow.request, flow.response
        headers = flow.metadata.get("lab_request_headers")
        if headers is None:
            headers = [(k, v) for k, v in req.headers.items(multi=True)
                       if k.lower() != SECRET_HEADER.lower()]
        exchange = Exchange(
            label=legs.flow_label(flow), leg=legs.classify(flow), method=req.method,
            url=req.pretty_url, request_headers=headers,
            request_body=req.get_content(strict=False),
            status=resp.status_code if resp is not None else None,
            response_headers=[(k, v) for k, v in resp.headers.items(multi=True)]
            if resp is not None else [],
            response_body=_body_or_error(flow),
            request_id=resp.headers.get(REQUEST_ID_HEADER) if resp is not None else None,
            client_addr=_peer_address(flow),
        )
        try:
            record(self.store, exchange)
        except Exception:  # a failed capture never breaks the lab's traffic
            log.exception("could not record a capture")


def _body_or_error(flow: Any) -> bytes | None:
    """The response body, and mitmproxy's error if the exchange failed: a response it cut off
    (over body_size_limit) or an upstream it could not reach reached the client as mitmproxy's
    own 502, while the row showed only the app's status line and no body."""
    resp = flow.response
    body = resp.get_content(strict=False) if resp is not None else None
    error = getattr(flow.error, "msg", None)
    if not error:
        return body
    return (body or b"") + f"[capture proxy error: {error}]".encode()


def is_operator_traffic(label: str, path: str) -> bool:
    """The admin API (CLI, dashboard) is the operator's channel, not a leg of any flow: left
    out of the capture, so reading the capture does not itself add to it."""
    return label == "as" and (path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"))


# FinLens's dashboard asks its own server whether a link was stopped, every 300 ms while one
# is active (lab/tpp/link_status.py): page housekeeping, no leg of any flow. Recorded, an
# open dashboard would add some 12,000 rows an hour to the capture.
PAGE_POLLS = {("tpp", "/links/status")}


def is_page_poll(label: str, path: str) -> bool:
    return (label, path.split("?", 1)[0]) in PAGE_POLLS


def _peer_address(flow: Any) -> str | None:
    """The client's address as mitmproxy saw it (127.0.0.2: the attacker, attacker/net.py)."""
    peer = getattr(flow.client_conn, "peername", None)
    return str(peer[0]) if isinstance(peer, tuple) and peer else None
