"""The customers' password hashes say their own work factor, so labs may differ in it.

A workshop's lab stores 100,000 PBKDF2 iterations; the matrix's private labs store a low
count (their attacks count attempts, never time them). A hash stored before the count was
written into it (`pbkdf2$salt$hash`, always 100,000) still verifies: nothing stored is lost.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.config import LOW_PASSWORD_ITERATIONS, PASSWORD_ITERATIONS, LabConfig
from lab.domain import customers
from lab.store import SQLiteStore


def _legacy_hash(password: str, salt: bytes) -> str:
    """What lab/domain/customers.py stored before the count was in the hash."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000)
    return f"pbkdf2${salt.hex()}${digest.hex()}"


def test_a_hash_carries_its_iteration_count_and_verifies() -> None:
    stored = customers.hash_password("wonderland", iterations=1_234)
    assert stored.startswith("pbkdf2_sha256$1234$")
    assert customers.hash_iterations(stored) == 1_234
    assert customers._verify_hash("wonderland", stored)
    assert not customers._verify_hash("wonderlane", stored)


def test_a_hash_stored_in_the_first_format_still_verifies() -> None:
    stored = _legacy_hash("canwefixit", b"\x01" * 16)
    assert customers.hash_iterations(stored) == 100_000
    assert customers._verify_hash("canwefixit", stored)
    assert not customers._verify_hash("canwefixi", stored)


def test_a_workshop_lab_stores_100000_and_a_stored_customer_keeps_its_hash(
        tmp_path: Path) -> None:
    assert LabConfig(data_dir=tmp_path).password_iterations == PASSWORD_ITERATIONS >= 100_000
    store = SQLiteStore(tmp_path / "lab.sqlite3")
    store.ensure_schema(customers.SCHEMA)
    old = _legacy_hash("wonderland", b"\x02" * 16)
    store.execute("INSERT INTO customers(username, display_name, password_hash, second_factor) "
                  "VALUES ('alice', 'Alice', ?, 'totp')", (old,))
    customers.seed(store, LOW_PASSWORD_ITERATIONS)   # a later start, whatever its factor
    assert customers.get(store, "alice")["password_hash"] == old  # type: ignore[index]
    assert customers.check_password(store, "alice", "wonderland")
    bob = customers.get(store, "bob")["password_hash"]  # type: ignore[index]
    assert customers.hash_iterations(bob) == LOW_PASSWORD_ITERATIONS
    assert customers.check_password(store, "bob", "canwefixit")


@pytest.mark.parametrize("stored", [
    "", "pbkdf2", "pbkdf2$zz$00", "pbkdf2_sha256$0$00$00", "pbkdf2_sha256$99999999999$00$00",
    "pbkdf2_sha256$²$00$00", "pbkdf2_sha256$10$00$é", "md5$1$00$00", "pbkdf2$00$00$00",
])
def test_a_stored_value_this_lab_cannot_read_never_verifies(stored: str) -> None:
    assert not customers._verify_hash("anything", stored)


def test_a_work_factor_out_of_bounds_is_refused() -> None:
    with pytest.raises(ValueError):
        customers.hash_password("x", iterations=0)


@given(stored=st.text(max_size=80), password=st.text(max_size=20))
def test_any_stored_text_is_false_or_true_never_an_exception(stored: str, password: str) -> None:
    assert customers._verify_hash(password, stored) in (True, False)
