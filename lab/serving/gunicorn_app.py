"""`python -m lab.serving.gunicorn_app`: gunicorn serving the AS or the bank (see pool.py).

Started by `fapi-lab up --workers N` with its spec in $FAPI_LAB_SERVING_SPEC. The apps
are built in each worker after the fork (no preload), so every process opens its own
store connections; the lab has been bootstrapped by the parent before this starts.
gthread workers keep connections alive, so a client pays one TLS handshake per
connection, as against a real deployment, not one per request.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from lab import pki

from .spec import ServingSpec
from .tls import WorkerTls

_tls: dict[int, WorkerTls] = {}


def _worker_context(spec: ServingSpec) -> Callable[[Any, Any], ssl.SSLContext]:
    def hook(_conf: Any, _default: Any) -> ssl.SSLContext:
        pid = os.getpid()   # one context per process, never one inherited across a fork
        if pid not in _tls:
            config = spec.config()
            _tls[pid] = WorkerTls(config.pki_dir, config.host)
        return _tls[pid].context()
    return hook


def build_site(spec: ServingSpec) -> Any:
    """The AS (with the admin API) and the bank, dispatched by port, over the lab's store."""
    from lab.bootstrap import open_store
    from lab.serving.in_process import build_apps
    from lab.web.proxy_headers import SECRET_CONFIG_KEY

    from .site import PortDispatch

    config = spec.config()
    store = open_store(config, spec.store_url)
    apps = build_apps(config, store, names=tuple(spec.bind))
    for app in apps.values():
        app.config[SECRET_CONFIG_KEY] = spec.proxy_secret
    return PortDispatch({spec.bind[name]: app.wsgi_app for name, app in apps.items()})


class LabGunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, spec: ServingSpec) -> None:
        self.spec = spec
        super().__init__()

    def load_config(self) -> None:
        spec, config = self.spec, self.spec.config()
        server = pki.server_cert(config.pki_dir, config.host)
        settings: dict[str, Any] = {
            "bind": [f"{spec.bind_host}:{port}" for port in spec.bind.values()],
            "workers": spec.workers,
            "threads": spec.threads,
            "worker_class": "lab.serving.worker.LabThreadWorker",
            "reuse_port": True,
            "keepalive": 5,
            # Bounded request heads (gunicorn's ceilings; the apps bound bodies and the
            # headers' total, lab/web/limits.py): 8190 bytes of request line (a JAR request
            # object by value fits), 100 header fields of at most 8190 bytes each.
            "limit_request_line": 8190,
            "limit_request_fields": 100,
            "limit_request_field_size": 8190,
            "timeout": 60,
            "graceful_timeout": 5,
            "certfile": str(server.cert),
            "keyfile": str(server.key),
            "ssl_context": _worker_context(spec),
            "accesslog": "-" if os.environ.get("FAPI_LAB_ACCESS_LOG") else None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": f"fapi-lab-{'+'.join(spec.bind)}",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return build_site(self.spec)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    LabGunicorn(ServingSpec.from_env()).run()


if __name__ == "__main__":
    main()
