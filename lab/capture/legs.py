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
    if label == "bank":
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


def classify(flow: Any) -> str:
    """The leg of a mitmproxy HTTP flow."""
    return classify_path(flow_label(flow), flow.request.path)
