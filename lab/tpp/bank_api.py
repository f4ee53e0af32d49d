"""Calls to a linked institution's API with the link's tokens, refreshing as needed.

RFC 6750 Bearer, or RFC 9449 §7 DPoP (a proof with ath per call, nonce retry)
when the token is DPoP-bound; the TLS client certificate when mutual TLS is used
(RFC 8705 §3).

RFC 6750 §3.1: invalid_token — "The access token provided is expired, revoked,
malformed, or invalid"; the client may refresh and retry once. When refresh
fails with invalid_grant (the user revoked the grant) or the bank keeps
refusing, the link is marked revoked and the user is asked to re-link.
"""

from __future__ import annotations

from typing import Any

import requests

from lab import clock, context
from lab.config import LabConfig
from lab.web.request_id import HEADER

from . import client, dpop_signer, http_signing, institutions, keyring, links, session
from .errors import InstitutionUnavailableError, TokenRequestFailedError
from .institutions import Institution

TIMEOUT = 15
EXPIRY_MARGIN = 5.0


class LinkRevokedError(Exception):
    """The link's tokens no longer work; the user must re-link."""


class BankUnavailableError(Exception):
    """The bank could not be reached or answered something unusable (not the user's fault)."""


class ForbiddenError(Exception):
    """403: the token is fine but this account or permission was not shared."""


class LinkSession:
    """One linked institution's API, as the TPP sees it."""

    def __init__(self, config: LabConfig, inst: Institution, link: dict[str, Any]) -> None:
        self.config = config
        self.inst = inst
        self.link = dict(link)
        self.http = requests.Session()
        self.http.verify = institutions.ca_for(str(config.ca_cert_path), inst)
        self.http.trust_env = False   # else $REQUESTS_CA_BUNDLE overrides verify
        try:
            if client.prepare(config, inst)[1].uses_mtls:
                self.http.cert = keyring.client_certificate(config, inst)
        except InstitutionUnavailableError:
            pass  # the AS is away: bank calls go without a certificate
        http_signing.attach(config, self.http, inst.api_base)
        ctx = context.current_or_none()
        if ctx and ctx.request_id:
            self.http.headers[HEADER] = ctx.request_id

    @property
    def store(self) -> Any:
        return context.current().store

    def _revoked(self, reason: str) -> LinkRevokedError:
        links.mark_revoked(self.store, self.link["id"], reason)
        self.link["status"] = "revoked"
        return LinkRevokedError(reason)

    def refresh(self) -> None:
        """RFC 6749 §6; invalid_grant (grant revoked, token reused) ends the link."""
        if not self.link.get("refresh_token"):
            raise self._revoked("access expired and there is no refresh token")
        try:
            token = client.refresh(self.config, self.inst, self.link["refresh_token"])
        except TokenRequestFailedError as exc:
            if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client"):
                raise self._revoked(f"refresh refused: {exc.error}") from None
            raise BankUnavailableError("refresh failed") from None
        links.update_tokens(self.store, self.link["id"], token)
        self.link["access_token"] = token.get("access_token")
        self.link["token_type"] = token.get("token_type")
        if token.get("refresh_token"):
            self.link["refresh_token"] = token["refresh_token"]
        self.link["expires_at"] = links.expires_at_of(token, clock.now())

    def _expired(self) -> bool:
        expires_at = self.link.get("expires_at")
        return expires_at is not None and clock.now() >= float(expires_at) - EXPIRY_MARGIN

    def _call(self, path: str, params: dict[str, Any] | None) -> requests.Response:
        return self.send("GET", path, params=params)

    def send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
             json: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        """One call with the link's token (Bearer or DPoP), no refresh, no status check."""
        url = self.inst.api_base.rstrip("/") + path
        token = str(self.link["access_token"])
        extra_headers = dict(headers or {})
        try:
            if str(self.link.get("token_type") or "").lower() != "dpop":
                return self.http.request(method, url, params=params, json=json, timeout=TIMEOUT,
                                         headers={"Authorization": f"Bearer {token}",
                                                  **extra_headers})
            # RFC 9449 §7.1: "Authorization: DPoP <token>" and a proof whose ath is the
            # token's hash, made with the key the token is bound to.
            signer = session.dpop_signer(self.config, self.inst)
            return dpop_signer.send(lambda extra: self.http.request(
                method, url, params=params, json=json, timeout=TIMEOUT,
                headers={"Authorization": f"DPoP {token}", **extra_headers, **extra}),
                signer, method, url, access_token=token)
        except http_signing.BadResponseSignatureError as exc:
            raise BankUnavailableError(str(exc)) from None
        except requests.RequestException:
            raise BankUnavailableError("bank unreachable") from None

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a bank resource; refresh when expired by the lab clock or refused as invalid."""
        if self.link.get("status") != "active":
            raise LinkRevokedError(self.link.get("status_reason") or "revoked")
        if self._expired():
            self.refresh()
        response = self._call(path, params)
        if response.status_code == 401:
            self.refresh()
            response = self._call(path, params)
            if response.status_code == 401:
                raise self._revoked("the bank refuses the token")
        if response.status_code == 403:
            raise ForbiddenError(path)
        if response.status_code != 200:
            raise BankUnavailableError(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise BankUnavailableError("not JSON") from None
        if not isinstance(data, dict):
            raise BankUnavailableError("not a JSON object")
        return data
