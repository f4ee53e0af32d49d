"""The AS and the bank under gunicorn (the `up --workers` / benchmark factory), no capture:
TLS with the lab's CA, kept-alive connections, each response whole in one write, and the
client certificate reaching the bank for an mTLS-bound token (RFC 8705 §3)."""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from lab.controls.registry import Registry
from lab.load import prepare
from lab.serving.in_process import RunningLab
from lab.serving.private import private_lab
from lab.serving.worker import FLUSH_AT, OneWrite


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with private_lab(profile="fapi2-security", workers=1, threads=2) as running:
        yield running


def _session(lab: RunningLab) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.verify = str(lab.config.ca_cert_path)
    return http


def test_a_kept_alive_connection_serves_whole_responses(lab: RunningLab) -> None:
    context = ssl.create_default_context(cafile=str(lab.config.ca_cert_path))
    context.check_hostname = False
    connection = http.client.HTTPSConnection("127.0.0.1", lab.config.as_port, context=context,
                                             timeout=10)
    ids, socks = set(), set()
    for _ in range(5):
        connection.request("GET", "/jwks")
        socks.add(id(connection.sock))           # http.client reconnects after a close
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200 and json.loads(body)["keys"]
        assert len(body) == int(response.headers["Content-Length"])
        assert response.headers["X-Lab-Request-Id"].startswith("as-")
        ids.add(response.headers["X-Lab-Request-Id"])
        assert not response.will_close
    connection.close()
    assert len(ids) == 5 and len(socks) == 1


def test_the_client_certificate_reaches_the_bank_for_an_mtls_bound_token(
        lab: RunningLab) -> None:
    Registry(lab.store).set({"mtls_bound_tokens": True, "dpop_bound_tokens": False})
    client = prepare.TppClient(lab.config, lab.store, "mtls")
    token = client.tokens()["access_token"]
    assert client.cert is not None
    http, url = _session(lab), lab.config.bank_url + "/accounts"
    auth = {"Authorization": f"Bearer {token}"}
    assert http.get(url, headers=auth, cert=client.cert).status_code == 200
    assert _session(lab).get(url, headers=auth).status_code == 401   # the same token, no cert


class _Socket:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.files: list[Any] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(data)

    def sendfile(self, file: Any) -> None:
        self.files.append((len(self.sent), file))

    def getpeercert(self, binary_form: bool = False) -> bytes:
        return b"der"


def test_one_write_holds_the_head_and_body_and_keeps_their_order() -> None:
    sock = _Socket()
    writer = OneWrite(sock)  # type: ignore[arg-type]
    writer.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    writer.sendall(memoryview(b"body"))
    assert sock.sent == [] and writer.getpeercert(True) == b"der"
    writer.flush()
    assert sock.sent == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    writer.sendall(b"head")
    writer.sendfile("file")
    assert sock.sent[-1] == b"head" and sock.files == [(2, "file")]   # the head went first
    writer.sendall(b"x" * FLUSH_AT)
    assert sock.sent[-1] == b"x" * FLUSH_AT                         # large: sent at once
    writer.flush()
    assert len(sock.sent) == 3

