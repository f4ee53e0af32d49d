"""FinLens pieces on their own: settings adaptation, response parsing, ID token claim rules."""

from __future__ import annotations

import pytest

from lab import clock, context
from lab.tpp import callback, id_token, settings
from lab.tpp.errors import InvalidCallbackError


@pytest.fixture
def tpp_ctx(lab):  # type: ignore[no-untyped-def]
    saved = lab.store.get_setting(settings.SETTINGS_KEY)
    with context.bound(lab.store, "tpp"):
        yield lab.store
    lab.store.set_setting(settings.SETTINGS_KEY, saved or {})


@pytest.mark.parametrize("profile, expected", [
    ("legacy", {"client_auth": "client_secret_post", "sender_constraint": "none",
                "request": "query", "pkce": "none"}),
    ("oauth2", {"client_auth": "client_secret_basic", "sender_constraint": "none",
                "request": "query", "pkce": "S256"}),
    ("fapi2-security", {"client_auth": "private_key_jwt", "sender_constraint": "dpop",
                        "request": "par", "pkce": "S256"}),
    ("fapi2-security+extras", {"client_auth": "private_key_jwt", "sender_constraint": "dpop",
                               "request": "par", "pkce": "S256"}),
    ("fapi1-advanced", {"client_auth": "private_key_jwt", "sender_constraint": "mtls",
                        "request": "jar", "pkce": "none", "response_mode": "jwt",
                        "login": "code"}),
    ("fapi2-message-signing", {"client_auth": "private_key_jwt", "sender_constraint": "dpop",
                               "request": "par+jar", "pkce": "S256", "response_mode": "jwt",
                               "login": "code"}),
])
def test_profile_defaults_follow_attacks_md(controls, tpp_ctx, profile, expected):
    """attacks.md §0's table of TPP settings per profile column."""
    controls.profile(profile)
    settings.clear(tpp_ctx)
    chosen = settings.current(tpp_ctx)
    expected = {"response_mode": "query", **expected}
    assert {k: chosen[k] for k in expected} == expected


def test_defaults_adapt_to_the_metadata_but_explicit_settings_do_not(controls, tpp_ctx):
    controls.profile("legacy")
    settings.clear(tpp_ctx)
    meta = {"token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"]}
    assert settings.effective(tpp_ctx, meta).client_auth == "client_secret_basic"
    settings.set_setting(tpp_ctx, "pkce", "plain")
    settings.set_setting(tpp_ctx, "client_auth", "client_secret_post")
    chosen = settings.effective(tpp_ctx, meta)
    assert (chosen.pkce, chosen.client_auth) == ("plain", "client_secret_post")


def test_default_auth_method_is_basic_when_the_metadata_is_silent(controls, tpp_ctx):
    controls.profile("legacy")
    settings.clear(tpp_ctx)
    assert settings.effective(tpp_ctx, {}).client_auth == "client_secret_basic"


def test_unknown_setting_and_value_are_refused(tpp_ctx):
    with pytest.raises(KeyError):
        settings.set_setting(tpp_ctx, "colour", "blue")
    with pytest.raises(ValueError):
        settings.set_setting(tpp_ctx, "pkce", "S512")


@pytest.mark.parametrize("multi", [
    {"code": ["a", "b"]},
    {"state": ["s", "s"]},
    {"code": ["x" * 9000]},
])
def test_repeated_or_oversized_response_parameters_are_malformed(multi):
    with pytest.raises(InvalidCallbackError):
        callback.parse(multi)


def test_unknown_parameters_are_ignored():
    assert callback.parse({"code": ["c"], "utm_source": ["x", "y"]}) == {"code": "c"}


def _claims(**overrides):  # type: ignore[no-untyped-def]
    now = clock.now()
    base = {"iss": "https://as", "aud": "tpp", "sub": "alice", "exp": now + 300, "iat": now}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("overrides, problem", [
    ({}, None),
    ({"aud": ["tpp", "other"], "azp": "tpp"}, None),
    ({"iss": "https://evil"}, "iss"),
    ({"aud": "other-client"}, "aud"),
    ({"aud": ["tpp", "other"]}, "azp"),
    ({"azp": "other-client"}, "azp"),
    ({"exp": 1_000}, "exp"),
    ({"iat": 1_000}, "iat"),
    ({"iat": None}, "iat"),
    ({"sub": None}, "sub"),
])
def test_oidc_claim_rules(overrides, problem):
    found = id_token._claim_problem(_claims(**overrides), "https://as", "tpp")
    assert (found is None) if problem is None else (problem in (found or ""))
