"""The Flask adapter: Authlib's AuthorizationServer with the lab's grants, endpoints and requests.

Extensions are registered once here; every control is asked per request. The
OAuth2Request is built from the public issuer URL (not the socket's), so it is
the same behind the capture proxy, and from stored parameters when the consent
page resumes a pending authorization. It carries the TLS client certificate
(Werkzeug's SSL_CLIENT_CERT) for mutual-TLS client authentication (RFC 8705).
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749 import errors as rfc6749_errors
from authlib.oauth2.rfc6749.authorization_server import _create_grant
from authlib.oauth2.rfc6749.hooks import hooked
from flask import request as flask_request
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from lab import context
from lab.config import LabConfig
from lab.protocol import (
    client_auth,
    client_secrets,
    front_channel,
    issuance,
    jarm,
    rar,
)
from lab.protocol.client_auth import PrivateKeyJWT
from lab.protocol.client_credentials import LabClientCredentialsGrant
from lab.protocol.errors import InvalidClientError, UnsupportedResponseTypeError
from lab.protocol.grants import LabAuthorizationCodeGrant, LabPasswordGrant, LabRefreshTokenGrant
from lab.protocol.iss import LabIssuerParameter
from lab.protocol.mtls_client_auth import SelfSignedTLSClientAuth, TLSClientAuth
from lab.protocol.oidc import LabOpenIDCode, Signing
from lab.protocol.par import PushedAuthorizationEndpoint
from lab.protocol.pkce import LabCodeChallenge
from lab.protocol.token_endpoints import LabIntrospectionEndpoint, LabRevocationEndpoint
from lab.protocol.tokens import AccessTokenGenerator

from . import clients
from .registration import LabClientConfigurationEndpoint, LabClientRegistrationEndpoint


class LabPayload(OAuth2Payload):
    def __init__(self, values: MultiDict[str, str]) -> None:
        self._values = values

    @property
    def data(self) -> MultiDict[str, str]:
        return self._values

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {key: self._values.getlist(key) for key in self._values}


class LabOAuth2Request(OAuth2Request):
    """An OAuth2Request over query and form MultiDicts, live or restored from the store."""

    def __init__(self, method: str, uri: str, headers: Any, args: MultiDict[str, str],
                 form: MultiDict[str, str], client_cert: str | None = None) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._args, self._form = args, form
        self.payload = LabPayload(CombinedMultiDict([args, form]))  # type: ignore[arg-type]
        self.client_cert = client_cert          # PEM of the TLS client certificate, if any
        self.lab_pushed = False                 # being validated at the PAR endpoint
        self.lab_restored = False               # resumed from a pending authorization
        self.lab_request_uri: str | None = None  # hash of the PAR request_uri it came from

    def use_pushed(self, params: list[tuple[str, str]], request_uri_hash: str) -> None:
        """RFC 9126 §4: from now on, only the pushed parameters count."""
        self._args, self._form = MultiDict(params), MultiDict()
        self.payload = LabPayload(CombinedMultiDict([self._args, self._form]))  # type: ignore[arg-type]
        self.lab_request_uri = request_uri_hash

    def use_request_object(self, params: list[tuple[str, str]]) -> None:
        """RFC 9101 §5: from now on, only the request object's parameters count."""
        self._args, self._form = MultiDict(params), MultiDict()
        self.payload = LabPayload(CombinedMultiDict([self._args, self._form]))  # type: ignore[arg-type]

    @property
    def args(self) -> MultiDict[str, str]:
        return self._args

    @property
    def form(self) -> MultiDict[str, str]:
        return self._form


class LabAuthorizationServer(AuthorizationServer):
    def __init__(self, config: LabConfig, signing: Signing) -> None:
        super().__init__()
        self.config = config
        self.signing = signing
        self.register_token_generator("default", AccessTokenGenerator(
            config.issuer, lambda: signing.key, audience=config.bank_url,
            subjects=signing.subjects))

    # --- storage -------------------------------------------------------------------------
    def query_client(self, client_id: Any) -> clients.Client | None:
        return clients.get(context.current().store, client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        issuance.save_token(context.current().store, token, request)

    # --- requests ------------------------------------------------------------------------
    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        if isinstance(request, dict):
            return self.restore_request(request)
        path = flask_request.full_path.rstrip("?")
        return LabOAuth2Request(flask_request.method, self.config.issuer + path,
                                flask_request.headers, flask_request.args, flask_request.form,
                                client_cert=flask_request.environ.get("SSL_CLIENT_CERT"))

    def restore_request(self, stored: dict[str, Any]) -> OAuth2Request:
        """A pending authorization request, as `stored_request()` saved it."""
        args: MultiDict[str, str] = MultiDict([(str(k), str(v)) for k, v in stored["params"]])
        request = LabOAuth2Request("GET", self.config.issuer + "/authorize", {}, args,
                                   MultiDict())
        request.lab_restored = True
        request.lab_request_uri = stored.get("request_uri")
        return request

    @staticmethod
    def stored_request(request: OAuth2Request) -> dict[str, Any]:
        values = request.payload.data
        return {"params": [[k, v] for k, vs in values.lists() for v in vs],
                "request_uri": getattr(request, "lab_request_uri", None)}

    def pushed_request(self, params: list[tuple[str, str]]) -> OAuth2Request:
        """A pushed request (RFC 9126 §2.1), validated as the authorization endpoint would."""
        request = LabOAuth2Request("POST", self.config.issuer + "/par", {}, MultiDict(params),
                                   MultiDict())
        request.lab_pushed = True
        return request

    # --- client authentication -------------------------------------------------------------
    def authenticate_client(self, request: Any, methods: list[str], endpoint: str = "token") -> Any:
        """The switches pick the methods (client_auth.authenticate). Authlib's messages name
        the methods and can crash on odd headers; normalise both to a constant 401."""
        try:
            client = client_auth.authenticate(super().authenticate_client, request, methods,
                                              endpoint)
        except rfc6749_errors.InvalidClientError as error:
            if isinstance(error, InvalidClientError):
                raise
            raise InvalidClientError(status_code=401) from error
        except (ValueError, UnicodeError, TypeError) as error:
            raise InvalidClientError(status_code=401) from error
        client_secrets.check_not_expired(client, getattr(request, "auth_method", None))
        return client

    def error_response_to_client(self, request: OAuth2Request, error: Any) -> Any:
        """An authorization error redirected to the client: an authorization response too,
        so the extensions that decorate responses (RFC 9207 iss) see it."""
        response = self.handle_error_response(request, error)
        jarm.wrap(self, request, response)  # JARM §2.3: errors travel inside the JWT too
        self.execute_hook("after_create_authorization_response", response)
        return response

    # --- authorization endpoint --------------------------------------------------------------
    @hooked
    def get_authorization_grant(self, request: OAuth2Request) -> Any:
        jarm.check_response_mode(self, request)  # after the hooks resolved a PAR request_uri
        for grant_cls, extensions in self._authorization_grants:
            if grant_cls.check_authorization_endpoint(request):
                if grant_cls is not LabAuthorizationCodeGrant:
                    front_channel.check_response_type(request, self.error_redirect_uri(request))
                return _create_grant(grant_cls, extensions, request, self)
        raise UnsupportedResponseTypeError(redirect_uri=self.error_redirect_uri(request))

    def error_redirect_uri(self, request: OAuth2Request) -> str | None:
        """RFC 6749 §4.1.2.1: redirect an error only to a URI validated for a known client."""
        client = self.query_client(request.payload.client_id)
        if client is None:
            return None
        uri = request.payload.redirect_uri
        if uri:
            return str(uri) if client.check_redirect_uri(uri) else None
        return client.get_default_redirect_uri()


def build_server(config: LabConfig, signing: Signing) -> LabAuthorizationServer:
    """Every extension registered at start-up (style.md §4)."""
    server = LabAuthorizationServer(config, signing)
    server.register_grant(LabAuthorizationCodeGrant, [LabCodeChallenge(), LabOpenIDCode(signing),
                                                      jarm.JarmResponse()])
    server.register_grant(LabRefreshTokenGrant)
    server.register_grant(LabPasswordGrant)
    server.register_grant(LabClientCredentialsGrant)
    server.register_grant(front_channel.LabImplicitGrant, [jarm.JarmResponse()])
    server.register_grant(front_channel.LabOpenIDImplicitGrant, [jarm.JarmResponse()])
    server.register_grant(front_channel.LabOpenIDHybridGrant, [LabCodeChallenge(),
                                                               jarm.JarmResponse()])
    issuer = config.issuer
    server.register_hook("before_get_authorization_grant", rar.resolve_then_check)
    server.register_extension(LabIssuerParameter(issuer))
    server.register_client_auth_method("private_key_jwt", PrivateKeyJWT(issuer, [
        issuer + "/token", issuer + "/par", issuer + "/revoke", issuer + "/introspect"]))
    server.register_client_auth_method("tls_client_auth", TLSClientAuth(config.ca_cert_path))
    server.register_client_auth_method("self_signed_tls_client_auth", SelfSignedTLSClientAuth())
    server.register_endpoint(PushedAuthorizationEndpoint)
    server.register_endpoint(LabRevocationEndpoint)
    server.register_endpoint(LabIntrospectionEndpoint)
    server.register_endpoint(LabClientRegistrationEndpoint)
    server.register_endpoint(LabClientConfigurationEndpoint)
    return server
