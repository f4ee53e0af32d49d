"""TLS for gunicorn workers: one context per process, with the client certificates the lab trusts.

gunicorn asks its `ssl_context` hook for a context on every connection; building one
(loading the certificate chain) per connection would cost more than the request. Each
worker keeps one, and loads client certificates registered since (dynamic registration
of a self-signed certificate writes it into the PKI's trusted folder, possibly in
another worker) before the next handshake: a directory stat per connection.
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

from lab import pki


class WorkerTls:
    """The worker's server context, refreshed when the trusted-clients folder changes."""

    def __init__(self, pki_dir: Path, host: str) -> None:
        self.pki_dir, self.host = pki_dir, host
        self.trusted = pki_dir / pki.TRUSTED_CLIENTS_DIR
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None
        self._seen: set[str] = set()
        self._stamp = -1.0

    def context(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                self._context = pki.server_ssl_context(self.pki_dir, self.host)
                self._seen = self._names()
                self._stamp = self._mtime()
            elif self._mtime() != self._stamp:
                self._stamp = self._mtime()
                for name in sorted(self._names() - self._seen):
                    self._context.load_verify_locations(cadata=(self.trusted / name).read_text())
                    self._seen.add(name)
            return self._context

    def _mtime(self) -> float:
        try:
            return self.trusted.stat().st_mtime
        except OSError:
            return -1.0

    def _names(self) -> set[str]:
        return {p.name for p in self.trusted.glob("*.pem")} if self.trusted.is_dir() else set()
