"""The shape of one control: what it checks, where, how it refuses, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Side = Literal["AS", "bank", "TPP"]
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
    fires_via: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    params: dict[str, object] = field(default_factory=dict)
    off_behaviour: str = ""
