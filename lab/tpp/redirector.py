"""/go: the partner-offer redirector a real aggregator has, and the open-redirect risk it brings.

BCP §4.11.1: "Clients MUST NOT expose open redirectors". With a prefix-matched
redirect_uri, `/go?url=https://attacker/…` would carry an authorization code
(appended by the AS) off to the attacker.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode, urlsplit

from lab import context
from lab.config import LabConfig
from lab.controls import guard

from . import institutions
from .errors import RedirectRefusedError

NO_OPEN_REDIRECT = guard("tpp_no_open_redirect")

PARTNER_PORT = 9447   # PartnerRewards, the attacker module's fixture (attacks.md §0)
PARTNER_ID = "partnerrewards"


def partner_origin(config: LabConfig) -> str:
    """PartnerRewards's origin: its entry in FinLens's directory, else its default port."""
    ctx = context.current_or_none()
    entry = institutions.get(ctx.store, PARTNER_ID) if ctx is not None else None
    return entry.api_base.rstrip("/") if entry else f"https://{config.host}:{PARTNER_PORT}"


def partners(config: LabConfig) -> dict[str, str]:
    """Partner name → origin: the allow-list /go keeps to when tpp_no_open_redirect is on."""
    return {"PartnerRewards": partner_origin(config)}


def _origin(url: str) -> str | None:
    if any(ord(c) < 0x21 or c == "\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port and port != default else "")


def target(config: LabConfig, args: Iterable[tuple[str, str]]) -> str:
    """Where /go sends the browser, given its query parameters in order (duplicates kept)."""
    pairs = list(args)
    urls = [v for k, v in pairs if k == "url"]
    others = [(k, v) for k, v in pairs if k != "url"]
    if len(urls) != 1 or not urls[0]:
        raise RedirectRefusedError()
    url = urls[0]
    if not NO_OPEN_REDIRECT.on():
        # Weak mode: anywhere, and whatever else came along (say, a code the AS appended).
        if _origin(url) is None:
            raise RedirectRefusedError()
        return url + (("&" if "?" in url else "?") + urlencode(others) if others else "")
    origin = _origin(url)
    if origin not in partners(config).values():
        raise NO_OPEN_REDIRECT.refuse(RedirectRefusedError(),
                                      reason=f"{origin or 'an invalid URL'} is not a partner")
    if others:
        names = ", ".join(sorted({k for k, _ in others}))[:200]
        raise NO_OPEN_REDIRECT.refuse(RedirectRefusedError(),
                                      reason=f"/go forwards no parameters (got {names})")
    return url
