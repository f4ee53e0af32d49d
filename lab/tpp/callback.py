"""The redirect endpoint's checks (RFC 6749 §4.1.2, §10.12; OIDC §3.1.3.7; FAPI2 §5.3.3.2).

One pipeline: parse, bind to a pending flow (state), refuse front-channel tokens,
redeem the code, validate the ID token and its nonce, compare granted with
requested scope. No Flask: the view hands in the parameters and the session's
pending flows and gets back what to store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lab import clock, context
from lab.config import LabConfig
from lab.controls import guard

from . import client, id_token, institutions, jarm, links
from .client import PendingFlow
from .errors import (
    AuthorizationFailedError,
    FrontChannelTokenError,
    InstitutionUnavailableError,
    InvalidCallbackError,
    MixUpDetectedError,
    ScopeMismatchError,
    StateMismatchError,
    UnknownInstitutionError,
)
from .institutions import Institution

CHECKS_STATE = guard("tpp_checks_state")
CHECKS_ISS = guard("tpp_checks_iss")
CODE_ONLY = guard("response_type_code_only")
GRANTED_SCOPE = guard("tpp_checks_granted_scope")

PARAMS = ("code", "state", "iss", "error", "error_description", "error_uri", "access_token",
          "id_token", "token_type", "expires_in", "scope", "refresh_token", "session_state")
FRONT_CHANNEL_TOKENS = ("access_token", "id_token", "refresh_token")
FLOW_LIFETIME = 600.0
MAX_VALUE = 8192


@dataclass
class Outcome:
    """A checked authorization response: whose tokens, from which institution."""

    institution: Institution
    token: dict[str, Any]
    claims: dict[str, Any]
    subject: str
    flow: PendingFlow | None = None    # the request it answers (a link, or a payment)


def parse(multi: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."

    A JARM response (`response`, JARM §2.3) brings its parameters inside the JWT: those are
    the response, whatever else the URL says (jarm.check verifies them when jarm is on)."""
    responses = list(multi.get("response", ()))
    if responses:
        if len(responses) > 1 or not isinstance(responses[0], str) \
                or len(responses[0]) > jarm.MAX_VALUE:
            raise jarm.too_large()
        return jarm.unpack(responses[0])
    params: dict[str, str] = {}
    for name in PARAMS:
        values = list(multi.get(name, ()))
        if len(values) > 1:
            raise InvalidCallbackError()
        if values:
            if not isinstance(values[0], str) or len(values[0]) > MAX_VALUE:
                raise InvalidCallbackError()
            params[name] = values[0]
    return params


def pending_flows(raw: object) -> list[PendingFlow]:
    """The session's flows that are still fresh (by the lab clock)."""
    now = clock.now()
    flows = [PendingFlow.from_dict(item) for item in raw] if isinstance(raw, list) else []
    return [f for f in flows if f and now - float(f.created_at) < FLOW_LIFETIME]


def bind_flow(state: str | None, flows: list[PendingFlow]) -> PendingFlow | None:
    """The pending flow this response answers; with tpp_checks_state off, any flow or none."""
    match = next((f for f in flows if state and f.state == state), None)
    if not CHECKS_STATE.on():
        # Weak mode: the TPP uses whatever flow the session has (the latest), or none at
        # all, and forwards the code without a verifier (attacks.md §0, TPP flow binding).
        return match or (flows[-1] if flows else None)
    # RFC 6749 §10.12: "The client MUST implement CSRF protection for its redirection URI ...
    # binding the value of the state parameter to the user-agent's authenticated state".
    if not state:
        raise CHECKS_STATE.refuse(StateMismatchError(), reason="no state in the response")
    if match is None:
        reason = "no flow pending in this session" if not flows else \
            "state matches no flow pending in this session"
        raise CHECKS_STATE.refuse(StateMismatchError(), reason=reason)
    # BCP §4.7.1: state must be "one-time use".
    if not links.spend_state(context.current().store, state):
        raise CHECKS_STATE.refuse(StateMismatchError(), reason="state already used")
    return match


def institution_for(flow: PendingFlow | None, params: dict[str, str]) -> Institution:
    """The institution the response is from: the flow's, else the one its iss names."""
    store = context.current().store
    inst = institutions.get(store, flow.institution_id) if flow else \
        institutions.by_issuer(store, params.get("iss")) or institutions.default(store)
    if inst is None:
        raise UnknownInstitutionError()
    return inst


def check_iss(config: LabConfig, inst: Institution, flow: PendingFlow | None,
              params: dict[str, str]) -> None:
    """RFC 9207 §2.4: compare the response's iss with the issuer the request was sent to."""
    if not CHECKS_ISS.on():
        return  # weak mode: the TPP trusts that the bank it asked is the one that answered
    expected = flow.issuer if flow else inst.issuer
    iss = params.get("iss")
    if iss is None:
        # RFC 9207 §2.4: "Clients MUST reject authorization responses without the iss
        # parameter from authorization servers that do support the parameter."
        try:
            meta = institutions.metadata(inst, str(config.ca_cert_path))
        except InstitutionUnavailableError:
            meta = {}
        if meta.get("authorization_response_iss_parameter_supported") is True:
            raise CHECKS_ISS.refuse(MixUpDetectedError(), reason=f"no iss in the response; "
                                    f"{expected} advertises it")
        return
    # RFC 9207 §2.4: "This comparison MUST use simple string comparison ... If the value does
    # not match the expected issuer identifier, clients MUST reject the authorization
    # response and MUST NOT proceed with the authorization grant."
    if iss != expected:
        raise CHECKS_ISS.refuse(MixUpDetectedError(),
                                reason=f"iss {iss[:200]!r}, but the flow went to {expected}")


def _front_channel_token(params: dict[str, str]) -> dict[str, Any]:
    """Legacy: tokens straight from the authorization response (implicit / hybrid)."""
    token: dict[str, Any] = {k: params[k] for k in ("access_token", "id_token", "token_type",
                                                     "expires_in", "scope") if k in params}
    return token


def _check_scope(config: LabConfig, inst: Institution, token: dict[str, Any],
                 requested: str) -> None:
    """RFC 6749 §5.1: scope is "OPTIONAL, if identical to the scope requested by the client;
    otherwise, REQUIRED". F1P1 §5.2.3: the client must not act on more than it asked for."""
    granted = set(str(token.get("scope") or requested).split())
    extra = granted - set(requested.split())
    if not extra or not GRANTED_SCOPE.on():
        return
    client.revoke(config, inst, token.get("refresh_token"), "refresh_token")
    client.revoke(config, inst, token.get("access_token"), "access_token")
    raise GRANTED_SCOPE.refuse(ScopeMismatchError(),
                               reason=f"granted but not requested: {' '.join(sorted(extra))}")


def subject_of(claims: dict[str, Any], token: dict[str, Any]) -> str:
    """Who the link is for: the ID token's sub, else the access token's (read, not trusted)."""
    sub = claims.get("sub") or id_token.unverified_claims(token.get("access_token")).get("sub")
    return sub[:128] if isinstance(sub, str) else ""


def handle(config: LabConfig, multi: Mapping[str, Iterable[str]], session_flows: object,
           save_flows: Callable[[list[dict[str, Any]]], None]) -> Outcome:
    """Check one authorization response and redeem it. Raises a TppError on refusal.

    `save_flows` gets the session's flows minus the one this response answers, before any
    later check can refuse: a flow is over once a response for it arrived.
    """
    params = parse(multi)
    flows = pending_flows(session_flows)
    flow = bind_flow(params.get("state"), flows)
    save_flows([f.as_dict() for f in flows if f is not flow])
    inst = institution_for(flow, params)
    jarm.check(config, inst, flow, params)
    check_iss(config, inst, flow, params)

    if "error" in params:
        raise AuthorizationFailedError(params["error"])
    carried = [k for k in FRONT_CHANNEL_TOKENS if k in params]
    # FAPI2 §5.3.2.2 / BCP §2.1.2: tokens come only from the token endpoint.
    if carried and CODE_ONLY.on():
        raise CODE_ONLY.refuse(FrontChannelTokenError(),
                               reason=f"authorization response carries {', '.join(carried)}")
    if params.get("code"):
        token = client.redeem_code(config, inst, params["code"],
                                   flow.code_verifier if flow else None)
    elif "access_token" in params:
        token = _front_channel_token(params)
    else:
        raise InvalidCallbackError()

    ca = institutions.ca_for(str(config.ca_cert_path), inst)
    # OIDC §3.1.3.7 step 2: the issuer "typically obtained during Discovery" — the flow's
    # (the directory's, unless tpp_checks_iss is off and the discovery document lied).
    claims = id_token.validate(
        token.get("id_token"), issuer=flow.issuer if flow else inst.issuer,
        client_id=client.credentials(config, inst).client_id,
        keys=lambda: institutions.jwks(institutions.metadata(inst, ca), ca))
    id_token.check_nonce(claims, flow.nonce if flow else None)
    _check_scope(config, inst, token, flow.scope if flow else client.REQUESTED_SCOPE)
    return Outcome(inst, token, claims, subject_of(claims, token), flow)
