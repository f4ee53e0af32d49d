"""Pairwise subjects (issue 17; attacks.md §2.8 lists them as a feature, OIDC Core §8).

The feature (a client registering `subject_type=pairwise`) works whatever the switches say.
What the matrix can switch is the AS's policy of giving *every* client a pairwise `sub`: a
client that wants to correlate users would simply register `public`, so only the AS can
protect the user. Nothing is refused: like tpp_referrer_policy it is preventive, and its
`prevented` event (a pseudonym given where the client asked for the public identifier) is
what the correlation attack is judged by. No FAPI profile requires it, so it is off in all.
"""

from __future__ import annotations

from .model import Control, Refusal

R = Refusal

PPID_CONTROLS: tuple[Control, ...] = (
    Control(
        "pairwise_subjects", "Pairwise subjects for every client",
        "The AS gives every client a pairwise `sub` (a keyed hash of the sector — the host of "
        "its redirect URIs — and the user), in ID tokens, UserInfo, introspection and access "
        "tokens, even to a client that registered subject_type public.",
        ("AS",), R(None, None, "prevented event"),
        "OIDC Core §8, §8.1, §17.3; OIDC Registration §2; RFC 9068 §6",
        "With a public `sub` every app a person links sees the same identifier, so two apps "
        "(or a leak of one app's data) can join their records about her without asking. A "
        "pseudonym per app's sector leaves nothing to join on.",
        kind="preventive",
        # OIDC Discovery §3: subject_types_supported; with the policy on, public is not offered.
        metadata={"subject_types_supported": ["pairwise"]},
        off_behaviour="A client gets the public `sub` (the username) unless it registered "
                      "subject_type pairwise itself.",
    ),
)
