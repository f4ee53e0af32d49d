"""Pre-generated requests for the benchmark: DPoP proofs and client assertions, one per line.

A DPoP proof's jti and a client assertion's jti are single-use at the server
(dpop_jti_replay, client_assertion_jti_single_use), so every request needs its own.
Signing them while the load runs would make the generator the bottleneck; they are
signed just before each measurement instead, with the TPP's own signers (lab.tpp), and
wrk sends one line per request (loadtests/benchmark/bench.lua). Proofs and assertions
carry the lab's time and stay within its windows: a proof is accepted 60 s after its
iat (dpop_iat_window), an assertion until its exp (iat + 60 s), and a measurement lasts
at most 15 s.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from lab.tpp import assertion
from lab.tpp import dpop_signer as tpp_dpop

MARGIN = 1.5        # lines per request the rate bound allows: a faster run must not run out
EXTRA = 200
CHUNK = 2000        # lines per job when several processes sign


def count_for(bound_rate: float, duration: float) -> int:
    """How many lines a measurement may use: the rate of a cheaper request on the same server,
    measured earlier in the run, bounds this one's."""
    return int(math.ceil(bound_rate * duration * MARGIN)) + EXTRA


def _proofs(jwk: dict[str, Any], method: str, url: str, access_token: str | None, iat: int,
            count: int) -> list[str]:
    signer = tpp_dpop.Signer(jwk, now=lambda: iat)
    return [signer.proof(method, url, access_token=access_token) for _ in range(count)]


def _token_lines(client_id: str, assertion_jwk: dict[str, Any], aud: str, iat: int,
                 dpop_jwk: dict[str, Any] | None, token_url: str, count: int) -> list[str]:
    signer = assertion.Signer(client_id, assertion_jwk, "ES256", now=lambda: iat)
    prover = tpp_dpop.Signer(dpop_jwk, now=lambda: iat) if dpop_jwk else None
    lines = []
    for _ in range(count):
        line = signer.make(aud)
        if prover is not None:
            line += "\t" + prover.proof("POST", token_url)
        lines.append(line)
    return lines


def _chunks(count: int) -> list[int]:
    return [min(CHUNK, count - start) for start in range(0, count, CHUNK)]


def _write(path: Path, batches: list[list[str]]) -> Path:
    with path.open("w") as out:
        for batch in batches:
            out.write("\n".join(batch) + "\n")
    path.chmod(0o600)
    return path


def _pool() -> ProcessPoolExecutor:
    """Signing on every CPU this process may use; forkserver, as the lab's server threads
    make this process a poor one to fork."""
    return ProcessPoolExecutor(max(len(os.sched_getaffinity(0)), 1),
                               mp_context=multiprocessing.get_context("forkserver"))


def dpop_proofs(path: Path, *, jwk: dict[str, Any], url: str, access_token: str, iat: int,
                count: int) -> Path:
    """`count` proofs for GET `url` with `access_token` (ath), each with its own jti."""
    with _pool() as pool:
        batches = list(pool.map(_proofs, *zip(*[(jwk, "GET", url, access_token, iat, n)
                                                for n in _chunks(count)], strict=True)))
    return _write(path, batches)


def token_requests(path: Path, *, client_id: str, assertion_jwk: dict[str, Any], aud: str,
                   token_url: str, iat: int, count: int,
                   dpop_jwk: dict[str, Any] | None = None) -> Path:
    """`count` lines of a fresh client assertion (RFC 7523 §3), then a tab and a fresh DPoP
    proof for POST `token_url` when `dpop_jwk` is given."""
    jobs = [(client_id, assertion_jwk, aud, iat, dpop_jwk, token_url, n)
            for n in _chunks(count)]
    with _pool() as pool:
        batches = list(pool.map(_token_lines, *zip(*jobs, strict=True)))
    return _write(path, batches)


def form_prefix(scope: str) -> str:
    """The token request's form fields before the assertion (RFC 6749 §4.4.2, RFC 7523 §2.2)."""
    return ("grant_type=client_credentials&scope=" + scope.replace(" ", "+")
            + "&client_assertion_type=" + assertion.ASSERTION_TYPE.replace(":", "%3A")
            + "&client_assertion=")


def cert_and_key(path: Path, cert: Path, key: Path) -> Path:
    """One PEM file, certificate first, as `ab -E` wants it (private: mode 0600)."""
    path.write_text(cert.read_text() + key.read_text())
    path.chmod(0o600)
    return path
