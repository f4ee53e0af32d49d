"""The bank's customers: the demo users of attacks.md §0, their passwords and second factors.

alice signs in with a TOTP app (fixed, documented secret); bob's weak second
factor is a 4-digit code sent to the lab's SMS inbox page; mallory is the
attacker's own customer at the honest bank.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp

from lab import clock
from lab.audit import trail
from lab.config import PASSWORD_ITERATIONS
from lab.store.base import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    second_factor TEXT NOT NULL,          -- 'totp' or 'sms'
    totp_secret TEXT,
    phone TEXT
);
CREATE TABLE IF NOT EXISTS sms_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL,
    username TEXT NOT NULL,
    body TEXT NOT NULL,
    code TEXT NOT NULL,
    sent_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    password: str
    second_factor: str
    totp_secret: str | None = None
    phone: str | None = None


# Documented in the README: workshop participants add these secrets to an authenticator app.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("alice", "Alice Liddell", "wonderland", "totp",
             totp_secret="WONDERLANDALICEFOLLOWSTHERABBIT2"),
    DemoUser("bob", "Bob Builder", "canwefixit", "sms", phone="+44 7700 900123"),
    DemoUser("mallory", "Mallory Mallet", "attacker", "totp",
             totp_secret="MALLORYMALLETATTACKSTHEHONESTBNK"),
)

SMS_CODE_LIFETIME = 300
# A lab setting: how many SMS codes there are (10,000: four digits). otp-brute-force sets a
# small space so its search is bounded by a count that fits in a run, not by a clock.
SMS_CODE_SPACE_KEY = "sms_code_space"
SMS_CODE_SPACE = 10_000


def sms_code_space(store: Store) -> int:
    value = store.get_setting(SMS_CODE_SPACE_KEY, SMS_CODE_SPACE)
    return min(max(int(value), 10), 10**8) if isinstance(value, int) else SMS_CODE_SPACE


# Stored as `pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>` (the shape Django and passlib
# use), so each hash says how it was made and the work factor can differ between labs. The
# first format, `pbkdf2$<salt hex>$<hash hex>`, was always 100,000 iterations: still verified.
SCHEME = "pbkdf2_sha256"
LEGACY_SCHEME, LEGACY_ITERATIONS = "pbkdf2", 100_000
MAX_ITERATIONS = 10_000_000   # a stored count beyond this is refused, never computed


def hash_password(password: str, salt: bytes | None = None,
                  iterations: int = PASSWORD_ITERATIONS) -> str:
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be 1..{MAX_ITERATIONS}, not {iterations}")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def hash_iterations(stored: str) -> int | None:
    """The work factor a stored hash was made with (None: not a hash this lab reads)."""
    parts = stored.split("$")
    if len(parts) == 3 and parts[0] == LEGACY_SCHEME:
        return LEGACY_ITERATIONS
    if len(parts) == 4 and parts[0] == SCHEME and parts[1].isascii() \
            and parts[1].isdigit():
        count = int(parts[1])
        return count if 1 <= count <= MAX_ITERATIONS else None
    return None


def _verify_hash(password: str, stored: str) -> bool:
    iterations = hash_iterations(stored)
    if iterations is None:
        return False
    salt_hex, digest_hex = stored.split("$")[-2:]
    try:
        expected = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt_hex),
                                       iterations)
        return hmac.compare_digest(expected.hex(), digest_hex)
    except (ValueError, TypeError):   # not hex, or not ASCII
        return False


def seed(store: Store, iterations: int = PASSWORD_ITERATIONS) -> None:
    """The demo customers, on a first start only: a customer already stored keeps its hash
    (and the work factor it was made with)."""
    store.ensure_schema(SCHEMA)
    for user in DEMO_USERS:
        store.execute(
            "INSERT OR IGNORE INTO customers(username, display_name, password_hash, "
            "second_factor, totp_secret, phone) VALUES (?, ?, ?, ?, ?, ?)",
            (user.username, user.display_name, hash_password(user.password,
                                                             iterations=iterations),
             user.second_factor, user.totp_secret, user.phone),
        )


def get(store: Store, username: str) -> dict | None:
    return store.query_one("SELECT * FROM customers WHERE username = ?", (username,))


def _authentication(store: Store, username: str, factor: str, ok: bool) -> bool:
    """Every check of a factor, passed or failed, is an audit record (never the secret)."""
    trail.append(store, "authentication", {"username": str(username)[:200], "factor": factor,
                                           "ok": ok})
    return ok


def check_password(store: Store, username: str, password: str) -> bool:
    customer = get(store, username)
    return _authentication(store, username, "password", bool(customer) and _verify_hash(
        password, customer["password_hash"]))  # type: ignore[index]


# TOTP runs on real time, never on the lab clock: the codes come from an authenticator app
# on a participant's phone, which `fapi-lab clock advance` cannot move. Checked at lab time,
# every phone's code was wrong after an advance. What the lab issues itself (authorization
# codes, tokens, SMS codes) does follow the lab clock.


def totp_now(secret: str) -> str:
    """The code an authenticator app shows right now."""
    return pyotp.TOTP(secret).now()


def check_totp(store: Store, username: str, code: str) -> bool:
    """Current code, or the one before or after (±30 s drift), at real time."""
    customer = get(store, username)
    ok = bool(customer and customer["totp_secret"]) and pyotp.TOTP(
        customer["totp_secret"]).verify(code.strip(), valid_window=1)  # type: ignore[index]
    return _authentication(store, username, "totp", ok)


def send_sms_code(store: Store, username: str) -> str:
    """Deliver a fresh 4-digit code to the lab's SMS inbox; earlier ones stop working."""
    customer = get(store, username)
    if not customer or not customer["phone"]:
        raise ValueError(f"{username} has no phone")
    space = sms_code_space(store)
    code = f"{secrets.randbelow(space):0{len(str(space - 1))}d}"
    with store.transaction():
        store.execute("UPDATE sms_inbox SET used = 1 WHERE username = ? AND used = 0",
                      (username,))
        store.insert(
            "INSERT INTO sms_inbox(phone, username, body, code, sent_at) VALUES (?, ?, ?, ?, ?)",
            (customer["phone"], username,
             f"HonestBank: your sign-in code is {code}. Never share it.", code,
             clock.now(store)),
        )
    return code


def check_sms_code(store: Store, username: str, code: str) -> bool:
    """The latest unused code, within its lifetime; consumed atomically on success."""
    oldest = clock.now(store) - SMS_CODE_LIFETIME
    return _authentication(store, username, "sms", store.consume(
        "UPDATE sms_inbox SET used = 1 WHERE username = ? AND code = ? AND used = 0 "
        "AND sent_at >= ?", (username, code.strip(), oldest)))


def void_sms_codes(store: Store, username: str) -> None:
    """No code sent so far works any more (login_throttling locks the account)."""
    store.execute("UPDATE sms_inbox SET used = 1 WHERE username = ? AND used = 0", (username,))


def sms_inbox(store: Store, limit: int = 20) -> list[dict]:
    return store.query("SELECT * FROM sms_inbox ORDER BY id DESC LIMIT ?", (limit,))


def second_factor_hint(customer: dict) -> str:
    if customer["second_factor"] == "totp":
        return "Enter the 6-digit code from your authenticator app."
    return f"We sent a code to {customer['phone']} (see the lab's SMS inbox)."
