"""One benchmark run: a private lab, the crypto floor, then every row, in an order that bounds
how much pre-generated material each row needs (a cheaper row of the same server first).

The server (gunicorn, or oidc-provider) runs on the server CPUs and the generator (wrk,
ab) on the others; this process signs material on all of them between rows, while the
servers are idle, and measures the ES256 rates on a server CPU.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from lab import keys, pki
from lab.load import prepare
from lab.ports import free_loopback_port as free_port

from . import (
    bench_crypto,
    bench_machine,
    bench_material,
    bench_oidc_provider,
    bench_startup,
    bench_wrk,
)
from .bench_lab import PrivateLab
from .bench_report import ROWS, BenchResult
from .bench_wrk import BenchError, Measurement

TOKEN_SCOPE = prepare.CLIENT_SCOPE
OP_CLIENT_ID = "benchmark-client"
DPOP_KEYS = "benchmark-dpop"


@dataclass(frozen=True)
class Settings:
    duration: int
    connections: int
    workers: int
    threads: int
    server_cpus: str
    client_cpus: str
    oidc_provider: bool
    command: str
    warmup: int = 2
    startup_runs: int = 5   # whole-process runs of each start-up command

    @property
    def generator_threads(self) -> int:
        return max(len(bench_machine.cpu_set(self.client_cpus)), 1)


def _http(ca: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    return session


def _probe(response: requests.Response, what: str) -> None:
    """One request before the load: a refusal here would make a whole row of failures."""
    if response.status_code != 200:
        raise BenchError(f"{what}: the server refused the benchmark's request: HTTP "
                         f"{response.status_code} {response.text[:300]}")


@dataclass(frozen=True)
class Material:
    """One row's signed lines: one for the probe request, the warm-up's, the measurement's."""

    probe: str
    warm: Path
    main: Path

    @classmethod
    def split(cls, path: Path, sizes: list[int]) -> Material:
        lines = path.read_text().splitlines()
        probe, warm = lines[:sizes[0]], lines[sizes[0]:sizes[0] + sizes[1]]
        main = lines[sizes[0] + sizes[1]:]
        parts = [path.with_suffix(".warm.txt"), path.with_suffix(".main.txt")]
        for part, chunk in zip(parts, (warm, main), strict=True):
            part.write_text("".join(line + "\n" for line in chunk))
        path.unlink()
        return cls(probe[0], *parts)


class Run:
    def __init__(self, settings: Settings, progress: Callable[[str], None]) -> None:
        self.s = settings
        self.step = progress
        mine = os.sched_getaffinity(0)   # no CPU sets given: everything runs everywhere
        self.server_cpus = bench_machine.cpu_set(settings.server_cpus) or mine
        self.client_cpus = bench_machine.cpu_set(settings.client_cpus) or mine
        self.all_cpus = self.server_cpus | self.client_cpus
        self.results: dict[str, Measurement] = {}
        self.tmp = Path()
        self.ca = Path()
        self.server_pids: list[int] = []   # whose CPU time a row is charged
        self.capture_pid: int | None = None   # the lab process running mitmproxy, if any

    # --- generators -----------------------------------------------------------------------

    def wrk(self, row: str, origin: str, path: str, material: Material | None = None,
            **kw: Any) -> Measurement:
        """A warm-up (its own material lines), then the measured run of this row."""
        self.step(row)
        common = {"path": path, "connections": self.s.connections,
                  "threads": self.s.generator_threads, "cpus": self.s.client_cpus, **kw}
        if self.s.warmup:
            bench_wrk.wrk(origin, duration=self.s.warmup,
                          material=material.warm if material else None, **common)
        capture = [self.capture_pid] if self.capture_pid else []
        used = bench_machine.cpu_seconds(self.server_pids)
        used_capture = bench_machine.cpu_seconds(capture)
        found = bench_wrk.wrk(origin, duration=self.s.duration,
                              material=material.main if material else None, **common)
        found.server_cpu_s = bench_machine.cpu_seconds(self.server_pids) - used
        if capture:
            found.capture_cpu_s = bench_machine.cpu_seconds(capture) - used_capture
            found.server_cpu_s += found.capture_cpu_s
        self.results[row] = found
        return found

    def ab(self, row: str, url: str, bound: float, **kw: Any) -> Measurement:
        self.step(row)
        common = {"connections": self.s.connections, "cpus": self.s.client_cpus, **kw}
        if self.s.warmup:
            bench_wrk.ab(url, duration=self.s.warmup,
                         most=bench_material.count_for(bound, self.s.warmup), **common)
        used = bench_machine.cpu_seconds(self.server_pids)
        found = bench_wrk.ab(url, duration=self.s.duration,
                             most=bench_material.count_for(bound, self.s.duration), **common)
        found.server_cpu_s = bench_machine.cpu_seconds(self.server_pids) - used
        self.results[row] = found
        return found

    def sizes(self, bound_row: str) -> list[int]:
        """Lines for the probe, the warm-up and the measurement, bounded by a cheaper row."""
        rate = self.results[bound_row].rate
        warm = bench_material.count_for(rate, self.s.warmup) if self.s.warmup else 0
        return [1, warm, bench_material.count_for(rate, self.s.duration)]

    # --- the servers ------------------------------------------------------------------------

    def bank(self, lab: PrivateLab) -> None:
        config, bank = lab.config, lab.config.bank_url
        self.server_pids = lab.server_pids
        http = _http(config.ca_cert_path)
        self.wrk("bank-bare", bank, "/")
        lab.use("bearer")
        bearer = prepare.TppClient(config, lab.store, "none").tokens()["access_token"]
        _probe(http.get(bank + "/accounts", headers={"Authorization": f"Bearer {bearer}"}),
               "bank, bearer")
        self.wrk("bank-bearer", bank, "/accounts", kind="get", auth=f"Bearer {bearer}")

        self.dpop_call(lab, "bank-dpop", "bank-bearer")

        lab.use("bearer")
        bare = self.results["bank-bare"].rate
        self.ab("bank-bearer-ab", bank + "/accounts", bare, auth=f"Bearer {bearer}")
        lab.use("mtls")
        client = prepare.TppClient(config, lab.store, "mtls")
        token = client.tokens()["access_token"]
        assert client.cert is not None
        _probe(http.get(bank + "/accounts", headers={"Authorization": f"Bearer {token}"},
                        cert=client.cert), "bank, mTLS")
        pem = bench_material.cert_and_key(self.tmp / "client.pem", Path(client.cert[0]),
                                          Path(client.cert[1]))
        self.ab("bank-mtls", bank + "/accounts", bare, auth=f"Bearer {token}", cert_and_key=pem)

    def dpop_call(self, lab: PrivateLab, row: str, bound_row: str) -> None:
        """One DPoP-bound GET /accounts row on `lab`: a token, signed proofs, probe, load."""
        bank = lab.config.bank_url
        lab.use("dpop")
        client = prepare.TppClient(lab.config, lab.store, "dpop")
        token = client.tokens()["access_token"]
        assert client.dpop_jwk is not None
        self.step(f"{row}: signing proofs")
        sizes = self.sizes(bound_row)
        with bench_machine.on_cpus(self.all_cpus):
            proofs = bench_material.dpop_proofs(
                self.tmp / f"{row}.txt", jwk=client.dpop_jwk, url=bank + "/accounts",
                access_token=token, iat=lab.now(), count=sum(sizes))
        material = Material.split(proofs, sizes)
        _probe(_http(lab.config.ca_cert_path).get(bank + "/accounts", headers={
            "Authorization": f"DPoP {token}", "DPoP": material.probe}), row)
        self.wrk(row, bank, "/accounts", kind="dpop", auth=f"DPoP {token}", material=material)

    def through_capture(self) -> None:
        """bank-dpop again, through mitmproxy on a lab started as `fapi-lab up` starts it.

        The capture runs in this process (as in `fapi-lab up`'s), on the server CPUs (its
        threads are started from a thread pinned there); the row's CPU is the bank's gunicorn
        plus this whole process (mitmproxy; the TPPs and this thread idle meanwhile)."""
        self.step("bank-dpop-capture: starting a lab with the capture")
        with bench_machine.on_cpus(self.server_cpus):
            lab = PrivateLab(workers=self.s.workers, threads=self.s.threads,
                             server_cpus=self.server_cpus, capture=True)
        try:
            self.server_pids, self.capture_pid = lab.server_pids, os.getpid()
            self.dpop_call(lab, "bank-dpop-capture", "bank-dpop")
        finally:
            self.capture_pid = None
            lab.stop()

    def token_rows(self, prefix: str, origin: str, issuer: str, client_id: str,
                   assertion_jwk: dict[str, Any], dpop_jwk: dict[str, Any], iat: Callable[[], int],
                   use: Callable[[str], None]) -> None:
        """Bare, then token issuance with a bearer token, then with a DPoP-bound one."""
        http = _http(self.ca)
        token_url = origin + "/token"
        body = bench_material.form_prefix(TOKEN_SCOPE)
        self.wrk(f"{prefix}-bare", origin, "/jwks")
        for binding, bound in (("bearer", f"{prefix}-bare"), ("dpop", f"{prefix}-token-bearer")):
            row = f"{prefix}-token-{binding}"
            use(binding)
            self.step(f"{row}: signing assertions" + (" and proofs" if binding == "dpop" else ""))
            sizes = self.sizes(bound)
            with bench_machine.on_cpus(self.all_cpus):
                lines = bench_material.token_requests(
                    self.tmp / f"{row}.txt", client_id=client_id, assertion_jwk=assertion_jwk,
                    aud=issuer, token_url=token_url, iat=iat(), count=sum(sizes),
                    dpop_jwk=dpop_jwk if binding == "dpop" else None)
            material = Material.split(lines, sizes)
            assertion, _, proof = material.probe.partition("\t")
            _probe(http.post(token_url, data=body + assertion, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **({"DPoP": proof} if proof else {})}), row)
            self.wrk(row, origin, "/token", kind="token", method="POST", body=body,
                     material=material)

    def as_and_op(self, lab: PrivateLab) -> None:
        config = lab.config
        self.ca = config.ca_cert_path
        self.server_pids = lab.server_pids
        lab.use("bearer")
        client = prepare.register_client(config, "private_key_jwt")
        dpop_jwk = keys.signing_key(keys.ensure_keyset(config.keys_dir, DPOP_KEYS, ("ES256",)))
        self.token_rows("as", config.as_url, config.issuer, client["client_id"],
                        client["assertion_jwk"], dpop_jwk, lab.now, lab.use)
        if not self.s.oidc_provider:
            return
        self.step("op: starting oidc-provider")
        server = pki.server_cert(config.pki_dir, config.host)
        public = keys.public_jwks(keys.ensure_keyset(config.keys_dir, prepare.LOAD_CLIENT_KEYS,
                                                     ("ES256",)))
        op = bench_oidc_provider.OidcProvider(
            port=free_port(), cert=server.cert, key=server.key, client_id=OP_CLIENT_ID,
            client_jwks=public, scope=TOKEN_SCOPE, resource=config.bank_url,
            cpus=self.s.server_cpus)
        self.server_pids = [op.pid]
        try:
            self.token_rows("op", op.issuer, op.issuer, OP_CLIENT_ID, client["assertion_jwk"],
                            dpop_jwk, _unix_now, lambda binding: None)
        finally:
            op.stop()


def _unix_now() -> int:
    """oidc-provider's clock is the machine's (the lab's may have been advanced)."""
    return int(time.time())


def run(settings: Settings, console: Console, tmp: Path) -> BenchResult:
    """Every row, with progress; the private lab and oidc-provider are stopped whatever happens."""
    bench_wrk.require_tools()
    if settings.oidc_provider:
        bench_oidc_provider.require()
    before = bench_machine.load_average()
    rows = [r for r in ROWS if settings.oidc_provider or r.server != "oidc-provider"]
    # + the crypto step, + starting op, + the start-up commands
    total = len(rows) + 2 + int(settings.oidc_provider)
    own_cpus = os.sched_getaffinity(0)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting a private lab", total=total)
        seen: set[str] = set()

        def step(name: str) -> None:
            row = name.split(":")[0]
            if row not in seen:
                seen.add(row)
                progress.advance(task)
            progress.update(task, description=name)

        bench = Run(settings, step)
        bench.tmp = tmp
        lab = PrivateLab(workers=settings.workers, threads=settings.threads,
                         server_cpus=bench.server_cpus)
        try:
            step("crypto: ES256 verify/sign rates on a server CPU")
            with bench_machine.on_cpus(bench.server_cpus):
                crypto = bench_crypto.es256_rates(min(2.0, max(settings.duration / 5, 0.5)))
            os.sched_setaffinity(0, bench.client_cpus)
            bench.bank(lab)
            bench.as_and_op(lab)
            bench.through_capture()
            # On the generator's CPUs, as a user's shell would run them; `status` asks the lab.
            step("start-up: fapi-lab --help, totp alice, status (whole processes)")
            startup = bench_startup.measure(lab.config.data_dir, settings.startup_runs)
        finally:
            os.sched_setaffinity(0, own_cpus)
            lab.stop()
    info = bench_machine.machine(before)
    if not settings.oidc_provider:
        info["tools"]["oidc-provider"] = "not run"
    as_dict = {**settings.__dict__, "server": "gunicorn (gthread), TLS, keep-alive, no capture"}
    info["bytecode"] = bench_startup.bytecode_note()
    return BenchResult(as_dict, info, {k: round(v, 1) for k, v in crypto.items()},
                       bench.results, startup)
