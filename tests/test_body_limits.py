"""Request bodies and headers are bounded at the apps and at the capture front door: a few MB
over the limit gets a 413 with a clear message, never a lab that grows by the body's size."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lab.serving.in_process import RunningLab, start
from lab.serving.private import private_config
from lab.web.limits import MAX_BODY, MAX_HEADER

BIG = b"a=" + b"x" * (3 * 1024 * 1024)


def _session(lab: RunningLab) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.verify = str(lab.config.ca_cert_path)
    return s


def _assert_too_large(r: requests.Response, proxy: bool = False) -> None:
    assert r.status_code == 413, (r.status_code, r.text[:300])
    if proxy and "body_size_limit" in r.text:
        return  # over MAX_PROXY_BODY: mitmproxy's own 413, before the app sees anything
    assert r.json()["error"] == "request_too_large"
    assert str(MAX_BODY // 1024) in r.json()["error_description"]


@pytest.fixture(scope="module")
def captured_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    running = start(private_config(tmp_path_factory.mktemp("limits-lab")),
                    profile="fapi2-security", write_state=False, capture=True)
    yield running
    running.stop()


def _oversized_requests(lab: RunningLab, body: bytes = BIG) -> Iterator[requests.Response]:
    s = _session(lab)
    for url in (lab.config.as_url + "/token", lab.config.as_url + "/register",
                lab.config.bank_url + "/payments", lab.config.tpp_url + "/callback"):
        yield s.post(url, data=body, headers={"Accept": "application/json",
                                             "Content-Type": "application/x-www-form-urlencoded"})
        # Chunked: no Content-Length to refuse on, the body must still be cut off.
        yield s.post(url, data=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                     headers={"Accept": "application/json",
                              "Content-Type": "application/x-www-form-urlencoded"})


def test_oversized_bodies_get_413_without_capture(lab):
    for r in _oversized_requests(lab):
        _assert_too_large(r)


def test_oversized_bodies_get_413_through_the_capture_proxy(captured_lab):
    for r in _oversized_requests(captured_lab):
        _assert_too_large(r, proxy=True)
    # Over the apps' limit, under the proxy's: the app's own 413 comes back through it.
    for r in _oversized_requests(captured_lab, b"a=" + b"x" * (MAX_BODY + 4096)):
        _assert_too_large(r)


@pytest.mark.parametrize("mode", ["direct", "capture"])
def test_oversized_headers_are_refused(lab, captured_lab, mode):
    target = lab if mode == "direct" else captured_lab
    r = _session(target).get(target.config.as_url + "/.well-known/openid-configuration",
                             headers={"X-Big": "y" * (MAX_HEADER + 1024)})
    assert r.status_code in (413, 431), (r.status_code, r.text[:200])


def test_an_endless_request_head_is_cut_off_by_the_capture_proxy(captured_lab):
    import contextlib
    import socket
    import ssl

    context = ssl.create_default_context(cafile=str(captured_lab.config.ca_cert_path))
    with socket.create_connection((captured_lab.config.host, captured_lab.config.as_port),
                                  timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=captured_lab.config.host) as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        try:
            for _ in range(64):  # 64 x 4 KiB = 256 KiB of header lines, never ending
                tls.sendall(b"X-Pad: " + b"p" * 4096 + b"\r\n")
        except OSError:
            pass  # the proxy closed the connection: what we want, after its answer
        with contextlib.suppress(OSError):
            answer = tls.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_a_server_error_behind_the_capture_proxy_is_logged_with_its_traceback(
        captured_lab, monkeypatch, capfd):
    """The 500 page says "see the server log": the traceback must be there, in capture mode too
    (mitmproxy's log handler on the root logger used to swallow it)."""
    from lab.protocol import metadata

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom-for-the-log-test")

    monkeypatch.setattr(metadata, "build", boom)
    r = _session(captured_lab).get(captured_lab.config.as_url +
                                   "/.well-known/oauth-authorization-server")
    assert r.status_code == 500
    err = capfd.readouterr().err
    assert "Traceback" in err and "boom-for-the-log-test" in err, err[-2000:]
