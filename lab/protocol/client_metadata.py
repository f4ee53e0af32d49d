"""Client metadata values, checked before anything stores them (RFC 7591 §2, §3.2.2).

A registered value ends up in the AS's login and consent pages and the bank's
"connected apps" page, so every string anywhere in the metadata must be text a
page can show: Unicode scalar values (a lone surrogate cannot be encoded as UTF-8),
no control characters, no bidirectional overrides (which make "ppAliveE" read as
"EvilApp"), and bounded in length and nesting. Redirect URIs must be URIs the code
may safely go to (redirect_uri.safe_redirect_uri). `lab.domain.clients.display_text` makes
whatever is already stored (from before these checks, or written to the store directly) safe
to show.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from lab.domain.clients import BIDI_CONTROLS, MAX_NAME

from .redirect_uri import safe_redirect_uri

MAX_TEXT = 2000          # URIs, scope, anything else
MAX_ITEMS = 50           # entries in any list (redirect_uris, contacts, jwks keys, ...)
MAX_DEPTH = 6            # {"jwks": {"keys": [{"x5c": [...]}]}} is four levels
SHORT_FIELDS = ("client_name", "software_id", "software_version", "token_endpoint_auth_method",
                "id_token_signed_response_alg")


class MetadataProblem(ValueError):
    """What is wrong, in words that name a field but never echo the value."""

    def __init__(self, message: str, *, redirect_uri: bool = False) -> None:
        super().__init__(message)
        self.redirect_uri = redirect_uri


def text_problem(value: str, limit: int) -> str | None:
    """Why `value` is not showable text of at most `limit` characters, or None."""
    if len(value) > limit:
        return f"is longer than {limit} characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    for char in value:
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            return "contains a control character"
    return None


def check(data: dict[str, Any]) -> None:
    """Every value of `data`, recursively; raises MetadataProblem."""
    for name, value in data.items():
        label = name if isinstance(name, str) and name.isascii() and name.isidentifier() \
            else "a metadata field"
        if name == "redirect_uris":
            _check_redirect_uris(value)
            continue
        limit = MAX_NAME if name in SHORT_FIELDS else MAX_TEXT
        _check_value(value, label, limit, depth=1)
        if isinstance(name, str) and (problem := text_problem(name, MAX_NAME)):
            raise MetadataProblem(f"a metadata field name {problem}")


def _check_value(value: Any, label: str, limit: int, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise MetadataProblem(f"{label} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if problem := text_problem(value, limit):
            raise MetadataProblem(f"{label} {problem}")
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise MetadataProblem(f"{label} has more than {MAX_ITEMS} entries")
        for item in value:
            _check_value(item, label, MAX_TEXT if limit == MAX_TEXT else limit, depth + 1)
    elif isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise MetadataProblem(f"{label} has more than {MAX_ITEMS} members")
        for key, item in value.items():
            if problem := text_problem(str(key), MAX_NAME):
                raise MetadataProblem(f"a member name in {label} {problem}")
            # x5c certificates are long base64; everything else stays short text.
            _check_value(item, label, 20_000 if key == "x5c" else MAX_TEXT, depth + 1)
    elif isinstance(value, int | float) and not isinstance(value, bool) and \
            not -(2**63) <= value <= 2**63 - 1:
        # RFC 7591 has no numeric metadata the lab reads; a number must still be storable
        # and comparable: finite (NaN fails the comparison too), not hundreds of digits.
        raise MetadataProblem(f"{label} is a number out of range")


def _check_redirect_uris(value: Any) -> None:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise MetadataProblem(f"redirect_uris is a list of at most {MAX_ITEMS} URIs",
                              redirect_uri=True)
    for uri in value:
        if not isinstance(uri, str) or text_problem(uri, MAX_TEXT) or not safe_redirect_uri(uri):
            raise MetadataProblem(
                "each redirect URI must be an absolute https URI without a fragment (http only "
                "on a loopback IP address, RFC 8252 section 7.3), at most "
                f"{MAX_TEXT} printable ASCII characters", redirect_uri=True)
