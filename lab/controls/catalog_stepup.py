"""Step-up authentication for payments (attacks.md §2.7): the bank's own policy, in no FAPI
profile, on in the `+adaptive` overlay (lab/controls/profiles.py ADAPTIVE).
"""

from __future__ import annotations

from .model import Control, Refusal

R = Refusal

# The acr the lab's AS gives a login with a second factor (PSD2 strong customer
# authentication, RTS Art. 4); "pwd" is a password alone (lab/authserver/login.py).
SCA_ACR = "sca"
PASSWORD_ACR = "pwd"

STEPUP_CONTROLS: tuple[Control, ...] = (
    Control(
        "step_up_for_payments", "Step-up for payments",
        "POST /payments needs an access token whose acr is the SCA value and whose auth_time "
        "is at most max_age seconds old (lab clock); otherwise 401 "
        "insufficient_user_authentication with acr_values and max_age, and FinLens sends the "
        "user back to the AS with them.",
        ("bank", "TPP"), R(401, "insufficient_user_authentication"),
        "RFC 9470 §3, §6; RTS Art. 5",
        "A refresh token keeps an app's access alive for months, but the sign-in behind it "
        "gets older every day. Reading balances on a three-day-old sign-in is one thing; moving "
        "money is another: the bank asks for a fresh, strong authentication of the customer "
        "for each payment, so an app (or an insider with its keys) cannot pay on its own.",
        params={"acr": SCA_ACR, "max_age": 300},
        off_behaviour="Any valid token with the payments scope can pay, however old the "
                      "sign-in behind it and whatever its acr.",
    ),
)
