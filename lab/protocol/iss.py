"""`iss` in authorization responses (RFC 9207) on Authlib's IssuerParameter, asked per request.

An enabler: it refuses nothing; the TPP's mix-up check (tpp_checks_iss) relies on it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc9207 import IssuerParameter

from lab.controls import guard

ISS = guard("iss_response_param")


class LabIssuerParameter(IssuerParameter):
    """Registered once as a server extension (after_create_authorization_response)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str | None:
        return self.issuer if ISS.on() else None

    def add_issuer_parameter(self, authorization_server: Any, response: Any) -> None:
        issuer = self.get_issuer()
        location = getattr(response, "location", None)
        if not issuer or not location:
            return
        parts = urlsplit(location)
        # The response parameters travel in the fragment for implicit/hybrid responses.
        in_fragment = any(k in ("code", "error", "state", "id_token", "access_token")
                          for k, _ in parse_qsl(parts.fragment))
        present = parse_qsl(parts.fragment if in_fragment else parts.query)
        if any(k == "iss" for k, _ in present):
            return
        if any(k == "response" for k, _ in parse_qsl(parts.query) + parse_qsl(parts.fragment)):
            return  # JARM: iss is a claim inside the signed response (MS §5.4.1)
        # RFC 9207 §2: "In authorization responses to the client, including error responses,
        # an authorization server supporting this specification MUST indicate its identity
        # by including the iss parameter in the response."
        response.location = add_params_to_uri(location, [("iss", issuer)], fragment=in_fragment)


