""""Sign in with your bank": a person logs in to FinLens with an ID token (OIDC Core §3).

The `login` setting (attacks.md §0) chooses the flow. `code` (OIDC §3.1): the
authorization response carries a code, redeemed with FinLens's usual client (PAR,
PKCE, private_key_jwt, DPoP, as the link flow: lab/tpp/client.py), and the ID token
comes from the token endpoint. `hybrid` (OIDC §3.3, response_type=code id_token, the
legacy default): the ID token arrives in the front channel and is the sign-in; its
c_hash binds it to the code beside it, which sign-in never needs to redeem.

The checks are the TPP controls of the link callback, through the same functions:
state (tpp_checks_state), iss (tpp_checks_iss), front-channel tokens
(response_type_code_only), signature, iss, aud, azp, exp, iat, c_hash and at_hash
(tpp_id_token_validation), nonce (tpp_checks_nonce). The account is keyed by issuer
and sub (lab/tpp/identities.py). No Flask here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lab import context
from lab.config import LabConfig
from lab.controls import guard

from . import callback, client, id_token, identities, institutions, jarm, session
from .client import PendingFlow
from .errors import (
    AuthorizationFailedError,
    FrontChannelTokenError,
    InvalidCallbackError,
    NoSubjectError,
)
from .identities import Identity
from .institutions import Institution

CODE_ONLY = guard("response_type_code_only")


def start(config: LabConfig, inst: Institution) -> tuple[str, PendingFlow]:
    """The authentication request (OIDC §3.1.2.1 / §3.3.2.1) and the flow to keep."""
    return client.start_flow(config, inst, signin=True)


def _claims(config: LabConfig, inst: Institution, token: object) -> dict[str, Any]:
    """OIDC §3.1.3.7: the ID token, validated against the issuer FinLens asked."""
    ca = institutions.ca_for(str(config.ca_cert_path), inst)
    return id_token.validate(
        token, issuer=inst.issuer, client_id=client.credentials(config, inst).client_id,
        keys=lambda: institutions.jwks(institutions.metadata(inst, ca), ca))


def _front_channel(config: LabConfig, inst: Institution,
                   params: dict[str, str]) -> dict[str, Any]:
    """Hybrid: the front-channel ID token is the sign-in (OIDC §3.3.2.12)."""
    claims = _claims(config, inst, params.get("id_token"))
    id_token.check_hashes(claims, params.get("id_token"), code=params.get("code"),
                          access_token=params.get("access_token"), front_channel=True)
    return claims


def _back_channel(config: LabConfig, inst: Institution, flow: PendingFlow | None,
                  code: str) -> dict[str, Any]:
    """Code: redeem at the token endpoint (OIDC §3.1.3.1), then validate its ID token."""
    token = client.redeem_code(config, inst, code, flow.code_verifier if flow else None,
                               redirect_uri=session.signin_redirect_uri(config))
    claims = _claims(config, inst, token.get("id_token"))
    id_token.check_hashes(claims, token.get("id_token"), code=None,
                          access_token=token.get("access_token"), front_channel=False)
    # Sign-in asked for openid only: the access token has no use here (RFC 7009 §2.1).
    client.revoke(config, inst, token.get("refresh_token"), "refresh_token")
    return claims


def handle(config: LabConfig, multi: Mapping[str, Iterable[str]], session_flows: object,
           save_flows: Callable[[list[dict[str, Any]]], None]) -> Identity:
    """Check one authentication response and return who signed in. Raises a TppError.

    `save_flows` gets the session's sign-in flows minus the one this response answers,
    before any later check can refuse (as for the link callback).
    """
    params = callback.parse(multi)
    flows = callback.pending_flows(session_flows)
    flow = callback.bind_flow(params.get("state"), flows)
    save_flows([f.as_dict() for f in flows if f is not flow])
    inst = callback.institution_for(flow, params)
    jarm.check(config, inst, flow, params)
    callback.check_iss(config, inst, flow, params)
    if "error" in params:
        raise AuthorizationFailedError(params["error"])

    carried = [k for k in callback.FRONT_CHANNEL_TOKENS if k in params]
    # FAPI2 §5.3.2.2 / BCP §2.1.2: tokens (the ID token too) come only from the token
    # endpoint, so an ID token posted to the callback is refused whatever it says.
    if carried and CODE_ONLY.on():
        raise CODE_ONLY.refuse(FrontChannelTokenError(),
                               reason=f"authentication response carries {', '.join(carried)}")
    if "id_token" in params:
        claims = _front_channel(config, inst, params)
    elif params.get("code"):
        claims = _back_channel(config, inst, flow, params["code"])
    else:
        raise InvalidCallbackError()
    # OIDC §3.1.3.7 step 11 (§3.3.2.11 for the hybrid flow).
    id_token.check_nonce(claims, flow.nonce if flow else None)

    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > identities.MAX_SUBJECT:
        raise NoSubjectError()
    return identities.sign_in(context.current().store, issuer=inst.issuer, subject=subject,
                              institution_id=inst.id)
