"""Which leg of a FAPI flow an exchange is (/work/shared/attacks.md §1 "lab legs").

Decided from the origin the client spoke to (the flow label: as, bank, tpp) and the
path, so a capture row says "token" or "par" without anyone reading URLs.
"""

from __future__ import annotations

from typing import Any

LEGS = ("authz_request", "authz_response", "par", "token", "userinfo", "revocation",
        "introspection", "resource", "tpp_ui", "other")

_AS_PATHS = {
    "/authorize": "authz_request",
    "/par": "par",
    "/token": "token",
    "/userinfo": "userinfo",
    "/revoke": "revocation",
    "/introspect": "introspection",
}
_BANK_RESOURCES = ("/accounts", "/payments")


def classify_path(label: str, path: str) -> str:
    """The leg of a request to origin `label` ("as", "bank", "tpp") at `path`."""
    path = path.split("?", 1)[0].split("#", 1)[0] or "/"
    if label == "as":
        return _AS_PATHS.get(path.rstrip("/") or "/", "other")
    if label in ("bank", "gateway"):  # the gateway fronts the bank's API (docs/gateway.md)
        if any(path == p or path.startswith(p + "/") for p in _BANK_RESOURCES):
            return "resource"
        return "other"
    if label == "tpp":
        return "authz_response" if path == "/callback" else "tpp_ui"
    return "other"


def flow_label(flow: Any) -> str:
    """The origin a flow was sent to, as the capture addon tagged it (else "other")."""
    label = flow.metadata.get("lab_label") if hasattr(flow, "metadata") else None
    return label if isinstance(label, str) else "other"


RESPONSE_PARAMS = ("code=", "error=", "response=")


def is_authorization_response(label: str, status: int | None, location: str | None) -> bool:
    """The AS sending the browser back to a client: the authorization response (RFC 6749
    §4.1.2), seen by the proxy before the client's callback ever is (a closed tab included)."""
    if label != "as" or status not in (302, 303, 307) or not location:
        return False
    query = location.split("?", 1)[1] if "?" in location else ""
    fragment = location.split("#", 1)[1] if "#" in location else ""
    return any(p in f"&{query}&{fragment}" for p in ("&" + name for name in RESPONSE_PARAMS))


def classify(flow: Any) -> str:
    """The leg of a mitmproxy HTTP flow (a redirect carrying a code is `authz_response`)."""
    label = flow_label(flow)
    response = getattr(flow, "response", None)
    if response is not None and is_authorization_response(
            label, response.status_code, response.headers.get("Location")):
        return "authz_response"
    return classify_path(label, flow.request.path)
