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


def _rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations per second over about `seconds` (batches of 200, timed as a whole)."""
    done, started = 0, time.perf_counter()
    while True:
        for _ in range(200):
            operation()
        done += 200
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def es256_rates(seconds: float = 1.0) -> dict[str, float]:
    """ES256 (ECDSA P-256 with SHA-256) verifications and signatures per second, one thread,
    with the key already loaded: the floor under what a request costs, in `cryptography`."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    message = b"eyJhbGciOiJFUzI1NiJ9." + b"x" * 300   # about a JWS signing input's size
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    algorithm = ec.ECDSA(hashes.SHA256())
    return {"verify_per_s": _rate(lambda: public.verify(signature, message, algorithm), seconds),
            "sign_per_s": _rate(lambda: key.sign(message, algorithm), seconds)}
