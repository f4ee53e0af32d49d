"""The TPP's key material per institution: assertion keys, DPoP key, TLS client certificate.

tpp_per_as_keys (FAPI2 §6.3) decides whether every institution gets its own DPoP
key and certificate. Nothing to refuse here: its effect shows at the bank, where
a token bound to one institution's key fails with another's (dpop_bound_tokens,
mtls_bound_tokens).
"""

from __future__ import annotations

from typing import Any

from lab import keys, pki
from lab.config import LabConfig
from lab.controls import guard
from lab.jose.jwk import thumbprint

from .institutions import DEFAULT_ID, Institution

PER_AS_KEYS = guard("tpp_per_as_keys")

ASSERTION_OWNER = "tpp"         # registered at the honest AS as the client's JWKS
SHARED_DPOP_OWNER = "tpp-dpop"
HOME_CERTIFICATE = "tpp"        # registered at the honest AS by subject (tls_client_auth)


def assertion_key(config: LabConfig, alg: str) -> dict[str, Any]:
    """The private JWK the TPP signs client assertions with (RFC 7523 §3)."""
    return keys.signing_key(keys.ensure_keyset(config.keys_dir, ASSERTION_OWNER), alg)


def dpop_owner(inst: Institution) -> str:
    # FAPI2 §6.3: "clients should use a different DPoP key for each authorization server".
    return f"tpp-dpop-{inst.id}" if PER_AS_KEYS.on() else SHARED_DPOP_OWNER


def dpop_key(config: LabConfig, inst: Institution) -> dict[str, Any]:
    """The private ES256 JWK whose proofs bind this institution's tokens (RFC 9449 §4)."""
    owner = dpop_owner(inst)
    return keys.signing_key(keys.ensure_keyset(config.keys_dir, owner, ("ES256",)), "ES256")


def certificate_name(inst: Institution) -> str:
    # The home institution keeps the certificate its AS knows by subject (RFC 8705 §2.1).
    if not PER_AS_KEYS.on() or inst.id == DEFAULT_ID:
        return HOME_CERTIFICATE
    return f"tpp-{inst.id}"


def client_certificate(config: LabConfig, inst: Institution) -> tuple[str, str]:
    """(certificate, key) paths for `requests`' cert= (RFC 8705 mutual TLS)."""
    pair = pki.client_cert(config.pki_dir, certificate_name(inst))
    return str(pair.cert), str(pair.key)


def ensure_home_material(config: LabConfig) -> None:
    """The assertion keys, the shared and HonestBank DPoP keys, the home certificate."""
    keys.ensure_keyset(config.keys_dir, ASSERTION_OWNER)
    for owner in (SHARED_DPOP_OWNER, f"tpp-dpop-{DEFAULT_ID}"):
        keys.ensure_keyset(config.keys_dir, owner, ("ES256",))
    pki.client_cert(config.pki_dir, HOME_CERTIFICATE)


def describe(config: LabConfig, inst: Institution, chosen: Any) -> dict[str, str]:
    """What the settings page shows: which keys and certificate go to this institution."""
    shown: dict[str, str] = {}
    if chosen.client_auth == "private_key_jwt":
        shown["assertion key (kid)"] = str(assertion_key(config, chosen.assertion_alg)["kid"])
    if chosen.uses_dpop:
        shown["DPoP key (jkt, RFC 7638)"] = thumbprint(dpop_key(config, inst))
        shown["DPoP key name"] = dpop_owner(inst)
    if chosen.uses_mtls:
        cert, _ = client_certificate(config, inst)
        with open(cert, "rb") as handle:
            shown["client certificate (x5t#S256)"] = pki.thumbprint_s256(handle.read())
        shown["client certificate name"] = certificate_name(inst)
    return shown
