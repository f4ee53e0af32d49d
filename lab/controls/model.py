"""The shape of one control: what it checks, where, how it refuses, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Side = Literal["AS", "bank", "TPP", "store"]
Kind = Literal["refusing", "preventive", "enabler"]


@dataclass(frozen=True)
class Refusal:
    status: int | None
    error: str | None
    note: str = ""

    def __str__(self) -> str:
        parts = [str(self.status) if self.status else "", self.error or "", self.note]
        return " ".join(p for p in parts if p) or "—"


@dataclass(frozen=True)
class Param:
    """A discovery value read, when the document is built, from a control's parameter.

    `control`: another control's parameter ("" = this one's); while that control is off the
    value is `otherwise`. `keep` (when given) and `drop` filter the parameter's values."""

    name: str
    control: str = ""
    keep: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    otherwise: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edit:
    """A change to a list the base document (or an earlier control) put under the key."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


# A discovery key's value while the control is on: a JSON value as it stands, a Param, or an
# Edit (RFC 8414 §2 / OIDC Discovery §3 keys; lab/protocol/metadata.py applies them).
Discovery = Mapping[str, Any]


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    checks: str
    enforced_at: tuple[Side, ...]
    refusal: Refusal
    spec: str
    teaching: str
    kind: Kind = "refusing"
    requires: tuple[str, ...] = ()
    # "one of" (attacks.md §2.8): a `requires` entry that other controls satisfy as well,
    # {required: (alternatives, …)}. The required id is the default, switched on with this
    # control only when neither it nor an alternative is on.
    requires_alternatives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fires_via: tuple[str, ...] = ()
    # The discovery keys and values the control contributes while it is on.
    metadata: Discovery = field(default_factory=dict)
    # Parameter defaults, and what a profile sets instead (attacks.md §2.4).
    params: dict[str, object] = field(default_factory=dict)
    profile_params: dict[str, dict[str, object]] = field(default_factory=dict)
    off_behaviour: str = ""
    # A string parameter's allowed values, each with what it needs: "" or "<module> <extra>"
    # (a value whose optional extra is not installed is refused by the admin API).
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def satisfied(self, needed: str, on: set[str]) -> bool:
        """`needed` (one of `requires`) is met by `on`: itself or one of its alternatives."""
        return needed in on or any(a in on for a in self.requires_alternatives.get(needed, ()))

    def missing(self, on: set[str]) -> list[str]:
        """What switching this control on must bring along, given what is on already."""
        return [r for r in self.requires if not self.satisfied(r, on)]
