"""Redirect URI matching (RFC 6749 §3.1.2, §10.6; BCP §2.1, §4.1.3) and exact_redirect_uri.

Off, the AS matches the way too many deployments still do: a path prefix, with
the port ignored on loopback hosts. On, only string equality with a registered
URI that is safe to send a code to (https; http only on a loopback IP) counts.
A URI with control characters or spaces is malformed, refused whatever the switches.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import OAuth2Request

from lab.controls import guard

from .errors import InvalidRedirectUriError, MissingRedirectUriError

EXACT = guard("exact_redirect_uri")

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# RFC 8252 §7.3: native apps' loopback redirects use an IP literal; §8.3: "localhost" is
# NOT RECOMMENDED (it may resolve elsewhere).
LOOPBACK_IPS = {"127.0.0.1", "::1"}


def well_formed(uri: str) -> bool:
    """Printable ASCII only (RFC 3986 §2): a CR, LF or space would be stripped or split on the
    way to the browser, sending the code to a URI that was never registered."""
    return uri.isascii() and uri.isprintable() and " " not in uri


def safe_redirect_uri(uri: str) -> bool:
    """An absolute https URI without a fragment (RFC 6749 §3.1.2), or http on a loopback IP
    for native apps (RFC 8252 §7.3; FAPI2 allows no other http redirect URI)."""
    if not well_formed(uri):
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.fragment or "#" in uri or not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_IPS)


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
        if len(registered) != 1:
            raise MissingRedirectUriError()
        return _registered_and_safe(registered[0])
    if len(request.payload.datalist.get("redirect_uri", [])) > 1 or not isinstance(uri, str) \
            or not well_formed(uri):
        raise InvalidRedirectUriError()
    if exact_match(registered, uri):
        return _registered_and_safe(uri)
    if loose_match(registered, uri):
        if EXACT.on():
            raise EXACT.refuse(InvalidRedirectUriError(),
                               reason="redirect_uri only prefix-matches a registered URI")
        return str(uri)
    raise InvalidRedirectUriError()


def _registered_and_safe(uri: str) -> str:
    """A registered URI the code may go to: never a malformed one; with exact_redirect_uri on,
    only https (or loopback http) — attacks.md §2.2: "string-equal to a registered https URI".
    Registrations are checked (client_metadata), so this catches rows stored before or around
    those checks."""
    if not well_formed(uri):
        raise InvalidRedirectUriError()
    if EXACT.on() and not safe_redirect_uri(uri):
        raise EXACT.refuse(InvalidRedirectUriError(),
                           reason="registered redirect_uri is not https")
    return uri
