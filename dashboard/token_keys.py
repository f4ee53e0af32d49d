"""Which key should verify a JWT, whether it does, and in words why not (RFC 7515, RFC 8725).

AS-issued tokens (access and ID tokens, JARM responses) against the AS's JWKS from its
jwks_uri; client assertions and request objects against the client's registered JWKS;
DPoP proofs against the key in their own `jwk` header, whose RFC 7638 thumbprint is what
an access token's cnf.jkt names. Crypto is PyJWT's and joserfc's; the HMAC check of the
key-confusion forgery (RFC 8725 §2.1) only recomputes what a confused verifier would.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
import requests
from joserfc.jwk import JWKRegistry

from lab.jose import algs, b64
from lab.jose.algs import EMBEDDED_KEY_HEADERS
from lab.jose.jwk import PRIVATE_MEMBERS, THUMBPRINT_MEMBERS, public, public_pem
from lab.jose.jwk import thumbprint as rfc7638_thumbprint
from lab.jose.jws import HMAC_HASHES as HMAC_ALGS

CLIENT_KINDS = ("client_assertion", "request_object")
TIMEOUT = 10.0


class KeysUnavailableError(Exception):
    """A key set could not be loaded (the AS down, a jwks_uri that does not answer)."""


class KeyRing(Protocol):
    """The lab's keys as a verifier finds them."""

    issuer: str

    def as_keys(self) -> list[dict[str, Any]]: ...

    def client_keys(self, client_id: str) -> list[dict[str, Any]] | None:
        """The client's registered public keys; None when no such client is registered."""
        ...


@dataclass(frozen=True)
class Verdict:
    ok: bool
    text: str
    kid: str | None = None
    owner: str | None = None


def thumbprint(key: object) -> str | None:
    """RFC 7638 §3 SHA-256 thumbprint of a public JWK (what cnf.jkt carries), or None for
    anything that is not a usable public key (joserfc must be able to load it)."""
    if not isinstance(key, dict) or key.get("kty") not in THUMBPRINT_MEMBERS:
        return None
    try:
        jkt = rfc7638_thumbprint(key)
        JWKRegistry.import_key(public(key))
    except Exception:  # joserfc refuses a malformed key in many ways; none of them is news
        return None
    return jkt


def _check(token: str, jwk: dict[str, Any], alg: str) -> str | None:
    """None when `jwk` verifies the signature with `alg`; else what went wrong."""
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, AttributeError) as error:
        return f"that key cannot check {alg} ({error})"
    try:
        jwt.PyJWS().decode_complete(token, key=key, algorithms=[alg])
    except jwt.InvalidSignatureError:
        return "the signature does not match: changed after signing, or signed by another key"
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        return str(error)
    return None


def _public_pem(key: dict[str, Any]) -> bytes | None:
    """The PEM a confused verifier would use as an HMAC secret."""
    try:
        return public_pem(key)
    except (KeyError, ValueError, TypeError, jwt.PyJWTError, AttributeError):
        return None


def _signature(token: str) -> bytes:
    return b64.decode(token.rsplit(".", 1)[-1])


def _kid(key: dict[str, Any]) -> str:
    return str(key.get("kid") or "(no kid)")


def _verify_dpop(token: str, header: dict[str, Any], alg: str) -> Verdict:
    jwk = header.get("jwk")
    owner = "the proof's own jwk header"
    if not isinstance(jwk, dict):
        return Verdict(False, "A DPoP proof carries its public key in the jwk header "
                              "(RFC 9449 §4.2); this one has none, so nothing can verify it.")
    if any(m in jwk for m in PRIVATE_MEMBERS):
        return Verdict(False, "The jwk header holds a PRIVATE key: RFC 9449 §4.3 says it must "
                              "not; whoever read this proof can now sign as its owner.")
    if alg in HMAC_ALGS:
        return Verdict(False, f"{alg} is symmetric: RFC 9449 §4.3 wants an asymmetric "
                              "signature, which only the key's holder can make.")
    problem = _check(token, jwk, alg)
    if problem:
        return Verdict(False, f"Does not verify with the key in its own jwk header: {problem}.",
                       owner=owner)
    return Verdict(True, f"Signature verified ({alg}) with the public key in its own jwk header "
                         "(RFC 9449 §4.3): the sender holds that key's private half. What ties "
                         "it to a token is the thumbprint (jkt) below.", owner=owner)


def _owner_keys(claims: dict[str, Any], kind: str, ring: KeyRing
                ) -> tuple[str, list[dict[str, Any]]] | Verdict:
    if kind in CLIENT_KINDS:
        # RFC 7523 §3: iss (and sub) is the client_id; RFC 9101 §5: client_id in the object.
        named = claims.get("client_id") if kind == "request_object" else None
        client_id = named if isinstance(named, str) else claims.get("iss")
        if not isinstance(client_id, str) or not client_id:
            return Verdict(False, "No iss naming the client: nothing says whose key should "
                                  "verify it.")
        keys = ring.client_keys(client_id)
        if keys is None:
            return Verdict(False, f"No client {client_id!r} is registered at the lab's AS, so "
                                  "no registered key can vouch for it.")
        if not keys:
            return Verdict(False, f"Client {client_id!r} registered no keys (jwks or jwks_uri): "
                                  "it authenticates another way, so it cannot have signed this.")
        return f"client {client_id}", keys
    iss = claims.get("iss")
    if iss is not None and iss != ring.issuer:
        return Verdict(False, f"Issued by {str(iss)[:120]!r}, not by the lab's AS "
                              f"({ring.issuer}): the inspector holds only this lab's keys.")
    return "the AS", ring.as_keys()


def _fits(key: dict[str, Any], alg: str) -> bool:
    return algs.kty_for(alg) == key.get("kty")


def verify(token: str, header: dict[str, Any], claims: dict[str, Any], kind: str,
           ring: KeyRing) -> Verdict:
    """Verify the signature against the key this kind of token must be signed with."""
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        return Verdict(False, "No alg in the header: a verifier cannot know how to check it.")
    if alg.lower() == "none":
        return Verdict(False, "Unsigned (alg none): anybody could have written these claims. "
                              "Only a verifier that lets the token pick its own algorithm "
                              "accepts it (RFC 8725 §2.1, §3.1; control alg_allow_list).")
    if kind == "dpop_proof":
        return _verify_dpop(token, header, alg)
    try:
        chosen = _owner_keys(claims, kind, ring)
    except KeysUnavailableError as error:
        return Verdict(False, f"Could not load the keys to check it against: {error}.")
    if isinstance(chosen, Verdict):
        return chosen
    owner, keys = chosen
    if alg in HMAC_ALGS:
        return _verify_hmac(token, alg, owner, keys)
    kid = header.get("kid")
    candidates = [k for k in keys if k.get("kid") == kid] if kid is not None else \
        [k for k in keys if _fits(k, alg)]
    problem = f"none of {owner}'s keys fits {alg}"
    for key in candidates:
        problem = _check(token, key, alg) or ""
        if not problem:
            note = " It also carries a key in its header, which a verifier must ignore " \
                "(trusted_keys_only)." if any(h in header for h in EMBEDDED_KEY_HEADERS) else ""
            return Verdict(True, f"Signature verified ({alg}) with {owner}'s key "
                                 f"{_kid(key)}.{note}", _kid(key), owner)
    if isinstance(header.get("jwk"), dict) and _check(token, header["jwk"], alg) is None:
        return Verdict(False, f"Verifies only with the key in its own jwk header, not with any "
                              f"of {owner}'s keys: a self-signed forgery that only a verifier "
                              "trusting embedded keys accepts (FAPI2 §5.4.2; trusted_keys_only).")
    if kid is not None and not candidates:
        known = ", ".join(_kid(k) for k in keys) or "none"
        return Verdict(False, f"Unknown kid {str(kid)[:80]!r}: not one of {owner}'s keys "
                              f"({known}). A retired key, another issuer's, or a forgery.")
    return Verdict(False, f"Not verified with {owner}'s keys: {problem}.", None, owner)


def _verify_hmac(token: str, alg: str, owner: str, keys: list[dict[str, Any]]) -> Verdict:
    signing_input = token.rsplit(".", 1)[0].encode()
    try:
        signature = _signature(token)
    except ValueError:
        signature = b""
    for key in keys:
        pem = _public_pem(key)
        if pem and hmac.compare_digest(
                hmac.new(pem, signing_input, HMAC_ALGS[alg]).digest(), signature):
            return Verdict(False, f"Forged: {alg} keyed with the PUBLIC key {_kid(key)} of "
                                  f"{owner}, which anybody can fetch. A verifier that lets the "
                                  "header pick the algorithm accepts it: the key-confusion "
                                  "attack (RFC 8725 §2.1; control alg_allow_list).",
                           _kid(key), owner)
    return Verdict(False, f"{alg} is a shared-secret algorithm and {owner} publishes only "
                          "public keys: no lab party signs with it (RFC 8725 §3.1).", None, owner)


# --- the running lab's keys ------------------------------------------------------------------

class LabKeys:
    """The keys of the running lab: the AS's JWKS via discovery, clients from the AS's store.

    `metadata`: the AS's discovery document (dashboard.data.Lab.metadata);
    `client`: a client's RFC 7591 metadata by client_id (None: not registered).
    """

    def __init__(self, issuer: str, ca_path: str, metadata: Callable[[], dict[str, Any]],
                 client: Callable[[str], dict[str, Any] | None]) -> None:
        self.issuer = issuer
        self.ca_path = ca_path
        self._metadata = metadata
        self._client = client
        self._as_keys: list[dict[str, Any]] | None = None

    def _fetch(self, uri: object) -> list[dict[str, Any]]:
        if not isinstance(uri, str) or not uri.startswith("https://"):
            raise KeysUnavailableError(f"no https jwks_uri (got {str(uri)[:80]!r})")
        session = requests.Session()
        session.trust_env = False   # $REQUESTS_CA_BUNDLE would override the lab CA
        try:
            data = session.get(uri, verify=self.ca_path, timeout=TIMEOUT).json()
        except (requests.RequestException, ValueError) as error:
            raise KeysUnavailableError(f"GET {uri}: {type(error).__name__}") from None
        finally:
            session.close()
        keys = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(keys, list):
            raise KeysUnavailableError(f"{uri} has no keys array")
        return [k for k in keys if isinstance(k, dict)]

    def as_keys(self) -> list[dict[str, Any]]:
        """Every key the AS publishes (a retired one too, while the lab still lists it)."""
        if self._as_keys is None:
            try:
                metadata = self._metadata()
            except Exception as error:  # LabUnavailableError and kin: a message, not a crash
                raise KeysUnavailableError(str(error)) from None
            self._as_keys = self._fetch(metadata.get("jwks_uri"))
        return self._as_keys

    def client_keys(self, client_id: str) -> list[dict[str, Any]] | None:
        metadata = self._client(client_id)
        if metadata is None:
            return None
        jwks = metadata.get("jwks")
        if isinstance(jwks, dict) and isinstance(jwks.get("keys"), list):
            return [k for k in jwks["keys"] if isinstance(k, dict)]
        if metadata.get("jwks_uri"):
            return self._fetch(metadata["jwks_uri"])
        return []


def store_client_lookup(config: Any) -> Callable[[str], dict[str, Any] | None]:
    """Client registrations as the AS keeps them: `as_clients` in the lab's SQLite store
    (the admin API has no route for them; the dashboard shares the lab's host and files)."""
    from lab.authserver import clients
    from lab.bootstrap import open_store

    opened: list[Any] = []

    def lookup(client_id: str) -> dict[str, Any] | None:
        try:
            if not opened:
                opened.append(open_store(config))
            client = clients.get(opened[0], client_id)
        except Exception as error:  # no store, or no table yet: say so, do not crash
            raise KeysUnavailableError(f"client registrations unreadable: {error}") from None
        return dict(client.metadata) if client is not None else None

    return lookup


def lab_now(read_clock: Callable[[], Any]) -> tuple[float, str]:
    """The lab clock (admin /clock: wall time plus the offset `fapi-lab clock` sets)."""
    try:
        state = read_clock()
        return float(state["now"]), f"lab clock {state.get('now_iso', '')}".strip()
    except Exception:  # the page still inspects, against this machine's clock
        return time.time(), "this machine's clock (the lab clock did not answer)"
