"""One payment consent moves money once, whatever the concurrency: 20 submissions released
together against gunicorn workers, with single use decided in SQLite and in Redis.

With payment_consent_binding on, the consent is used up by one conditional UPDATE (and a
SET NX under Redis): one 201, nineteen 403 insufficient_scope. With it off, one
Idempotency-Key does the same job: one booking, the others 409 or the first answer again.
Balances move by exactly the amount, on the debtor's and the (HonestBank) creditor's side.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from lab.controls.registry import Registry
from lab.domain import ledger
from lab.domain.payment_consents import Payment
from lab.serving.in_process import RunningLab, start
from lab.serving.private import private_config
from tests.support import redis_server
from tests.support.bank_tokens import account, bearer, ensure_bank_knows_as_keys
from tests.support.payments import CAFE, body, consented, mallory_iban
from tests.test_single_use_across_workers import fired_by

WORKERS = 3
BURST = 20


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[RunningLab]:
    server = None
    if request.param == "redis":
        server = redis_server.start(tmp_path_factory.mktemp("redis"))
    try:
        lab = start(private_config(tmp_path_factory.mktemp(f"pay-{request.param}")),
                    profile="legacy", write_state=False, workers=WORKERS,
                    store_url=server.url if server else None)
        try:
            ensure_bank_knows_as_keys(lab)
            yield lab
        finally:
            lab.stop()
    finally:
        if server is not None:
            server.stop()


def burst(lab: RunningLab, send: Callable[[requests.Session], requests.Response]
          ) -> list[requests.Response]:
    barrier = threading.Barrier(BURST)
    results: list[requests.Response | BaseException] = [RuntimeError("not run")] * BURST

    def one(i: int) -> None:
        with requests.Session() as session:
            session.trust_env = False
            session.verify = str(lab.config.ca_cert_path)
            barrier.wait()
            try:
                results[i] = send(session)
            except BaseException as error:
                results[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    return [r for r in results if isinstance(r, requests.Response)]


def _balances(lab: RunningLab) -> tuple[int, int]:
    return (ledger.balance_cents(lab.store, account("alice", "checking")),
            ledger.balance_cents(lab.store, account("mallory", "checking")))


def _to_mallory(lab: RunningLab) -> Payment:
    """A payee at HonestBank, so both sides of the booking can be checked."""
    return replace(CAFE, creditor_name="Mallory Mallet", creditor_iban=mallory_iban(lab),
                   amount_cents=4200)


def test_twenty_submissions_of_one_consent_pay_once(served: RunningLab) -> None:
    lab = served
    Registry(lab.store).apply_profile("legacy")
    Registry(lab.store).set({"payment_consent_binding": True})
    payment = _to_mallory(lab)
    minted = consented(lab, payment)
    before = _balances(lab)
    responses = burst(lab, lambda s: s.post(lab.config.bank_url + "/payments",
                                            json=body(payment), headers=bearer(minted.token)))
    booked = [r for r in responses if r.status_code == 201]
    assert len(booked) == 1, [(r.status_code, r.text[:100]) for r in responses]
    for refused in (r for r in responses if r is not booked[0]):
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "insufficient_scope"
        assert "payment_consent_binding" in fired_by(lab, refused)
    after = _balances(lab)
    assert after == (before[0] - 4200, before[1] + 4200)


def test_twenty_submissions_with_one_idempotency_key_pay_once(served: RunningLab) -> None:
    lab = served
    Registry(lab.store).apply_profile("legacy")
    payment = _to_mallory(lab)
    minted = consented(lab, payment)
    before = _balances(lab)
    headers = {**bearer(minted.token), "Idempotency-Key": f"burst-{minted.jti}"}
    responses = burst(lab, lambda s: s.post(lab.config.bank_url + "/payments",
                                            json=body(payment), headers=headers))
    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    ids = {r.json()["payment_id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1, ids
    assert _balances(lab) == (before[0] - 4200, before[1] + 4200)


def test_redis_decided_the_consent(served: RunningLab, tmp_path: Path) -> None:
    """Under --store redis://, the consent's single use went through Redis."""
    lab = served
    inner = getattr(lab.store, "redis", None)
    if inner is None:
        pytest.skip("SQLite store: the conditional UPDATE alone decides")
    kinds = {raw.decode().split(":")[-2] for raw in inner.scan_iter("fapi-lab:*")}
    assert "payment_consent" in kinds, kinds
