"""The Rewards page: the user's points at PartnerRewards, a partner API of the user's bank.

PartnerRewards takes tokens from the bank's AS, for its own audience (RFC 8707).
FinLens asks for one with a refresh narrowed to `rewards:read` and `resource=` the
partner's origin (RFC 6749 §6, RFC 8707 §2.2) — least privilege, as BCP §2.3 asks — and
sends it to the partner the way it sends bank tokens (Bearer, or DPoP with its key).
With aud_check off the AS leaves aud out, so that token would also work at the bank
(attacks.md token-wrong-audience).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from lab import context
from lab.config import LabConfig

from . import client, dpop_signer, institutions, keyring, links, redirector, session
from .errors import InstitutionUnavailableError, TokenRequestFailedError
from .institutions import Institution

SCOPE = "rewards:read"
TIMEOUT = 15


@dataclass
class Points:
    partner: str
    bank: str
    points: int | None
    note: str = ""


def _bank_link(store: Any, user_id: str, partner: Institution
               ) -> tuple[Institution, dict[str, Any]] | None:
    """An active link at a bank whose AS issues the partner's tokens, granted rewards:read."""
    for link in links.links_of(store, user_id):
        inst = institutions.get(store, link["institution_id"])
        if inst is None or inst.id == partner.id or inst.issuer != partner.issuer:
            continue
        if link["status"] == "active" and link["refresh_token"] \
                and SCOPE in str(link["scope"] or "").split():
            return inst, link
    return None


def _call(config: LabConfig, inst: Institution, url: str, token: dict[str, Any]
          ) -> requests.Response:
    http = requests.Session()
    http.verify = str(config.ca_cert_path)
    http.trust_env = False
    access_token = str(token.get("access_token"))
    if str(token.get("token_type") or "").lower() != "dpop":
        return http.get(url, headers={"Authorization": f"Bearer {access_token}"},
                        timeout=TIMEOUT)
    if client.prepare(config, inst)[1].uses_mtls:
        http.cert = keyring.client_certificate(config, inst)
    # RFC 9449 §7.1: the token is bound to the key FinLens used at this bank's AS.
    return dpop_signer.send(lambda extra: http.get(
        url, timeout=TIMEOUT, headers={"Authorization": f"DPoP {access_token}", **extra}),
        session.dpop_signer(config, inst), "GET", url, access_token=access_token)


def points(config: LabConfig, user_id: str) -> list[Points]:
    store = context.current().store
    partner = institutions.get(store, redirector.PARTNER_ID)
    if partner is None:
        return []
    found = _bank_link(store, user_id, partner)
    if found is None:
        return [Points(partner.name, "", None, "Link a bank that runs this programme, and "
                       "allow it to read your points.")]
    inst, link = found
    try:
        token = client.refresh(config, inst, link["refresh_token"], scope=SCOPE,
                               resource=partner.api_base)
    except (TokenRequestFailedError, InstitutionUnavailableError):
        return [Points(partner.name, inst.name, None, "Your bank did not issue a token for "
                       "this programme.")]
    if token.get("refresh_token") and token["refresh_token"] != link["refresh_token"]:
        links.update_refresh_token(store, link["id"], token["refresh_token"])
    try:
        response = _call(config, inst, partner.api_base.rstrip("/") + "/points", token)
        value = response.json().get("points") if response.status_code == 200 else None
    except (requests.RequestException, ValueError, AttributeError):
        value = None
    if not isinstance(value, int) or isinstance(value, bool):
        return [Points(partner.name, inst.name, None, "The programme is unavailable.")]
    return [Points(partner.name, inst.name, value)]
