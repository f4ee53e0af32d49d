"""The conformance suite's negative tests (issue 17): checks the lab had folded into others.

`dpop_jkt_binding` was part of `dpop_bound_tokens` ("honours dpop_jkt"). It is its own
control so that a leaked code redeemed with another DPoP key shows its own refusal and
event, and a lesson can switch the code binding off while tokens stay DPoP-bound.
`client_assertion_time_window` was an always-on check without an event.
"""

from __future__ import annotations

from .model import Control, Refusal

R = Refusal

NEGATIVES_CONTROLS: tuple[Control, ...] = (
    Control(
        "dpop_jkt_binding", "Code bound to the DPoP key",
        "A code whose authorization request named a DPoP key (dpop_jkt, or a DPoP proof at "
        "PAR) is redeemed only with a proof from that key; at PAR a dpop_jkt must match the "
        "proof sent with it.",
        ("AS",), R(400, "invalid_dpop_proof"),
        "RFC 9449 §10, §10.1; FAPI2 §5.3.2.1",
        "DPoP binds the tokens to whatever key the token request proves. Without the code "
        "bound to the client's key too, whoever gets hold of a code and can redeem it (its "
        "verifier and the client's credentials, but not the client's DPoP key) gets tokens "
        "bound to a key of its own. dpop_jkt ties the whole flow, from the authorization "
        "request on, to the one key.",
        requires=("dpop_bound_tokens",),
        off_behaviour="dpop_jkt (and the key of a proof at PAR) is remembered but never "
                      "compared: the code is redeemed with any DPoP key, and the tokens are "
                      "bound to that key.",
    ),
    Control(
        "client_assertion_time_window", "Client assertion time window",
        "A private_key_jwt assertion is refused when its exp has passed (60 s skew) or its "
        "iat or nbf lies more than 60 s ahead (lab clock).",
        ("AS",), R(401, "invalid_client"),
        "RFC 7523 §3; FAPI2 §5.3.2.1",
        "A client assertion is a bearer credential for as long as the AS accepts it. Someone who "
        "held the client's key for a moment can sign a batch of assertions for later, each "
        "short-lived enough to pass the jti check's 60 s rule; if the AS never compares exp and "
        "iat with its clock, each of them authenticates as the client for ever. With the window, "
        "an assertion made ahead of time must name the minute it will be used in.",
        off_behaviour="exp, iat and nbf must be numbers but are not compared with the clock: an "
                      "assertion that expired long ago, or is dated for later, authenticates now.",
    ),
)
