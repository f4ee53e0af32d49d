"""Starts the AS, the bank and the TPP in one process, each on its own HTTPS origin.

Werkzeug's threaded server with the lab CA's certificate; the TLS context asks
for a client certificate (optional) so mutual TLS works where a control needs it.
The admin API rides on the AS origin under /admin, so the lab has no fourth port.

With capture on, the public ports belong to mitmproxy (lab.capture.proxy), which
records every exchange and forwards to the apps on internal loopback ports; the
URLs the lab announces do not change.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from lab import pki
from lab.admin.api import create_blueprint
from lab.admin.describe import (
    CAPTURE_SETTING,
    DASHBOARD_SETTING,
    LAB_PID_SETTING,
    SERVING_SETTING,
    serving_description,
)
from lab.admin.describe import status as describe_status
from lab.bootstrap import bootstrap, open_store
from lab.capture.proxy import CaptureProxy
from lab.config import LabConfig
from lab.ports import free_loopback_port
from lab.serving import pool as serving_pool
from lab.serving.keepalive import KeepAliveHandler
from lab.serving.pool import ServingPool
from lab.serving.spec import ServingSpec
from lab.stopping import StopRequest
from lab.store import Store
from lab.web.proxy_headers import SECRET_CONFIG_KEY

log = logging.getLogger("fapi_lab.serving")


APP_NAMES = ("as", "bank", "tpp")
SERVED_BY_WORKERS = ("as", "bank")


def build_apps(config: LabConfig, store: Store,
               names: tuple[str, ...] = APP_NAMES) -> dict[str, Flask]:
    """The named apps over one store; the admin API rides on the AS."""
    from lab.authserver import app as authserver
    from lab.bank import app as bank
    from lab.gateway import app as gateway
    from lab.tpp import app as tpp

    factories = {"as": authserver.create_app, "bank": bank.create_app, "tpp": tpp.create_app,
                 "gateway": gateway.create_app}
    apps = {name: factories[name](config, store) for name in names}
    if "as" in apps:
        apps["as"].register_blueprint(create_blueprint(config, store), url_prefix="/admin")
    return apps




@dataclass
class RunningLab:
    """A lab serving on its ports; `stop()` shuts every server down."""

    config: LabConfig
    store: Store
    apps: dict[str, Flask]
    servers: dict[str, BaseWSGIServer] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)
    capture: CaptureProxy | None = None
    pools: list[ServingPool] = field(default_factory=list)

    @property
    def urls(self) -> dict[str, str]:
        urls = {"as": self.config.as_url, "bank": self.config.bank_url,
                "tpp": self.config.tpp_url}
        if self.config.opaque_tokens:
            urls["gateway"] = self.config.gateway_url
        return urls

    def status(self) -> dict[str, Any]:
        return describe_status(self.config, self.store, capture=self.capture is not None)

    def set_dashboard(self, url: str | None) -> None:
        """Record where the dashboard answers (status, running.json), or that none does."""
        self.store.set_setting(DASHBOARD_SETTING, url)
        if self.config.state_file.exists():
            state = json.loads(self.config.state_file.read_text())
            self.config.state_file.write_text(json.dumps({**state, "dashboard": url}))

    def stop(self) -> None:
        for pool in self.pools:
            # First, so mitmproxy sees its kept-alive upstream connections closed.
            pool.stop()
        if self.capture is not None:
            self.capture.stop()
        for server in self.servers.values():
            server.shutdown()
        for thread in self.threads:
            thread.join(timeout=5)
        for server in self.servers.values():
            server.server_close()
        self.config.state_file.unlink(missing_ok=True)


def start(config: LabConfig, *, profile: str | None = None, write_state: bool = True,
          capture: bool = False, workers: int = 0, threads: int = 4,
          store_url: str | None = None) -> RunningLab:
    """Bootstrap, then serve the three apps on their ports in background threads.

    `capture`: the apps listen on internal loopback ports and mitmproxy takes the public ones.
    `workers`: the AS and the bank each run under gunicorn with that many processes (and
    `threads` each) instead of Werkzeug's development server; the TPP stays in process.
    `store_url`: redis://… keeps the single-use state in that Redis server.
    """
    # One line per request drowns the URLs a workshop needs; FAPI_LAB_ACCESS_LOG=1 brings it back.
    if not os.environ.get("FAPI_LAB_ACCESS_LOG"):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    store = bootstrap(config, open_store(config, store_url), profile=profile)
    store.set_setting(DASHBOARD_SETTING, None)  # a dashboard of an earlier run is gone
    store.set_setting(CAPTURE_SETTING, capture)  # so the admin API's status can say so
    store.set_setting(SERVING_SETTING, serving_description(workers, threads, store_url))
    store.set_setting(LAB_PID_SETTING, os.getpid())
    in_process = tuple(n for n in APP_NAMES if not workers or n not in SERVED_BY_WORKERS)
    # Opaque access tokens: the phantom-token gateway in front of the bank (docs/gateway.md).
    in_process += ("gateway",) if config.opaque_tokens else ()
    apps = build_apps(config, store, in_process)
    lab = RunningLab(config, store, apps)
    ports = {"as": config.as_port, "bank": config.bank_port, "tpp": config.tpp_port,
             "gateway": config.gateway_port}
    ports = {name: port for name, port in ports.items() if name in (*APP_NAMES, *apps)}
    secret = secrets.token_urlsafe(32) if capture else None
    upstream: dict[str, int] = {}
    try:
        if workers:
            bind = {n: free_loopback_port() if capture else ports[n] for n in SERVED_BY_WORKERS}
            lab.pools = serving_pool.start([ServingSpec.for_lab(
                config, bind={name: bind[name]}, bind_host="127.0.0.1" if capture else config.host,
                workers=workers, threads=threads, proxy_secret=secret, store_url=store_url)
                for name in SERVED_BY_WORKERS])
            upstream.update(bind)
        for name, app in apps.items():
            ctx = pki.server_ssl_context(config.pki_dir, config.host)
            app.config[SECRET_CONFIG_KEY] = secret
            host, port = ("127.0.0.1", 0) if capture else (config.host, ports[name])
            # Behind the capture, connections are kept alive for mitmproxy to reuse.
            server = make_server(host, port, app, threaded=True, ssl_context=ctx,
                                 request_handler=KeepAliveHandler if capture else None)
            lab.servers[name] = server
            thread = threading.Thread(target=server.serve_forever, name=f"lab-{name}",
                                      daemon=True)
            thread.start()
            lab.threads.append(thread)
            upstream[name] = server.server_port
        if secret is not None:
            lab.capture = CaptureProxy(config, store, secret=secret, public=ports,
                                       upstream=upstream)
            lab.capture.start()
    except BaseException:
        lab.stop()
        raise
    if write_state:
        config.state_file.write_text(json.dumps({**lab.status(), "started_at": time.time()}))
    return lab


def serve_until_signal(lab: RunningLab, stop: StopRequest) -> int:
    """Serve until SIGINT (Ctrl-C) or SIGTERM, then stop cleanly; return the signal number.

    The signals are held (lab.stopping): the servers are shut down from the main thread,
    so running.json is removed and the port is free when `fapi-lab up` exits.
    """
    try:
        while not stop.wait(0.5):
            pass
    finally:
        lab.stop()
    return stop.signum
