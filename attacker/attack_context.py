"""Everything one attack run may use, and the record of what it did.

The context is the attacker's workbench: its own HTTP client from 127.0.0.2, its
own registration, keys and certificate at the honest AS, the capture limited to
its legs, the scripted victim, the lab clock, and the story being written.
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any, NoReturn

import jwt
import requests

from lab import clock, keys, pki
from lab.config import LabConfig
from lab.store.base import Store
from lab.tpp import assertion
from lab.tpp import dpop_signer as tpp_dpop
from lab.tpp import jar as tpp_jar
from lab.web.request_id import HEADER

from . import net
from .attacks import Attack
from .capture_view import CaptureView
from .outcome import AttackSetupError, GoalMissed, GoalReached, Step
from .own_signature import SignsOwnBankCalls
from .victim import HttpVictim

OWN_CLIENT_KEY = "attacker_client"
# One registration even when an attack's worker threads all ask for the client at once.
_OWN_CLIENT_LOCK = threading.Lock()
ATTACKER_CERT = "attacker"
ATTACKER_REDIRECT_PATH = "/cb"
ATTACKER_SITE_PORT = 9446



def serves_only_jwt(meta: dict[str, Any]) -> bool:
    """Discovery lists JWT response modes and no plain query mode (JARM on): a client that
    builds an authorization request asks for response_mode=jwt, or the AS refuses it."""
    modes = meta.get("response_modes_supported")
    return isinstance(modes, list) and "jwt" in modes and "query" not in modes

class AttackContext:
    """One run of one attack against one lab (in this process or `fapi-lab up`'s)."""

    def __init__(self, attack: Attack, config: LabConfig, store: Store, *,
                 capture_since: int, victim_factory: Any = None) -> None:
        self.attack = attack
        self.config = config
        self.store = store
        self.run_tag = secrets.token_hex(3)
        self.capture = CaptureView(store, attack.legs, capture_since)
        self.steps: list[Step] = []
        self.attacker_request_ids: list[str] = []
        self.victim_request_ids: list[str] = []     # all the victim's browser sent
        self.own_flow_request_ids: list[str] = []   # of those, its own honest flow
        self._victim_factory = victim_factory or HttpVictim
        self._http: requests.Session | None = None

    # --- the story ----------------------------------------------------------------------------
    def step(self, actor: str, text: str, *, method: str | None = None, url: str | None = None,
             status: int | None = None, request_id: str | None = None,
             error: str | None = None) -> None:
        self.steps.append(Step(actor, text, method, url, status, request_id, error))

    def note_request(self, response: requests.Response, *, actor: str,
                     own_flow: bool = False) -> None:
        """Remember whose request this was: the attacker's or the victim's; own_flow: the
        victim's own honest flow, which the attacker did not shape (victim.py)."""
        request_id = response.headers.get(HEADER)
        if request_id:
            (self.attacker_request_ids if actor == "attacker"
             else self.victim_request_ids).append(request_id)
            if own_flow and actor != "attacker":
                self.own_flow_request_ids.append(request_id)

    def watch(self, http: requests.Session, *, actor: str) -> requests.Session:
        """Note every response `http` gets (redirects too) as the run's own request, so the
        judge counts exactly the events this run's requests caused (and no other traffic's)."""
        def noted(response: requests.Response, *_: Any, **__: Any) -> None:
            self.note_request(response, actor=actor)

        http.hooks["response"].append(noted)
        if actor == "attacker" and http.auth is None:
            http.auth = SignsOwnBankCalls(self.config, self.store, self.attack.attacker)
        return http

    def new_http(self, *, cert: tuple[str, str] | None = None) -> requests.Session:
        """One more attacker client from 127.0.0.2 (a second browser, a certificate), watched."""
        return self.watch(net.session(str(self.config.ca_cert_path), cert=cert),
                          actor="attacker")

    def succeeded(self, summary: str, stolen: Any = None) -> NoReturn:
        raise GoalReached(summary, stolen)

    def failed(self, summary: str, response: requests.Response | None = None) -> NoReturn:
        refusal = None
        if response is not None:
            refusal = {"status": response.status_code, "url": response.url,
                       "request_id": response.headers.get(HEADER),
                       "body": response.text[:800],
                       "www_authenticate": response.headers.get("WWW-Authenticate")}
        raise GoalMissed(summary, refusal)

    # --- the attacker's tools -----------------------------------------------------------------
    @property
    def http(self) -> requests.Session:
        """The attacker's own TLS client, from 127.0.0.2, without a client certificate."""
        if self._http is None:
            self._http = self.new_http()
        return self._http

    def send(self, method: str, url: str, *, what: str, http: requests.Session | None = None,
             **kwargs: Any) -> requests.Response:
        """Send one attacker request and write it into the story."""
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        response = (http or self.http).request(method, url, **kwargs)
        self.note_request(response, actor="attacker")
        error = _oauth_error(response)
        self.step("attacker", what, method=method, url=url, status=response.status_code,
                  request_id=response.headers.get(HEADER), error=error)
        return response

    def certificate(self) -> tuple[str, str]:
        """The attacker's own lab-CA client certificate (cert path, key path)."""
        pair = pki.client_cert(self.config.pki_dir, ATTACKER_CERT)
        return str(pair.cert), str(pair.key)

    def mtls_http(self) -> requests.Session:
        return self.new_http(cert=self.certificate())

    def dpop_signer(self) -> tpp_dpop.Signer:
        """A DPoP key of the attacker's own (never the TPP's)."""
        key = keys.signing_key(keys.ensure_keyset(self.config.keys_dir, "attacker-dpop",
                                                  ("ES256",)), "ES256")
        return tpp_dpop.Signer(key, now=lambda: clock.now_int(self.store))

    def own_client(self) -> dict[str, Any]:
        """The attacker's own client at the honest AS (RFC 7591), registered once per lab."""
        with _OWN_CLIENT_LOCK:
            return self._own_client()

    def _own_client(self) -> dict[str, Any]:
        saved = self.store.get_setting(OWN_CLIENT_KEY)
        if isinstance(saved, dict) and saved.get("issuer") == self.config.issuer:
            return saved
        private = keys.ensure_keyset(self.config.keys_dir, "attacker", ("ES256",))
        site = f"https://{self.config.host}:{ATTACKER_SITE_PORT}"
        body = {"client_name": "EvilApp", "redirect_uris": [site + ATTACKER_REDIRECT_PATH],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"], "token_endpoint_auth_method": "private_key_jwt",
                "jwks": keys.public_jwks(private),
                "scope": "openid accounts:read transactions:read payments:write offline_access"}
        response = self.http.post(self.config.as_url + "/register", json=body, timeout=30)
        if response.status_code != 201:
            raise AttackSetupError(f"the attacker could not register its client: "
                                   f"{response.status_code} {response.text[:200]}")
        data = response.json()
        saved = {"issuer": self.config.issuer, "client_id": data["client_id"],
                 "redirect_uri": site + ATTACKER_REDIRECT_PATH}
        self.store.set_setting(OWN_CLIENT_KEY, saved)
        return saved

    def own_client_auth(self, endpoint: str) -> dict[str, str]:
        """Form fields authenticating the attacker's own client (private_key_jwt, its key)."""
        client = self.own_client()
        private = keys.ensure_keyset(self.config.keys_dir, "attacker", ("ES256",))
        return {"client_id": client["client_id"],
                "client_assertion_type":
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion.Signer(
                    client["client_id"], keys.signing_key(private, "ES256"), "ES256",
                    now=lambda: clock.now_int(self.store)).make(self.config.issuer)}

    def own_request(self, meta: dict[str, Any], params: dict[str, str]) -> dict[str, str]:
        """The attacker's own client asks the way the AS's discovery says, as FinLens does:
        response_mode=jwt where only JWT modes are served (JARM), and the parameters inside
        a request object signed with its own key where one is required (RFC 9101 §4). A
        switch it can satisfy with its own client is no defence against it."""
        params = dict(params)
        if serves_only_jwt(meta):
            params["response_mode"] = "jwt"
        if not meta.get("require_signed_request_object"):
            return params
        private = keys.ensure_keyset(self.config.keys_dir, "attacker", ("ES256",))
        key = keys.signing_key(private, "ES256")
        now = clock.now_int(self.store)
        client_id = params["client_id"]
        claims = {**params, "iss": client_id, "aud": self.config.issuer, "iat": now,
                  "nbf": now, "exp": now + tpp_jar.LIFETIME, "jti": secrets.token_urlsafe(16)}
        request = jwt.encode(claims, jwt.PyJWK(key, algorithm="ES256").key, algorithm="ES256",
                             headers={"kid": key["kid"], "typ": tpp_jar.TYP})
        return {"client_id": client_id, "request": request}

    # --- the victim and the lab ---------------------------------------------------------------
    def victim(self, username: str = "alice", **options: Any) -> HttpVictim:
        victim: HttpVictim = self._victim_factory(self, username, **options)
        return victim

    def advance_clock(self, seconds: float) -> None:
        clock.advance(self.store, seconds)
        self.step("lab", f"the lab clock moves on {_duration(seconds)}")

    def url(self, origin: str, path: str) -> str:
        base = {"as": self.config.as_url, "bank": self.config.bank_url,
                "tpp": self.config.tpp_url}[origin]
        return base + path


def oauth_error(body: str | bytes | None, www_authenticate: str | None) -> str | None:
    """The OAuth error of a refusal: the JSON body's `error` (RFC 6749 §5.2), else the
    WWW-Authenticate challenge's (RFC 6750 §3)."""
    try:
        parsed = json.loads(body or "")
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        return str(parsed["error"])
    header = www_authenticate or ""
    if 'error="' in header:
        return header.split('error="', 1)[1].split('"', 1)[0]
    return None


def _oauth_error(response: requests.Response) -> str | None:
    return oauth_error(response.content, response.headers.get("WWW-Authenticate"))


def _duration(seconds: float) -> str:
    if seconds >= 3600 * 24:
        return f"{seconds / 86400:g} d"
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
