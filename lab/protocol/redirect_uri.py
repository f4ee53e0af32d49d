"""Redirect URI matching (RFC 6749 §3.1.2, §10.6; BCP §2.1, §4.1.3) and exact_redirect_uri.

Off, the AS matches the way too many deployments still do: a path prefix, with
the port ignored on loopback hosts. On, only string equality counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import OAuth2Request

from lab.controls import guard

from .errors import InvalidRedirectUriError, MissingRedirectUriError

EXACT = guard("exact_redirect_uri")

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def exact_match(registered: Iterable[str], uri: str) -> bool:
    # BCP §2.1: "authorization servers MUST utilize exact string matching"
    return uri in set(registered)


def loose_match(registered: Iterable[str], uri: str) -> bool:
    """The weak comparison: same scheme and host, path prefix, any port on loopback."""
    try:
        asked = urlsplit(uri)
        asked_port = asked.port
    except ValueError:
        return False
    if asked.fragment:
        return False
    for candidate in registered:
        try:
            reg = urlsplit(candidate)
            reg_port = reg.port
        except ValueError:
            continue
        if (asked.scheme, asked.hostname) != (reg.scheme, reg.hostname):
            continue
        if asked_port != reg_port and (asked.hostname or "") not in LOOPBACK_HOSTS:
            continue
        if asked.path.startswith(reg.path):
            return True
    return False


def acceptable(registered: Iterable[str], uri: str) -> bool:
    """What the client model answers, without recording anything."""
    registered = list(registered)
    return exact_match(registered, uri) or (not EXACT.on() and loose_match(registered, uri))


def validate_redirect_uri(request: OAuth2Request, registered: list[str]) -> str:
    """The authorization endpoint's check. A refusal is never a redirect (RFC 6749 §4.1.2.1:
    "the authorization server ... MUST NOT automatically redirect the user-agent to the
    invalid redirection URI")."""
    uri = request.payload.redirect_uri
    if not uri:
        # RFC 6749 §3.1.2.3: with several registered URIs the request must name one.
        if len(registered) == 1:
            return registered[0]
        raise MissingRedirectUriError()
    if len(request.payload.datalist.get("redirect_uri", [])) > 1:
        raise InvalidRedirectUriError()
    if exact_match(registered, uri):
        return str(uri)
    if loose_match(registered, uri):
        if EXACT.on():
            raise EXACT.refuse(InvalidRedirectUriError(),
                               reason="redirect_uri only prefix-matches a registered URI")
        return str(uri)
    raise InvalidRedirectUriError()
