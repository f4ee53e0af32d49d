"""risk_based_auth's learned scorer: an IsolationForest trained on the customer's own history.

Chosen with the parameter `scorer` = "learned"; it needs the optional extra `risk`
(scikit-learn), imported only here and only when chosen. It reads the same signals as the
rules (lab.domain.login_risk.Signals), kept for each completed sign-in in `login_history`.

How it scores one sign-in (docs/controls/risk_based_auth.md, "The learned scorer"):

1. Train an IsolationForest (fixed random_state) on her newest `max_history` sign-ins, each
   a vector: new device, new address, the hour on a circle (sin, cos), failures just before,
   payment scope. The rows get a small fixed jitter first: a forest cannot split a feature
   that never varied, and without it a history that is always "known address" would make
   the model blind to a new one.
2. Her usual: the anomaly score of the most unusual 5% of her own (jittered) history. A
   sign-in at or below it is like her history: score 0.
3. Above it, each signal is replaced by her most common value for it, one at a time; the
   drop in anomaly is that signal's contribution. Each signal that contributes counts with
   the rules' own weight (new address 3, new device 1, hour 1, failures 2, payment 1), so the
   score means what it means for the rules and the same thresholds (mfa_at, confirm_at,
   deny_at) decide. The reasons say which signals and by how much.

Fewer than `min_history` past sign-ins (or scikit-learn missing at run time): the rules
score the sign-in, and a reason says so.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from lab.domain import login_risk
from lab.domain.login_risk import RISK, Assessment, Signals, SignIn
from lab.store.base import Store

SEED = 0
JITTER = 0.05          # standard deviation of the training jitter (features are ~1 wide)
USUAL = 0.95           # her usual: up to this quantile of her own history's anomaly
EPSILON = 0.005        # a contribution smaller than this is not counted
MAX_TRAIN = 1000       # never train on more rows than this, whatever max_history says
GROUPS: dict[str, tuple[int, ...]] = {"device": (0,), "address": (1,), "hour": (2, 3),
                                      "failures": (4,), "payment": (5,)}


def before(failures: int) -> int:
    """Failures before this attempt: login_throttle counts the attempt in flight as one
    until it passes, and whether it still counts depends on the step (password, code,
    device); not counting it makes a history row and a live sign-in alike."""
    return max(failures - 1, 0)


def vector(sig: Signals) -> list[float]:
    angle = 2 * math.pi * sig.hour / 24
    return [float(sig.new_device), float(sig.new_address), math.sin(angle), math.cos(angle),
            min(before(sig.failures), 10) / login_risk.VELOCITY_FAILURES, float(sig.payment)]


def history(store: Store, username: str, limit: int) -> list[Signals]:
    """Her newest completed sign-ins, newest first, at most `limit`."""
    rows = store.query("SELECT * FROM login_history WHERE username = ? "
                       "ORDER BY at DESC, rowid DESC LIMIT ?", (username, limit))
    return [Signals(bool(r["new_device"]), bool(r["new_address"]), int(r["hour"]),
                    int(r["failures"]), bool(r["payment"])) for r in rows]


def _signal(group: str, sign_in: SignIn, sig: Signals, past: list[Signals]) -> tuple[int, str]:
    """The rules' weight and words for one signal, with how often her history had it."""
    n = len(past)
    if group == "device":
        seen = sum(p.new_device for p in past)
        return login_risk.NEW_DEVICE, (f"a browser (device cookie) not seen with this account "
                                       f"({seen} of her {n} past sign-ins were in a new one)")
    if group == "address":
        seen = sum(p.new_address for p in past)
        return login_risk.NEW_ADDRESS, (f"a new address ({sign_in.address}; {seen} of her {n} "
                                        f"past sign-ins came from a new one)")
    if group == "hour":
        hours = sorted({p.hour for p in past})
        usual = ", ".join(f"{h:02d}h" for h in hours[:8]) + ("…" if len(hours) > 8 else "")
        return login_risk.ODD_HOUR, (f"an hour unusual for her ({sig.hour:02d}h UTC, lab "
                                     f"clock; her past sign-ins: {usual})")
    if group == "failures":
        most = Counter(before(p.failures) for p in past).most_common(1)[0][0]
        return login_risk.VELOCITY, (f"{before(sig.failures)} failed attempts on this account "
                                     f"just before (most of her past sign-ins had {most})")
    seen = sum(p.payment for p in past)
    return login_risk.SENSITIVE, (f"asks to initiate payments ({seen} of her {n} past "
                                  f"sign-ins did)")


def assess(store: Store, username: str, sign_in: SignIn,
           sig: Signals) -> tuple[Assessment | None, str]:
    """(the assessment, "") or (None, why the rules score this sign-in instead)."""
    try:
        import numpy as np
        from sklearn.ensemble import IsolationForest
    except ImportError:
        return None, ("learned scorer unavailable (scikit-learn, the optional extra 'risk', "
                      "is not installed): the rules scored this sign-in")
    need = min(max(5, int(RISK.param("min_history", 20))), MAX_TRAIN)
    limit = max(need, min(int(RISK.param("max_history", 200)), MAX_TRAIN))
    past = history(store, username, limit)
    if len(past) < need:
        return None, (f"learned scorer: {len(past)} past sign-ins of {username}, it needs "
                      f"{need}: the rules scored this one")
    train = np.array([vector(p) for p in past])
    jittered = train + np.random.default_rng(SEED).normal(0.0, JITTER, train.shape)
    model = IsolationForest(n_estimators=100, max_samples=min(256, len(past)),
                            random_state=SEED).fit(jittered)

    def anomaly(rows: Any) -> Any:
        return -model.score_samples(rows)      # higher = more unusual, in (0, 1]

    usual = float(np.quantile(anomaly(jittered), USUAL))
    x = np.array([vector(sig)])
    score_x = float(anomaly(x)[0])
    head = (f"learned: anomaly {score_x:.2f}, her usual up to {usual:.2f} (IsolationForest "
            f"on her {len(past)} past sign-ins)")
    if score_x <= usual:
        return login_risk.decide(0, [f"+0 {head}: like her history"]), ""
    typical = np.array(vector(_typical(past)))
    contributions: dict[str, float] = {}
    for group, cols in GROUPS.items():
        y = x.copy()
        y[0, list(cols)] = typical[list(cols)]
        contributions[group] = score_x - float(anomaly(y)[0])
    counted = [g for g, c in contributions.items() if c > EPSILON]
    differ = [g for g, cols in GROUPS.items() if any(x[0, i] != typical[i] for i in cols)]
    if not counted and differ:     # unusual only as a whole: its strongest signal counts
        counted = [max(differ, key=lambda g: contributions[g])]
    score, reasons = 0, [f"+0 {head}"]
    for group in sorted(counted, key=lambda g: -contributions[g]):
        weight, words = _signal(group, sign_in, sig, past)
        score += weight
        reasons.append(f"+{weight} {words}; model weighs it {contributions[group]:+.2f}")
    return login_risk.decide(score, reasons), ""


def _typical(past: list[Signals]) -> Signals:
    """Her most common value of each signal."""
    def mode(values: list[Any]) -> Any:
        return Counter(values).most_common(1)[0][0]

    return Signals(mode([p.new_device for p in past]), mode([p.new_address for p in past]),
                   mode([p.hour for p in past]), mode([p.failures for p in past]),
                   mode([p.payment for p in past]))
