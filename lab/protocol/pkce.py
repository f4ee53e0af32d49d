"""PKCE (RFC 7636) on Authlib's CodeChallenge, asking pkce_required, pkce_s256_only and
pkce_downgrade_check per request.

pkce_required off means a challenge is not required; one that was sent is still verified
(RFC 7636 §4.6 is a MUST): that refusal is pkce_required's while it is on, and the
always-on pkce_verification check's while it is off, so no event names a control that was off.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN, CODE_VERIFIER_PATTERN

from lab.controls import guard
from lab.controls.guard import Baseline

from .errors import InvalidGrantError, InvalidRequestError

REQUIRED = guard("pkce_required")
S256_ONLY = guard("pkce_s256_only")
DOWNGRADE = guard("pkce_downgrade_check")
VERIFICATION = Baseline("pkce_verification")


class MissingCodeChallengeError(InvalidRequestError):
    description = "code_challenge is required."


class UnsupportedChallengeMethodError(InvalidRequestError):
    description = "code_challenge_method must be S256."


class MissingCodeVerifierError(InvalidRequestError):
    description = "code_verifier is required for this code."


class VerifierWithoutChallengeError(InvalidGrantError):
    description = "A code_verifier was sent for a code issued without code_challenge."


class ChallengeFailedError(InvalidGrantError):
    description = "The code_verifier does not match the code_challenge."


class LabCodeChallenge(CodeChallenge):
    """Registered once at start-up; every decision asks the registry at request time."""

    def __init__(self) -> None:
        super().__init__(required=False)

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        datalist = grant.request.payload.datalist
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if len(datalist.get("code_challenge", [])) > 1 or \
                len(datalist.get("code_challenge_method", [])) > 1:
            raise InvalidRequestError()
        if not challenge:
            # RFC 7636 §4.4.1: "If the server requires Proof Key for Code Exchange (PKCE) by
            # OAuth public clients and the client does not send the "code_challenge" in the
            # request, the authorization endpoint MUST return ... invalid_request"
            if REQUIRED.on():
                raise REQUIRED.refuse(MissingCodeChallengeError(), reason="no code_challenge")
            if method:
                raise InvalidRequestError()
            return
        # RFC 7636 §4.2 / FAPI2 §5.3.2.2: "shall only support S256"; a missing method means plain.
        if S256_ONLY.on() and method != "S256":
            raise S256_ONLY.refuse(UnsupportedChallengeMethodError(),
                                   reason=f"code_challenge_method={method or 'plain (default)'}")
        if method and method not in self.SUPPORTED_CODE_CHALLENGE_METHOD:
            raise UnsupportedChallengeMethodError()
        if not CODE_CHALLENGE_PATTERN.match(challenge):
            raise InvalidRequestError()

    def validate_code_verifier(self, grant: AuthorizationCodeGrant, result: Any) -> None:
        verifier = grant.request.form.get("code_verifier")
        code = grant.request.authorization_code
        challenge = code.code_challenge
        if not challenge:
            if verifier and DOWNGRADE.on():
                # BCP §2.1.1: the AS "MUST ... reject a code_verifier for a code issued
                # without a code_challenge" (downgrade attack, §4.8.2).
                raise DOWNGRADE.refuse(VerifierWithoutChallengeError(),
                                       reason="code_verifier sent for a code without challenge")
            return
        # RFC 7636 §4.6: the server verifies the verifier against the stored challenge.
        check = REQUIRED if REQUIRED.on() else VERIFICATION
        if not verifier:
            raise check.refuse(MissingCodeVerifierError(),
                               reason="code has a challenge but no code_verifier was sent")
        if not isinstance(verifier, str) or not CODE_VERIFIER_PATTERN.match(verifier):
            raise check.refuse(ChallengeFailedError(), reason="malformed code_verifier")
        method = code.code_challenge_method or self.DEFAULT_CODE_CHALLENGE_METHOD
        compare = self.CODE_CHALLENGE_METHODS.get(method)
        if compare is None or not compare(verifier, challenge):
            raise check.refuse(ChallengeFailedError(),
                               reason=f"code_verifier does not match ({method})")
