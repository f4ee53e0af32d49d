"""The raw cost of the signature algorithm the lab uses (ES256), measured beside the servers.

Every bank call verifies at least one ES256 signature (the access token) and a DPoP call
a second (the proof); a token issuance verifies the client assertion (and a proof) and
signs the token. The server's rate as a share of these raw rates says how much of a
request is cryptography and how much is everything else.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ALG = "ES256"


def _rate(operation: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Operations per CPU second of this thread, and per wall second, over about `seconds`
    of CPU (batches of 200, timed as a whole). Per CPU second is the one-core cost even on a
    busy machine, where another process's turn on the core stretches the wall time; it is
    what the rows' server CPU per request is compared with."""
    done, cpu0, wall0 = 0, time.thread_time(), time.perf_counter()
    while True:
        for _ in range(200):
            operation()
        done += 200
        cpu = time.thread_time() - cpu0
        if cpu >= seconds:
            return done / cpu, done / (time.perf_counter() - wall0)


def es256_rates(seconds: float = 1.0) -> dict[str, float]:
    """ES256 (ECDSA P-256 with SHA-256) verifications and signatures per CPU second (and per
    wall second), one thread, with the key already loaded: the floor under what a request
    costs, in `cryptography`."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    message = b"eyJhbGciOiJFUzI1NiJ9." + b"x" * 300   # about a JWS signing input's size
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    algorithm = ec.ECDSA(hashes.SHA256())
    verify, verify_wall = _rate(lambda: public.verify(signature, message, algorithm), seconds)
    sign, sign_wall = _rate(lambda: key.sign(message, algorithm), seconds)
    return {"verify_per_s": verify, "sign_per_s": sign, "verify_per_wall_s": verify_wall,
            "sign_per_wall_s": sign_wall}
