"""The interop harness: Node helpers speaking JSON lines, with deadlines and their stderr kept.

Imported by conftest.py (fixtures) and the tests; no pytest fixtures here.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
NEEDED_PACKAGES = ("openid-client", "oidc-provider", "jose")
PROCESS_DEADLINE = 240.0   # no Node helper lives longer than this, whatever the test does



class NodeFailedError(AssertionError):
    """The Node helper reported an error, exited, or stayed silent past a deadline."""


class NodeProcess:
    """One Node helper: JSON lines in on stdin, JSON lines out on stdout, stderr kept."""

    def __init__(self, node: str, script: str, args: list[str], env: dict[str, str]) -> None:
        self.name = script
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [node, str(HERE / script), *args], cwd=HERE, env=env, text=True, bufsize=1,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._stderr: list[str] = []
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()
        # A hard deadline, so a wedged helper can never outlive its test run.
        self._killer = threading.Timer(PROCESS_DEADLINE, self.proc.kill)
        self._killer.daemon = True
        self._killer.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                self._stderr.append(f"(stdout, not JSON) {line}\n")
                continue
            if isinstance(message, dict):
                self.messages.put(message)
        self.messages.put(None)   # end of stream

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def _fail(self, what: str) -> NodeFailedError:
        time.sleep(0.2)   # let the reader threads catch the last lines
        return NodeFailedError(
            f"{self.name}: {what} ({time.monotonic() - self.started:.1f} s after start)\n"
            "--- messages so far ---\n"
            + "\n".join(json.dumps(m) for m in self.seen)
            + f"\n--- {self.name} stderr (exit code {self.proc.poll()}) ---\n{self.stderr}")

    def expect(self, event: str, timeout: float = 30.0) -> dict[str, Any]:
        """The next message, which must be `event`; an error event or silence fails the test."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail(f"no {event!r} message within {timeout:.0f} s")
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if message is None:
                self.messages.put(None)
                raise self._fail(f"exited before sending {event!r}")
            self.seen.append(message)
            if message.get("event") == "error":
                raise self._fail(f"reported an error while waiting for {event!r}: "
                                 f"{json.dumps(message, indent=1)}")
            if message.get("event") == event:
                return message

    def drain(self) -> list[dict[str, Any]]:
        """Messages that arrived so far without waiting (the OP's API log, for one)."""
        out = []
        while True:
            try:
                message = self.messages.get_nowait()
            except queue.Empty:
                return out
            if message is None:
                self.messages.put(None)
                return out
            self.seen.append(message)
            out.append(message)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._fail("its stdin is closed (it exited)") from None

    def stop(self) -> None:
        self._killer.cancel()
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                if self.proc.stdin:
                    self.proc.stdin.close()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for reader in self._readers:
            reader.join(timeout=2)


class Node:
    """Starts Node helpers that trust the lab CA; stops them all at teardown."""

    def __init__(self, executable: str, ca_path: Path) -> None:
        self.executable = executable
        self.ca_path = ca_path
        self.started: list[NodeProcess] = []

    def start(self, script: str, *args: str) -> NodeProcess:
        env = {k: v for k, v in os.environ.items()
               if k not in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy",
                            "ALL_PROXY", "all_proxy", "NODE_OPTIONS")}
        # Node adds these to its built-in roots: real TLS to the lab, no "insecure" switch.
        env["NODE_EXTRA_CA_CERTS"] = str(self.ca_path)
        env["NO_PROXY"] = "127.0.0.1,localhost"
        process = NodeProcess(self.executable, script, list(args), env)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()
            if process.stderr.strip():
                print(f"--- {process.name} stderr ---\n{process.stderr}")


def node_toolchain() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("the interop tests need Node.js >= 20 and npm on PATH (missing: "
                    + ", ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
                    + "); install them, then run ./fapi-lab test", pytrace=False)
    missing = [p for p in NEEDED_PACKAGES if not (NODE_MODULES / p / "package.json").exists()]
    if missing:
        pytest.fail(f"tests/interop/node_modules lacks {', '.join(missing)}: run "
                    "`npm ci --prefix tests/interop` (./fapi-lab test does it)", pytrace=False)
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30
                             ).stdout.strip()
    major = int(version.lstrip("v").split(".")[0] or 0) if version else 0
    if major < 20:
        pytest.fail(f"the interop tests need Node.js >= 20, found {version or 'nothing'}",
                    pytrace=False)
    return node




class _Job:
    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class BrowserThread:
    """A real Chromium on its own thread, with its own Playwright instance.

    Playwright's sync API allows one instance per thread, and tests/browser keeps one open
    on the main thread for the whole session; so this one lives on a thread of its own,
    and a test hands it steps: `browser.run(lambda page: ...)` returns the step's result
    or raises what the step raised. Chromium trusts only the lab's server key (SPKI pin),
    which the lab and the outside OP both present, and every request that would leave
    127.0.0.1 is refused in the browser (the lab is offline by design).

    One Chromium serves the whole session (a launch costs about 3 s under load); each test
    calls `fresh(shots)` first and gets a new browser context, so no cookie, storage or
    open page is carried from one test into the next.
    """

    LOOPBACK = ("https://127.0.0.1", "http://127.0.0.1", "data:", "about:", "chrome-error:")

    def __init__(self, executable: str, spki_pin: str, shots: Path) -> None:
        self.executable, self.spki_pin, self.shots = executable, spki_pin, shots
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None
        self._thread = threading.Thread(target=self._main, name="interop-browser", daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise AssertionError("Chromium did not start within 60 s")
        if self._failure is not None:
            raise AssertionError(f"Chromium did not start: {self._failure}")

    def _main(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                self._browser = playwright.chromium.launch(
                    executable_path=self.executable, timeout=30_000,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--disable-sync", "--no-first-run",
                          f"--ignore-certificate-errors-spki-list={self.spki_pin}"])
                self._open_context()
                self._ready.set()
                self._serve()
                if self._context is not None:
                    self._context.close()
                self._browser.close()
        except BaseException as exc:   # reported to the test by __init__ or run()
            self._failure = exc
            self._ready.set()

    def _open_context(self) -> None:
        """A new context and page (on the browser thread), the previous one closed."""
        if self._context is not None:
            self._context.close()
        self._context = self._browser.new_context()
        self._context.route(lambda url: not url.startswith(self.LOOPBACK),
                            lambda route: route.abort())
        self._page = self._context.new_page()
        self._page.set_default_timeout(15_000)
        self._page.set_default_navigation_timeout(20_000)

    def fresh(self, shots: Path) -> None:
        """Start a test: a new context (nothing kept from the last test), its screenshots
        in `shots`."""
        self.shots = shots
        self.run(lambda _page: self._open_context())

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job.result = job.fn(self._page)
            except BaseException as exc:
                job.error = exc
                with contextlib.suppress(Exception):
                    self._page.screenshot(path=self.shots / "99-failure.png", full_page=True)
            job.done.set()

    def run(self, fn: Any, timeout: float = 120.0) -> Any:
        """Run `fn(page)` on the browser thread and return its result (or raise its error)."""
        if self._failure is not None or not self._thread.is_alive():
            raise AssertionError(f"the browser thread is gone: {self._failure}")
        job = _Job(fn)
        self._jobs.put(job)
        if not job.done.wait(timeout):
            raise AssertionError(f"a browser step took longer than {timeout:.0f} s")
        if job.error is not None:
            raise job.error
        return job.result

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)
