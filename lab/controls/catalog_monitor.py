"""Watching tokens while they live (attacks.md §2.7, issue 16): token usage monitoring.

No FAPI profile marks it (key compromise is outside FAPI 2.0's attacker model, FAPI2 §6.8);
it comes on in the overlay `fapi2-security+adaptive` (lab/controls/profiles.py).
"""

from __future__ import annotations

from .model import Control, Refusal

R = Refusal

MONITOR_CONTROLS: tuple[Control, ...] = (
    Control(
        "token_usage_monitoring", "Token usage monitoring",
        "The bank watches each token family (a grant's access and refresh tokens) against its "
        "first use: a new source address, user agent, DPoP key or client certificate, more "
        "than rate_limit requests in one rate_window of the lab clock, or a request for an "
        "account the grant does not share each raise an alert event saying what changed. "
        "The kinds of change seen add up (weights); at threshold the AS revokes the whole "
        "family, the request that tipped it gets 401 invalid_token, and the customer and the "
        "app are told why.",
        ("bank", "AS"), R(401, "invalid_token", "family revoked; alert events before"),
        "RTS Art. 2; FAPI2 §6.8; RFC 8417; RFC 8935",
        "Every check a stolen token passes is genuine when the key went with it: the proof is "
        "signed by the right key, the token is unexpired and unrevoked. What differs is how "
        "it is used: from another network, by another program, faster, poking at accounts "
        "the customer never shared. Watching a token family against its own history turns a "
        "silent key compromise into an alert, and enough alerts into a revocation that "
        "reaches the app at once.",
        params={"weights": {"address": 40, "user_agent": 30, "key": 60, "rate": 30,
                            "probe": 40},
                "threshold": 60, "rate_window": 1, "rate_limit": 15},
        off_behaviour="A token works from any address, program and rate, as long as its "
                      "checks pass; nothing is noticed.",
    ),
)
