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
    # Switched on top of the run's base profile (--profile), put back after the run.
    controls: dict[str, str] = field(default_factory=dict)
    module: str = ""   # the Locust file's name when several workloads share one

    @property
    def locustfile(self) -> Path:
        return LOADTESTS / f"{self.module or self.name}.py"


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload("bearer", "bank GET /accounts, unbound bearer token",
             {"dpop_bound_tokens": "off", "mtls_bound_tokens": "off"}),
    Workload("dpop", "bank GET /accounts, DPoP-bound token, a fresh proof per call",
             {"dpop_bound_tokens": "on", "mtls_bound_tokens": "off"}),
    Workload("mtls", "bank GET /accounts over mutual TLS, certificate-bound token",
             {"dpop_bound_tokens": "off", "mtls_bound_tokens": "on"}),
    Workload("refresh", "AS POST /token refresh grant, private_key_jwt + DPoP proof",
             {"dpop_bound_tokens": "on", "mtls_bound_tokens": "off"}),
    # Token issuance alone, with the profile's binding; only client authentication differs.
    Workload("token", "AS POST /token client credentials grant, private_key_jwt"),
    Workload("token-secret", "AS POST /token client credentials grant, client_secret_post",
             {"private_key_jwt_only": "off", "mtls_client_auth": "off"}, module="token"),
    # The linking flow with the profile's own binding and second factor; only PAR differs.
    Workload("flow", "the whole linking: PAR, login + TOTP, consent, /token, bank calls",
             {"par_required": "on"}),
    Workload("flow-plain", "the same linking with a front-channel request instead of PAR",
             {"par_required": "off"}, module="flow"),
    # Payments (issue 15), start to booked; each differs from the plain one by one control.
    Workload("payment", "a payment on a linked grant: refresh, POST /payments",
             {"payment_consent_binding": "off", "step_up_for_payments": "off"}),
    Workload("payment-rar", "a payment under its own RFC 9396 consent: PAR with "
             "authorization_details, login + TOTP, consent, /token, POST /payments",
             {"payment_consent_binding": "on", "step_up_for_payments": "off"}, module="payment"),
    Workload("payment-stepup", "a payment on a days-old sign-in: refresh, POST /payments "
             "challenged (RFC 9470), re-authorization with acr_values/max_age, POST again",
             {"payment_consent_binding": "off", "step_up_for_payments": "on"}, module="payment"),
)}

# Each control's cost, as a ratio to its baseline measured in the same run.
COMPARISONS: tuple[tuple[str, str, str], ...] = (
    ("DPoP vs bearer", "dpop", "bearer"),
    ("mTLS vs bearer", "mtls", "bearer"),
    ("PAR flow vs plain flow", "flow", "flow-plain"),
    ("private_key_jwt vs client_secret", "token", "token-secret"),
    ("RAR payment vs plain payment", "payment-rar", "payment"),
    ("step-up payment vs plain payment", "payment-stepup", "payment"),
)

# Every workload, with the baselines the comparisons need, in running order.
DEFAULT_WORKLOADS: tuple[str, ...] = ("bearer", "dpop", "mtls", "token", "token-secret",
                                      "refresh", "flow", "flow-plain", "payment",
                                      "payment-rar", "payment-stepup")
# The kind of payment each payment workload makes (loadtests/payment.py).
PAYMENT_KINDS: dict[str, str] = {"payment": "plain", "payment-rar": "rar",
                                 "payment-stepup": "stepup"}
