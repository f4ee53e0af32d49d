"""The attacker's own HTTP client: its source address, the lab CA, optionally its certificate.

attacks.md §0: attacker clients bind 127.0.0.2, so the apps (directly, or through
mitmproxy's forwarded peer address) see traffic that is not the victim's.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

ATTACKER_ADDRESS = "127.0.0.2"


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source: str, **kwargs: Any) -> None:
        self._source = (source, 0)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = self._source
        super().init_poolmanager(*args, **kwargs)


def session(ca_path: str, *, source: str | None = ATTACKER_ADDRESS,
            cert: tuple[str, str] | None = None) -> requests.Session:
    """A requests session that trusts only the lab CA (never the environment's proxies)."""
    http = requests.Session()
    http.trust_env = False   # REQUESTS_CA_BUNDLE would override verify (psf/requests#3829)
    http.verify = ca_path
    if cert is not None:
        http.cert = cert
    if source:
        adapter = _SourceAddressAdapter(source)
        http.mount("https://", adapter)
        http.mount("http://", adapter)
    return http
