"""Registered OAuth clients, kept in SQLite (RFC 7591 metadata + Authlib's ClientMixin).

The TPP is pre-registered at first start; everything else arrives by dynamic
registration. Secrets are compared in constant time; registration access
tokens (RFC 7592) are stored as hashes. The table itself is lab/domain/clients.py's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from cryptography import x509

from lab import clock, context
from lab.config import LabConfig
from lab.controls import catalog
from lab.domain.clients import shown_name
from lab.protocol import redirect_uri
from lab.store.base import Store

TPP_CLIENT_ID = "tpp"
# rewards:read: PartnerRewards, a partner API with its own audience at this AS (RFC 8707).
TPP_SCOPE = "openid accounts:read transactions:read payments:write offline_access rewards:read"
# The legacy TPP signs in with the hybrid flow (attacks.md §0), so it may ask for it.
TPP_RESPONSE_TYPES = ["code", "code id_token"]
TOKEN_ENDPOINTS = {"token", "revocation", "introspection", "pushed_authorization"}
OLD_SECRETS = 10   # replaced secrets kept per client
TPP_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post",
                    "tls_client_auth"]


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _sorted_response_type(value: str) -> str:
    return " ".join(sorted(value.split()))


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str | None
    metadata: dict[str, Any]
    extra_auth_methods: list[str] = field(default_factory=list)
    client_id_issued_at: int = 0
    client_secret_expires_at: int = 0
    # The expiry of the secret that authenticated this request (check_client_secret).
    secret_expires_at: int | None = field(default=None, compare=False)

    # --- RFC 7591 views -----------------------------------------------------------------
    @property
    def client_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"client_id": self.client_id,
                                "client_id_issued_at": self.client_id_issued_at}
        if self.client_secret and self.auth_method != "none":
            info["client_secret"] = self.client_secret
            info["client_secret_expires_at"] = self.client_secret_expires_at
        return info

    @property
    def client_metadata(self) -> dict[str, Any]:
        return self.metadata

    @property
    def auth_method(self) -> str:
        return str(self.metadata.get("token_endpoint_auth_method", "client_secret_basic"))

    @property
    def redirect_uris(self) -> list[str]:
        return [u for u in self.metadata.get("redirect_uris") or [] if isinstance(u, str)]

    @property
    def jwks(self) -> dict[str, Any] | None:
        value = self.metadata.get("jwks")
        return value if isinstance(value, dict) else None

    @property
    def client_name(self) -> str:
        """The name pages show: safe whatever the store holds (lab.domain.clients)."""
        return shown_name(self.metadata.get("client_name"), self.client_id)

    # --- ClientMixin --------------------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = str(self.metadata.get("scope") or "").split()
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, uri: str) -> bool:
        return redirect_uri.acceptable(self.redirect_uris, uri)

    def check_client_secret(self, client_secret: str) -> bool:
        """The current secret, or one an RFC 7592 update replaced; `secret_expires_at` is the
        expiry of the one that matched (client_secret_rotation checks it, when on)."""
        if not self.client_secret or not isinstance(client_secret, str):
            return False
        if hmac.compare_digest(self.client_secret.encode(), client_secret.encode()):
            self.secret_expires_at = self.client_secret_expires_at
            return True
        ctx = context.current_or_none()
        expiry = old_secret_expiry(ctx.store, self.client_id, client_secret) if ctx else None
        if expiry is None:
            return False
        self.secret_expires_at = expiry
        return True

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint not in TOKEN_ENDPOINTS:
            return True
        return method == self.auth_method or method in self.extra_auth_methods

    def check_response_type(self, response_type: str) -> bool:
        if not isinstance(response_type, str):
            return False
        allowed = {_sorted_response_type(r) for r in self.metadata.get("response_types")
                   or ["code"] if isinstance(r, str)}
        return _sorted_response_type(response_type) in allowed

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.metadata.get("grant_types") or ["authorization_code"])


def _from_row(row: dict[str, Any]) -> Client:
    return Client(client_id=row["client_id"], client_secret=row["client_secret"],
                  metadata=json.loads(row["metadata"]),
                  extra_auth_methods=json.loads(row["extra_auth_methods"]),
                  client_id_issued_at=row["client_id_issued_at"],
                  client_secret_expires_at=row["client_secret_expires_at"])


def get(store: Store, client_id: object) -> Client | None:
    if not isinstance(client_id, str) or not client_id or len(client_id) > 200:
        return None
    row = store.query_one("SELECT * FROM as_clients WHERE client_id = ?", (client_id,))
    return _from_row(row) if row else None


def create(store: Store, *, client_id: str, client_secret: str | None,
           metadata: dict[str, Any], registration_token: str | None = None,
           extra_auth_methods: list[str] | None = None, secret_expires_at: int = 0) -> Client:
    store.execute(
        "INSERT INTO as_clients(client_id, client_secret, metadata, extra_auth_methods, "
        "client_id_issued_at, registration_token_hash, client_secret_expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (client_id, client_secret, json.dumps(metadata), json.dumps(extra_auth_methods or []),
         clock.now_int(store), token_hash(registration_token) if registration_token else None,
         secret_expires_at))
    client = get(store, client_id)
    assert client is not None
    return client


def update_metadata(store: Store, client_id: str, metadata: dict[str, Any]) -> None:
    store.execute("UPDATE as_clients SET metadata = ? WHERE client_id = ?",
                  (json.dumps(metadata), client_id))


def rotate_secret(store: Store, client_id: str, expires_at: int) -> str:
    """A new secret (RFC 7592 §2.2: the server MAY issue one). The old one is kept, hashed,
    with the expiry it was issued with: it authenticates until then, as a second secret does
    at Azure AD or Okta, so every instance of the client has time to pick up the new one.
    With client_secret_rotation off, expiry is not enforced, so an old secret goes on working
    (the last OLD_SECRETS of them): the naive AS of client-impersonation-leaked-secret."""
    secret = secrets.token_urlsafe(32)
    with store.transaction():
        row = store.query_one("SELECT client_secret, client_secret_expires_at FROM as_clients "
                              "WHERE client_id = ?", (client_id,))
        if row and row["client_secret"]:
            store.execute("INSERT INTO as_client_old_secrets (client_id, secret_hash, "
                          "expires_at, replaced_at) VALUES (?, ?, ?, ?)",
                          (client_id, token_hash(row["client_secret"]),
                           row["client_secret_expires_at"], clock.now(store)))
            store.execute("DELETE FROM as_client_old_secrets WHERE client_id = ? AND rowid NOT "
                          "IN (SELECT rowid FROM as_client_old_secrets WHERE client_id = ? "
                          "ORDER BY replaced_at DESC LIMIT ?)", (client_id, client_id,
                                                                 OLD_SECRETS))
        store.execute("UPDATE as_clients SET client_secret = ?, client_secret_expires_at = ? "
                      "WHERE client_id = ?", (secret, expires_at, client_id))
    return secret


def old_secret_expiry(store: Store, client_id: str, candidate: str) -> int | None:
    """The expiry of a replaced secret of this client equal to `candidate`, or None."""
    digest = token_hash(candidate)
    rows = store.query("SELECT secret_hash, expires_at FROM as_client_old_secrets "
                       "WHERE client_id = ?", (client_id,))
    for row in rows:
        if hmac.compare_digest(row["secret_hash"], digest):
            return int(row["expires_at"])
    return None


def delete(store: Store, client_id: str) -> None:
    store.execute("DELETE FROM as_clients WHERE client_id = ?", (client_id,))
    store.execute("DELETE FROM as_client_old_secrets WHERE client_id = ?", (client_id,))


def by_registration_token(store: Store, token: str) -> Client | None:
    row = store.query_one("SELECT * FROM as_clients WHERE registration_token_hash = ?",
                          (token_hash(token),))
    return _from_row(row) if row else None


def update(store: Store, client_id: str, metadata: dict[str, Any],
           extra_auth_methods: list[str]) -> None:
    store.execute("UPDATE as_clients SET metadata = ?, extra_auth_methods = ? WHERE client_id = ?",
                  (json.dumps(metadata), json.dumps(extra_auth_methods), client_id))


def subject_dn(cert_pem: str) -> str:
    """RFC 8705 §2.1.2: the subject DN "as defined in [RFC4514]", as tls_client_auth compares."""
    return x509.load_pem_x509_certificate(cert_pem.encode()).subject.rfc4514_string()


def tpp_metadata(config: LabConfig, tpp_jwks: dict[str, Any] | None,
                 tpp_subject_dn: str | None) -> dict[str, Any]:
    """FAPI2 §5.3.2.1: a confidential client using private_key_jwt (or MTLS)."""
    metadata: dict[str, Any] = {
        "client_name": "FinLens",
        # The link callback, and "Sign in with your bank"'s (lab/tpp/signin.py).
        "redirect_uris": [config.tpp_url + "/callback", config.tpp_url + "/signin/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": TPP_RESPONSE_TYPES,
        "token_endpoint_auth_method": "private_key_jwt" if tpp_jwks else "client_secret_basic",
        "scope": TPP_SCOPE,
    }
    if tpp_jwks:
        metadata["jwks"] = tpp_jwks
    if tpp_subject_dn:
        metadata["tls_client_auth_subject_dn"] = tpp_subject_dn
    return metadata


def register_tpp(config: LabConfig, store: Store, tpp_jwks: dict[str, Any] | None,
                 tpp_subject_dn: str | None = None) -> None:
    """Pre-register the TPP once; its secret goes to secrets/tpp-client.json (mode 600), with
    its expiry and, as a dynamic registration would answer (RFC 7592 §3), a registration
    access token and URI, with which FinLens rotates the secret (lab/tpp/secret_rotation.py).

    A restart keeps the registration and its secret but brings the metadata up to date (and
    gives an older file its registration access token).
    The secret methods stay registered for the legacy and oauth2 profiles, where the
    switches let them through."""
    path = config.data_dir / "secrets" / "tpp-client.json"
    metadata = tpp_metadata(config, tpp_jwks, tpp_subject_dn)
    extras = [m for m in TPP_AUTH_METHODS if m != metadata["token_endpoint_auth_method"]]
    if not tpp_subject_dn:
        extras.remove("tls_client_auth")
    existing = get(store, TPP_CLIENT_ID)
    saved = _read_json(path)
    if existing and saved is not None:
        update(store, TPP_CLIENT_ID, metadata, extras)
        if not saved.get("registration_access_token"):
            token = secrets.token_urlsafe(32)
            set_registration_token(store, TPP_CLIENT_ID, token)
            _write_credentials(path, dict(saved, **_registration(config, token),
                                          client_secret_expires_at=existing
                                          .client_secret_expires_at))
        return
    secret = secrets.token_urlsafe(32)
    token = secrets.token_urlsafe(32)
    # RFC 7591 §3.2.1: the secret's expiry, as a registration would give it (lab clock).
    lifetime = int(catalog.get("client_secret_rotation").params["lifetime"])  # type: ignore[call-overload]
    expires_at = clock.now_int(store) + lifetime
    with store.transaction():
        delete(store, TPP_CLIENT_ID)
        create(store, client_id=TPP_CLIENT_ID, client_secret=secret, metadata=metadata,
               extra_auth_methods=extras, secret_expires_at=expires_at,
               registration_token=token)
    _write_credentials(path, {"client_id": TPP_CLIENT_ID, "client_secret": secret,
                              "client_secret_expires_at": expires_at,
                              "client_secret_issued_at": clock.now(store),
                              **_registration(config, token)})


def _registration(config: LabConfig, token: str) -> dict[str, str]:
    return {"registration_client_uri": f"{config.issuer}/register/{TPP_CLIENT_ID}",
            "registration_access_token": token}


def _read_json(path: Any) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_credentials(path: Any, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    path.chmod(0o600)


def set_registration_token(store: Store, client_id: str, token: str) -> None:
    store.execute("UPDATE as_clients SET registration_token_hash = ? WHERE client_id = ?",
                  (token_hash(token), client_id))


GATEWAY_CLIENT_ID = "honestbank-gateway"


def register_gateway(store: Store, jwks: dict[str, Any]) -> None:
    """HonestBank's phantom-token gateway: a resource server that may introspect any token
    (RFC 7662 §4), authenticated by private_key_jwt, which every profile permits."""
    metadata = {"client_name": "HonestBank API gateway", "grant_types": [],
                "response_types": [], "token_endpoint_auth_method": "private_key_jwt",
                "jwks": jwks, "lab_resource_server": True}
    if get(store, GATEWAY_CLIENT_ID):
        update(store, GATEWAY_CLIENT_ID, metadata, [])
    else:
        create(store, client_id=GATEWAY_CLIENT_ID, client_secret=None, metadata=metadata)
