"""The bank's own sign-in policy (attacks.md §2.7): throttling and risk-based authentication.

No FAPI profile marks them (user authentication is outside FAPI 2.0's attacker model, AM §6);
they come on together in the overlay `fapi2-security+adaptive` (lab/controls/profiles.py).
"""

from __future__ import annotations

from .model import Control, Refusal

R = Refusal

LOGINRISK_CONTROLS: tuple[Control, ...] = (
    Control(
        "login_throttling", "Login throttling and lockout",
        "At most max_failures consecutive wrong passwords or second-factor codes per account, "
        "then the account locks for lockout_seconds (lab clock) and its sent codes stop "
        "working; an address with many failures is slowed to one attempt per "
        "address_interval seconds, then refused until its window passes.",
        ("AS",), R(429, "temporarily_unavailable", "lockout page with Retry-After"),
        "RTS Art. 4; NIST SP 800-63B §5.2.2; RFC 6585 §4",
        "A password list or a 4-digit code falls to guessing when guesses are free: 10,000 "
        "codes are a few minutes of requests. Counting failures per account stops guessing "
        "one account; counting per source address stops spraying many accounts, each tried "
        "too few times to lock. The lockout is itself a denial-of-service lever, so it ends "
        "on its own.",
        params={"max_failures": 5, "lockout_seconds": 900, "address_window": 600,
                "address_slow_after": 10, "address_interval": 10, "address_limit": 30},
        off_behaviour="Every password and code is checked, however many came before.",
    ),
    Control(
        "risk_based_auth", "Risk-based authentication",
        "After a right password, a rules score (new device cookie, new address, odd hour on "
        "the lab clock, failed attempts just before, payment scope) decides: allow, a second "
        "factor even where mfa_required is off, a confirmation on the customer's registered "
        "device (/lab/device), or refusal; the reasons are shown to her and in the event. "
        "scorer='learned' (optional extra 'risk') scores with an IsolationForest trained on "
        "her own past sign-ins instead, with the same reasons and thresholds "
        "(docs/risk_scorer.md).",
        ("AS",), R(403, "access_denied", "sign-in refused or declined on the device"),
        "RTS Art. 2; NIST SP 800-63B §5.2.2",
        "A phished password, even with a one-time code relayed in real time, arrives from "
        "somewhere the customer never signed in from, in a browser the bank has never seen. "
        "Scoring those signals lets the bank ask for more only when a sign-in is unusual, and "
        "a confirmation on her own phone shows her where it comes from.",
        params={"mfa_at": 2, "confirm_at": 4, "deny_at": 6, "known_addresses": ["127.0.0.1"],
                "odd_hours": [0, 5], "scorer": "rules", "min_history": 20,
                "max_history": 200},
        choices={"scorer": {"rules": "", "learned": "sklearn risk"}},
        off_behaviour="A right password (and code, where asked) signs in from anywhere.",
    ),
)
