"""LabConfig: where the lab listens and where it keeps its state.

One object built by the CLI (or a test) and handed to every factory, so the
URLs never depend on which process reads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR_ENV = "FAPI_LAB_HOME"
DEFAULT_DATA_DIR = Path.home() / ".fapi-lab"
LOOPBACK = "127.0.0.1"
# PBKDF2-SHA256 iterations of the customers' password hashes a lab stores on its first start
# (lab.domain.customers; each stored hash carries its own count, so a lab keeps verifying
# what it stored whatever these say later). A workshop's lab (`fapi-lab up`) stores 100,000.
# The private labs of `fapi-lab matrix` (and the tests' labs) store LOW_PASSWORD_ITERATIONS:
# their attacks are bounded by a count of attempts, never by time, so the work factor cannot
# change a verdict, and at 100,000 it was most of credential-stuffing's CPU.
PASSWORD_ITERATIONS = 100_000
LOW_PASSWORD_ITERATIONS = 1_000


def default_data_dir() -> Path:
    """`$FAPI_LAB_HOME`, else `~/.fapi-lab` (read at call time, so tests can set it)."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".fapi-lab"


@dataclass
class LabConfig:
    """Ports, bind host and data directory of one lab instance."""

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = LOOPBACK
    as_port: int = 9443
    bank_port: int = 9444
    tpp_port: int = 9445
    profile: str = "fapi2-security"
    # The phantom-token switch (docs/gateway.md): "jwt" hands FinLens the AS's JWT; "opaque"
    # hands it a reference token and puts the gateway on gateway_port in front of the bank.
    access_tokens: str = "jwt"
    gateway_port: int = 9449
    # what a first start stores the demo customers' passwords with (PASSWORD_ITERATIONS above)
    password_iterations: int = PASSWORD_ITERATIONS

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()

    def origin(self, port: int) -> str:
        return f"https://{self.host}:{port}"

    @property
    def as_url(self) -> str:
        return self.origin(self.as_port)

    @property
    def issuer(self) -> str:
        """The AS issuer identifier (RFC 8414 §2): its origin, no trailing slash."""
        return self.as_url

    @property
    def bank_url(self) -> str:
        return self.origin(self.bank_port)

    @property
    def tpp_url(self) -> str:
        return self.origin(self.tpp_port)

    @property
    def opaque_tokens(self) -> bool:
        return self.access_tokens == "opaque"

    @property
    def gateway_url(self) -> str:
        return self.origin(self.gateway_port)

    @property
    def api_url(self) -> str:
        """Where a client calls the bank's API: the gateway with opaque tokens, else the bank."""
        return self.gateway_url if self.opaque_tokens else self.bank_url

    @property
    def db_path(self) -> Path:
        return self.data_dir / "lab.sqlite3"

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def ca_cert_path(self) -> Path:
        return self.pki_dir / "ca.pem"

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / "admin-token"

    @property
    def state_file(self) -> Path:
        """Written by `fapi-lab up` while it runs; read by `status` and other commands."""
        return self.data_dir / "running.json"
