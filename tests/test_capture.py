"""Capture: leg classification, the addon's headers and rows, and a lab behind mitmproxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
import requests
from mitmproxy import flow as flow_module
from mitmproxy.test import tflow, tutils

from lab import pki
from lab.capture import legs
from lab.capture.addon import LabCapture
from lab.capture.store import MAX_BODY, get_capture, list_captures
from lab.controls.registry import Registry
from lab.serving.in_process import RunningLab
from lab.serving.private import private_lab
from lab.store import SQLiteStore
from lab.web.proxy_headers import CLIENT_ADDR_HEADER, CLIENT_CERT_HEADER, SECRET_HEADER
from tests.support.oauth import pkce_pair, tpp_redirect_uri, victim


def _flow(label: str, path: str, method: str = "GET") -> Any:
    flow = tflow.tflow(resp=True)
    flow.request.path = path
    flow.request.method = method
    flow.metadata["lab_label"] = label
    return flow


@pytest.mark.parametrize(("label", "path", "leg"), [
    ("as", "/authorize?client_id=tpp", "authz_request"),
    ("as", "/par", "par"),
    ("as", "/token", "token"),
    ("as", "/userinfo", "userinfo"),
    ("as", "/revoke", "revocation"),
    ("as", "/introspect", "introspection"),
    ("as", "/.well-known/openid-configuration", "other"),
    ("as", "/login", "other"),
    ("bank", "/accounts", "resource"),
    ("bank", "/accounts/acc-1/balances", "resource"),
    ("bank", "/payments", "resource"),
    ("bank", "/accountsx", "other"),
    ("bank", "/login", "other"),
    ("tpp", "/callback?code=x&state=y", "authz_response"),
    ("tpp", "/dashboard", "tpp_ui"),
    ("other", "/token", "other"),
])
def test_classify(label: str, path: str, leg: str) -> None:
    assert legs.classify(_flow(label, path)) == leg
    assert leg in legs.LEGS


def test_classify_without_label_is_other() -> None:
    flow = tflow.tflow()
    flow.request.path = "/token"
    assert legs.classify(flow) == "other"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "lab.sqlite3")
    yield s
    s.close()


def test_addon_strips_client_sent_proxy_headers_and_adds_its_own(store: SQLiteStore) -> None:
    addon = LabCapture(store, "s3cret", {})
    flow = tflow.tflow()
    for name in (SECRET_HEADER, CLIENT_CERT_HEADER, CLIENT_ADDR_HEADER):
        flow.request.headers[name] = "forged"
    addon.request(flow)
    assert flow.request.headers[SECRET_HEADER] == "s3cret"
    assert CLIENT_CERT_HEADER not in flow.request.headers  # tflow's client shows no cert
    assert flow.request.headers[CLIENT_ADDR_HEADER] == flow.client_conn.peername[0]


def test_addon_forwards_the_presented_certificate(store: SQLiteStore, tmp_path: Path) -> None:
    from mitmproxy import certs

    pair = pki.client_cert(tmp_path / "pki", "tpp")
    addon = LabCapture(store, "s3cret", {})
    flow = tflow.tflow()
    flow.client_conn.certificate_list = [certs.Cert.from_pem(pair.cert.read_bytes())]
    addon.request(flow)
    assert unquote(flow.request.headers[CLIENT_CERT_HEADER]).strip() == \
        pair.cert.read_text().strip()


def test_addon_stores_an_exchange(store: SQLiteStore) -> None:
    addon = LabCapture(store, "s3cret", {})
    flow = tflow.tflow(req=tutils.treq(method=b"POST", path=b"/token",
                                       content=b"grant_type=x" + b"a" * (MAX_BODY + 10)))
    flow.metadata["lab_label"] = "as"
    flow.request.headers[SECRET_HEADER] = "client-made"
    addon.request(flow)
    flow.response = tutils.tresp(content=b'{"error":"invalid_grant"}')
    flow.response.status_code = 400
    flow.response.headers["X-Lab-Request-Id"] = "as-0123456789abcdef"
    addon.response(flow)
    addon.response(flow)  # one row per exchange
    rows = list_captures(store)
    assert len(rows) == 1
    row = get_capture(store, rows[0]["id"])
    assert row is not None
    assert (row["label"], row["leg"], row["method"], row["status"], row["request_id"]) == \
        ("as", "token", "POST", 400, "as-0123456789abcdef")
    assert row["url"].endswith("/token")
    assert row["response_body"] == '{"error":"invalid_grant"}'
    assert len(row["request_body"]) < MAX_BODY + 100 and "more bytes not kept" in \
        row["request_body"]
    names = [name for name, _ in row["request_headers"]]
    assert "s3cret" not in str(row["request_headers"])
    assert SECRET_HEADER in names  # what the client sent is shown as sent
    assert list_captures(store, leg="par") == []


def test_finlens_dashboard_poll_is_not_recorded(store: SQLiteStore) -> None:
    """The open dashboard's poll of /links/status is the page's housekeeping, not a flow."""
    addon = LabCapture(store, "s3cret", {})
    for path, label in ((b"/links/status", "tpp"), (b"/links/status?x=1", "tpp"),
                        (b"/dashboard", "tpp")):
        flow = tflow.tflow(req=tutils.treq(method=b"GET", path=path))
        flow.metadata["lab_label"] = label
        addon.request(flow)
        flow.response = tutils.tresp(content=b"{}")
        addon.response(flow)
    assert [r["url"].rsplit("/", 1)[-1] for r in list_captures(store)] == ["dashboard"]


def test_addon_records_an_upstream_error(store: SQLiteStore) -> None:
    addon = LabCapture(store, "s3cret", {})
    flow = tflow.tflow(err=True)
    flow.metadata["lab_label"] = "bank"
    flow.request.path = "/accounts"
    addon.request(flow)
    addon.error(flow)
    [row] = list_captures(store)
    assert (row["leg"], row["status"]) == ("resource", None)


def test_a_response_cut_off_by_the_proxy_keeps_its_error(store: SQLiteStore) -> None:
    """Over body_size_limit mitmproxy drops the body and answers the client with its own 502:
    the row keeps why, not only the app's status line (the full matrix's bare 502)."""
    addon = LabCapture(store, "s3cret", {})
    flow = tflow.tflow(resp=tutils.tresp(content=None))
    flow.metadata["lab_label"] = "bank"
    addon.request(flow)
    flow.error = flow_module.Error("Response body exceeds mitmproxy's body_size_limit.")
    addon.error(flow)
    row = get_capture(store, list_captures(store)[0]["id"])
    assert row is not None and "body_size_limit" in row["response_body"]


def test_addon_records_who_sent_the_exchange(store: SQLiteStore) -> None:
    addon = LabCapture(store, "s3cret", {})
    flow = tflow.tflow(resp=True)
    flow.client_conn.peername = ("127.0.0.2", 40000)
    flow.metadata["lab_label"] = "bank"
    flow.request.path = "/accounts"
    addon.request(flow)
    addon.response(flow)
    [row] = list_captures(store)
    assert row["client_addr"] == "127.0.0.2"


def test_an_older_captures_table_gains_client_addr(tmp_path: Path) -> None:
    old = SQLiteStore(tmp_path / "old.sqlite3")
    old.ensure_schema("CREATE TABLE captures (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT "
                      "NULL, label TEXT NOT NULL, leg TEXT NOT NULL, method TEXT NOT NULL, url "
                      "TEXT NOT NULL, request_headers TEXT NOT NULL, request_body TEXT, status "
                      "INTEGER, response_headers TEXT, response_body TEXT, request_id TEXT);")
    old.insert("INSERT INTO captures(ts, label, leg, method, url, request_headers) "
               "VALUES (1, 'as', 'token', 'POST', 'https://x/token', '[]')")
    LabCapture(old, "s3cret", {})
    LabCapture(old, "s3cret", {})  # the migration runs once
    [row] = list_captures(old)
    assert row["client_addr"] is None and row["leg"] == "token"
    old.close()


# --- a lab behind the capture proxy -------------------------------------------------------

@pytest.fixture(scope="module")
def captured_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with private_lab(profile="fapi2-security", write_state=False, capture=True,
                     data_dir=tmp_path_factory.mktemp("capture-lab")) as running:
        yield running


@pytest.fixture
def session(captured_lab: RunningLab) -> Iterator[requests.Session]:
    s = requests.Session()
    s.trust_env = False
    s.verify = str(captured_lab.config.ca_cert_path)
    yield s
    s.close()


def test_public_ports_are_the_proxy(captured_lab: RunningLab) -> None:
    proxy = captured_lab.capture
    assert proxy is not None
    public = {"as": captured_lab.config.as_port, "bank": captured_lab.config.bank_port,
              "tpp": captured_lab.config.tpp_port}
    assert proxy.public == public
    assert {s.server_port for s in captured_lab.servers.values()}.isdisjoint(public.values())


def test_tls_client_auth_token_request_through_the_proxy_is_captured(
        captured_lab: RunningLab, session: requests.Session) -> None:
    lab, registry = captured_lab, Registry(captured_lab.store)
    registry.apply_profile("legacy")
    registry.set({"mtls_client_auth": True})
    tpp = pki.client_cert(lab.config.pki_dir, "tpp")
    cert = (str(tpp.cert), str(tpp.key))
    verifier, challenge = pkce_pair()
    par = session.post(lab.config.as_url + "/par", cert=cert, data={
        "response_type": "code", "client_id": "tpp", "redirect_uri": tpp_redirect_uri(lab),
        "scope": "openid accounts:read", "state": "st4te", "nonce": "n0nce",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert par.status_code == 201, par.text
    result = victim(lab).authorize(lab.config.as_url + "/authorize?client_id=tpp&request_uri="
                                   + quote(par.json()["request_uri"], safe=""))
    assert result.code, result.params
    form = {"grant_type": "authorization_code", "code": result.code, "client_id": "tpp",
            "redirect_uri": tpp_redirect_uri(lab), "code_verifier": verifier}
    token = session.post(lab.config.as_url + "/token", data=form, cert=cert)
    assert token.status_code == 200, token.text
    assert token.json()["access_token"]

    # No certificate, or one only claimed in the proxy's header: not authenticated.
    forged = session.post(lab.config.as_url + "/token", data=form, headers={
        CLIENT_CERT_HEADER: quote(tpp.cert.read_text()), SECRET_HEADER: "guess"})
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_client"

    rows = list_captures(lab.store)
    by_request = {row["request_id"]: row for row in rows}
    token_row = by_request[token.headers["X-Lab-Request-Id"]]
    assert (token_row["label"], token_row["leg"], token_row["method"], token_row["status"]) == \
        ("as", "token", "POST", 200)
    assert token_row["client_addr"] == "127.0.0.1"
    assert token_row["url"] == lab.config.as_url + "/token"
    assert by_request[par.headers["X-Lab-Request-Id"]]["leg"] == "par"
    legs_seen = {row["leg"] for row in rows}
    assert {"par", "authz_request", "token"} <= legs_seen
    detail = get_capture(lab.store, token_row["id"])
    assert detail is not None and "access_token" in detail["response_body"]
    assert "code_verifier" in detail["request_body"]
    assert all(value != lab.capture.secret  # type: ignore[union-attr]
               for _, value in detail["request_headers"])


class UpstreamConnections:
    """A mitmproxy addon: the distinct upstream connections of the flows it saw."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def response(self, flow: Any) -> None:
        self.seen.add(flow.server_conn.id)


def _count_upstream(lab: RunningLab) -> UpstreamConnections:
    import asyncio

    capture = lab.capture
    assert capture is not None and capture._loop is not None
    counter = UpstreamConnections()

    async def add() -> None:
        capture._master.addons.add(counter)  # type: ignore[attr-defined]

    asyncio.run_coroutine_threadsafe(add(), capture._loop).result(10)
    return counter


def test_the_proxy_reuses_one_upstream_connection_per_client_connection(
        captured_lab: RunningLab, session: requests.Session) -> None:
    """Issue 18: the in-process apps keep connections alive behind mitmproxy. Bodies the app
    never reads (a 404, a refused form) are consumed, so the next request on the connection is
    read from its own first line."""
    counter = _count_upstream(captured_lab)
    bank = captured_lab.config.bank_url
    statuses = []
    for i in range(6):
        statuses.append(session.get(bank + "/", allow_redirects=False).status_code)
        statuses.append(session.post(bank + "/no-such-page", data=b"x" * (4096 * i)).status_code)
    token = session.post(captured_lab.config.as_url + "/token", data={"grant_type": "nope"})
    assert statuses == [302, 404] * 6
    assert token.status_code in (400, 401) and "error" in token.json()
    assert len(counter.seen) <= 2   # the bank's connection and the AS's


def test_the_app_closes_what_it_cannot_keep(captured_lab: RunningLab) -> None:
    """Straight at the app's internal port: a chunked body, or `Connection: close`, still ends
    the connection after the response; a plain request keeps it."""
    import http.client
    import ssl

    port = captured_lab.servers["bank"].server_port
    context = ssl.create_default_context(cafile=str(captured_lab.config.ca_cert_path))

    def response_connection(**request: Any) -> str | None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
        try:
            conn.request(**request)
            response = conn.getresponse()
            response.read()
            return response.getheader("Connection")
        finally:
            conn.close()

    assert response_connection(method="GET", url="/") is None
    assert response_connection(method="GET", url="/", headers={"Connection": "close"}) \
        == "close"
    assert response_connection(method="POST", url="/x", body=iter([b"abc"]),
                               encode_chunked=True,
                               headers={"Transfer-Encoding": "chunked"}) == "close"
