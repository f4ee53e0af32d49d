"""What every workload shares: the material `fapi-lab load` prepared, proofs and assertions.

`fapi-lab load` obtains real tokens from the running lab (lab/load/prepare.py),
writes them to a JSON file and names it in $FAPI_LAB_LOAD_MATERIAL. Proofs and
client assertions are timed by the lab clock (wall time + the lab's offset).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from lab.tpp import assertion, dpop

MATERIAL_ENV = "FAPI_LAB_LOAD_MATERIAL"


def load_material() -> dict[str, Any]:
    path = os.environ.get(MATERIAL_ENV)
    if not path:
        raise SystemExit(f"${MATERIAL_ENV} is not set: run these workloads with `fapi-lab load`")
    with open(path) as handle:
        data: dict[str, Any] = json.load(handle)
    return data


MATERIAL = load_material()


def lab_now() -> int:
    return int(time.time() + float(MATERIAL.get("clock_offset") or 0.0))


def dpop_signer(private_jwk: dict[str, Any]) -> dpop.Signer:
    """The TPP's RFC 9449 proof maker, timed by the lab clock as read from the material."""
    return dpop.Signer(private_jwk, now=lab_now)


class ClientAssertions:
    """private_key_jwt (RFC 7523): a fresh assertion, with a fresh jti, for every request."""

    def __init__(self, client_id: str, private_jwk: dict[str, Any], alg: str,
                 audience: str) -> None:
        self.client_id, self.audience = client_id, audience
        self.signer = assertion.Signer(client_id, private_jwk, alg, now=lab_now)

    def form(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_assertion_type": assertion.ASSERTION_TYPE,
                "client_assertion": self.signer.make(self.audience)}


def trust_lab_ca(client: Any) -> None:
    """Locust's HttpSession is a requests.Session: trust only the lab CA, ignore env proxies."""
    client.verify = MATERIAL["ca_cert"]
    client.trust_env = False
