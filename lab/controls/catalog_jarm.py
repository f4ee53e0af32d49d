"""JARM (issue 17; attacks.md §2.2): the authorization response as a JWT signed by the AS.

Marked ✔ in fapi1-advanced and fapi2-message-signing, profiles the lab does not have yet, so
it is off in every current profile and shows as its own matrix column.
"""

from __future__ import annotations

from .model import Control, Edit, Refusal

R = Refusal

JARM_CONTROLS: tuple[Control, ...] = (
    Control(
        "jarm", "JARM",
        "The AS answers only in a JWT response mode (response_mode=jwt): code, state and iss "
        "travel inside a JWT it signs, with aud = the client and a short exp; a request for "
        "any other response mode is refused. FinLens accepts only such a response and checks "
        "its signature against the flow's AS keys, iss, aud and exp before reading it.",
        ("AS", "TPP"), R(400, "invalid_request", "AS; TPP abort invalid_jarm"),
        "JARM §2, §4.4; F1P2 §5.2.2 (2), §5.2.3 (2); MS §5.4",
        "A plain authorization response is a few URL parameters anybody can write: an attacker "
        "can splice a stolen code next to its own state, or an honest bank's answer can be "
        "passed off as another bank's. Signed by the AS and addressed to one client, the "
        "response says who issued it, for whom, and until when; nothing in it can be swapped.",
        # JARM §3: response_modes_supported; with jarm on only the JWT modes remain, which is
        # how a client learns that the AS requires them.
        metadata={"response_modes_supported": Edit(remove=("query", "fragment", "form_post"))},
        off_behaviour="The AS serves JWT response modes when asked but also plain ones; "
                      "FinLens reads a JWT response without checking it, and takes plain "
                      "parameters too.",
    ),
)
