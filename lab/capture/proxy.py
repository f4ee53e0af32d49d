"""The capture front door: one mitmproxy master, in its own thread, reverse-proxying every origin.

Each public origin (AS, bank, TPP port) is a mitmproxy listener in reverse mode in
front of its Flask app, which then binds an internal loopback port. mitmproxy's CA
is the lab CA (written into `<data dir>/mitmproxy` as `mitmproxy-ca.pem`), clients
get the lab's own server certificate, the upstream is verified against the lab CA,
and a client certificate is asked for (never required), as the apps do themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab import pki
from lab.config import LabConfig
from lab.store.base import Store
from lab.web import limits

from .addon import LabCapture

START_TIMEOUT = 20.0
# The apps listen on loopback behind the proxy, under the lab certificate (which names it).
UPSTREAM_HOST = "127.0.0.1"


SESSION_ID_CONTEXT = b"fapi-lab-capture"


def _enable_session_resumption_with_client_certs() -> None:
    """Give every client-side TLS context of mitmproxy a session id context.

    With request_client_cert on, OpenSSL refuses to resume a session on a context without
    one ("session id context uninitialized"), and browsers, which resume, saw their
    connections closed. mitmproxy builds these contexts in
    mitmproxy.net.tls.create_client_proxy_context (cached); wrap it once, here.
    """
    from mitmproxy.net import tls as net_tls

    original = net_tls.create_client_proxy_context
    if getattr(original, "_fapi_lab_wrapped", False):
        return

    prepared: weakref.WeakSet[Any] = weakref.WeakSet()

    def with_session_id(**kwargs: Any) -> Any:
        context = original(**kwargs)
        if context not in prepared:  # a cached context can't be changed once used
            context.set_session_id(SESSION_ID_CONTEXT)
            prepared.add(context)
        return context

    with_session_id._fapi_lab_wrapped = True  # type: ignore[attr-defined]
    net_tls.create_client_proxy_context = with_session_id  # type: ignore[assignment]


def _bound_request_heads() -> None:
    """Refuse a request head that grows past MAX_HEADER without ending, with a 431.

    mitmproxy's HTTP/1 server buffers a request head until its blank line with no bound
    ("FIXME: protect against header size DoS" in mitmproxy.proxy.layers.http._http1), so
    endless headers would grow the proxy without limit. A complete head is the apps' to judge.
    """
    from mitmproxy.proxy import commands, events
    from mitmproxy.proxy.layers.http import _http1

    original = _http1.Http1Server.read_headers
    if getattr(original, "_fapi_lab_wrapped", False):
        return

    def read_headers(self: Any, event: Any) -> Any:
        yield from original(self, event)
        if isinstance(event, events.DataReceived) and self.state == self.read_headers \
                and len(self.buf) > limits.MAX_HEADER:
            yield commands.SendData(self.conn, _http1.make_error_response(
                431, limits.HEADERS_TOO_LARGE))
            yield commands.CloseConnection(self.conn)
            self.state = self.done

    read_headers._fapi_lab_wrapped = True  # type: ignore[attr-defined]
    _http1.Http1Server.read_headers = read_headers  # type: ignore[method-assign]


def write_confdir(config: LabConfig) -> Path:
    """mitmproxy's confdir: the lab CA (key + cert) and the lab server certificate."""
    confdir = config.data_dir / "mitmproxy"
    confdir.mkdir(parents=True, exist_ok=True)
    ca = pki.ensure_ca(config.pki_dir)
    server = pki.server_cert(config.pki_dir, config.host)
    for name, pair in (("mitmproxy-ca.pem", ca), ("lab-server.pem", server)):
        path = confdir / name
        path.write_bytes(pair.key.read_bytes() + pair.cert.read_bytes())
        path.chmod(0o600)
    return confdir


def lean_master(opts: Any) -> Any:
    """A mitmproxy master with the addons a reverse proxy in front of the lab uses.

    mitmdump's DumpMaster loads about 35 (playback, maplocal, stickycookie, save, export…),
    and every hook of every flow visits each of them, active or not. Kept: what serves the
    lab's modes (core, proxyserver, next_layer, tlsconfig, dns_resolver), what changes traffic
    by default (block: clients from global addresses; disable_h2c; update_alt_svc in reverse
    mode) and errorcheck (an error logged while starting is fatal, as before).
    """
    from mitmproxy import master
    from mitmproxy.addons import (
        block,
        core,
        disable_h2c,
        dns_resolver,
        errorcheck,
        next_layer,
        proxyserver,
        tlsconfig,
        update_alt_svc,
    )

    lean = master.Master(opts, with_termlog=False)
    lean.addons.add(core.Core(), block.Block(), disable_h2c.DisableH2C(),
                    proxyserver.Proxyserver(), dns_resolver.DnsResolver(),
                    next_layer.NextLayer(), tlsconfig.TlsConfig(),
                    update_alt_svc.UpdateAltSvc(), errorcheck.ErrorCheck())
    return lean


def _quiet_when_cancelled(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Shutdown cancels the tasks of connections still open (kept alive to gunicorn): expected,
    so not worth a traceback; anything else is reported as asyncio would."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


@dataclass
class CaptureProxy:
    """`start()` returns once every listener is up; `stop()` shuts the master down."""

    config: LabConfig
    store: Store
    upstream: dict[str, int]  # label → internal port of the app
    public: dict[str, int]  # label → public port
    secret: str
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _master: object | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None

    def modes(self) -> list[str]:
        return [f"reverse:https://{UPSTREAM_HOST}:{self.upstream[label]}@"
                f"{self.config.host}:{port}" for label, port in self.public.items()]

    def start(self) -> None:
        confdir = write_confdir(self.config)
        self._thread = threading.Thread(target=self._run, args=(confdir,),
                                        name="lab-capture", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise OSError("the capture proxy did not start in time")
        if self._error is not None:
            self.stop()
            error = self._error
            raise error if isinstance(error, OSError) else OSError(str(error))

    def _run(self, confdir: Path) -> None:
        try:
            asyncio.run(self._main(confdir))
        except BaseException as error:  # reported to start() or logged by the thread
            if not self._ready.is_set():
                self._error = error
                self._ready.set()
            else:
                raise

    async def _main(self, confdir: Path) -> None:
        from mitmproxy import options

        opts = options.Options()
        # Most options belong to addons, so they exist only once the master has loaded them.
        master = lean_master(opts)
        opts.update(
            mode=self.modes(), listen_host=self.config.host, confdir=str(confdir),
            certs=[f"*={confdir / 'lab-server.pem'}"],
            request_client_cert=True, keep_host_header=True,
            ssl_verify_upstream_trusted_ca=str(self.config.ca_cert_path),
            # mitmproxy buffers each message whole: bound it (413 for a request), so one
            # oversized POST cannot grow the lab by its size. The apps' own limit is lower.
            body_size_limit=str(limits.MAX_PROXY_BODY),
        )
        labels = {port: label for label, port in self.public.items()}
        _enable_session_resumption_with_client_certs()
        _bound_request_heads()
        master.addons.add(LabCapture(self.store, self.secret, labels))
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(_quiet_when_cancelled)
        self._master = master
        run = asyncio.ensure_future(master.run())
        await self._wait_listening(master, run)
        await run

    async def _wait_listening(self, master: object, run: asyncio.Future[None]) -> None:
        from mitmproxy.addons.proxyserver import Servers

        servers: Servers = master.addons.get("proxyserver").servers  # type: ignore[attr-defined]
        for _ in range(int(START_TIMEOUT / 0.05)):
            if run.done():
                run.result()
                raise OSError("the capture proxy stopped while starting")
            instances = list(servers)
            if len(instances) == len(self.public) and all(
                    i.last_exception is not None or i.is_running for i in instances):
                failed = [i for i in instances if i.last_exception is not None]
                if failed:
                    raise OSError(f"capture proxy: {failed[0].last_exception}")
                self._ready.set()
                return
            await asyncio.sleep(0.05)
        raise OSError("the capture proxy listeners did not come up")

    def stop(self) -> None:
        loop, master = self._loop, self._master
        if loop is not None and master is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                loop.call_soon_threadsafe(master.shutdown)  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join(timeout=10)

