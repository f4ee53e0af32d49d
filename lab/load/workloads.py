"""The workloads `fapi-lab load` knows: their Locust file, the controls they need, baselines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LOADTESTS = Path(__file__).resolve().parent.parent.parent / "loadtests"
BASE_PROFILE = "fapi2-security"


@dataclass(frozen=True)
class Workload:
    name: str
    what: str
    controls: dict[str, str] = field(default_factory=dict)   # on top of BASE_PROFILE

    @property
    def locustfile(self) -> Path:
        return LOADTESTS / f"{self.name}.py"


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload("bearer", "bank GET /accounts, unbound bearer token",
             {"dpop_bound_tokens": "off", "mtls_bound_tokens": "off"}),
    Workload("dpop", "bank GET /accounts, DPoP-bound token, a fresh proof per call",
             {"dpop_bound_tokens": "on", "mtls_bound_tokens": "off"}),
    Workload("mtls", "bank GET /accounts over mutual TLS, certificate-bound token",
             {"dpop_bound_tokens": "off", "mtls_bound_tokens": "on"}),
    Workload("refresh", "AS POST /token refresh grant, private_key_jwt + DPoP proof",
             {"dpop_bound_tokens": "on", "mtls_bound_tokens": "off"}),
)}

# Each control's cost, as a ratio to its baseline measured in the same run.
COMPARISONS: tuple[tuple[str, str, str], ...] = (
    ("DPoP vs bearer", "dpop", "bearer"),
    ("mTLS vs bearer", "mtls", "bearer"),
)
