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
from lab.admin import create_blueprint
from lab.admin.describe import CAPTURE_SETTING, DASHBOARD_SETTING
from lab.admin.describe import status as describe_status
from lab.bootstrap import bootstrap
from lab.capture.proxy import CaptureProxy
from lab.config import LabConfig
from lab.stopping import StopRequest
from lab.store import Store
from lab.web.proxy_headers import SECRET_CONFIG_KEY

log = logging.getLogger("fapi_lab.runner")


def build_apps(config: LabConfig, store: Store) -> dict[str, Flask]:
    from lab import authserver, bank, tpp

    apps = {
        "as": authserver.create_app(config, store),
        "bank": bank.create_app(config, store),
        "tpp": tpp.create_app(config, store),
    }
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

    @property
    def urls(self) -> dict[str, str]:
        return {"as": self.config.as_url, "bank": self.config.bank_url,
                "tpp": self.config.tpp_url}

    def status(self) -> dict[str, Any]:
        return describe_status(self.config, self.store, capture=self.capture is not None)

    def set_dashboard(self, url: str | None) -> None:
        """Record where the dashboard answers (status, running.json), or that none does."""
        self.store.set_setting(DASHBOARD_SETTING, url)
        if self.config.state_file.exists():
            state = json.loads(self.config.state_file.read_text())
            self.config.state_file.write_text(json.dumps({**state, "dashboard": url}))

    def stop(self) -> None:
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
          capture: bool = False) -> RunningLab:
    """Bootstrap, then serve the three apps on their ports in background threads.

    `capture`: the apps listen on internal loopback ports and mitmproxy takes the public ones.
    """
    # One line per request drowns the URLs a workshop needs; FAPI_LAB_ACCESS_LOG=1 brings it back.
    if not os.environ.get("FAPI_LAB_ACCESS_LOG"):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    store = bootstrap(config, profile=profile)
    store.set_setting(DASHBOARD_SETTING, None)  # a dashboard of an earlier run is gone
    store.set_setting(CAPTURE_SETTING, capture)  # so the admin API's status can say so
    apps = build_apps(config, store)
    lab = RunningLab(config, store, apps)
    ports = {"as": config.as_port, "bank": config.bank_port, "tpp": config.tpp_port}
    secret = secrets.token_urlsafe(32) if capture else None
    try:
        for name, app in apps.items():
            ctx = pki.server_ssl_context(config.pki_dir, config.host)
            app.config[SECRET_CONFIG_KEY] = secret
            host, port = ("127.0.0.1", 0) if capture else (config.host, ports[name])
            server = make_server(host, port, app, threaded=True, ssl_context=ctx)
            lab.servers[name] = server
            thread = threading.Thread(target=server.serve_forever, name=f"lab-{name}",
                                      daemon=True)
            thread.start()
            lab.threads.append(thread)
        if secret is not None:
            lab.capture = CaptureProxy(
                config, store, secret=secret, public=ports,
                upstream={name: server.server_port for name, server in lab.servers.items()})
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
