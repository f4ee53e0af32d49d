"""Every profile has exactly the marks of attacks.md §2's columns (L O F1 F2 MS).

The table below is §2's five profile columns, copied row by row from attacks.md (the
project's docs/attacks.md carries the attack catalog only). A control not built yet keeps its
row: profiles.marks() skips ids that are not in the catalog, so the branch that adds the
control only adds the catalog entry. The last three rows are the lab's own additions to §2
(issue 17's conformance negatives and pairwise subjects), with the marks their specs give.
"""

from __future__ import annotations

import pytest

from lab.controls import catalog, profiles

COLUMNS = {"legacy": 0, "oauth2": 1, "fapi1-advanced": 2, "fapi2-security": 3,
           "fapi2-message-signing": 4}

# id, then the marks of L O F1 F2 MS ("-" off).
ATTACKS_MD_SECTION_2 = """
pkce_required                    –   ◐   –   ✔   ✔
pkce_s256_only                   –   ◐   –   ✔   ✔
pkce_downgrade_check             –   ✔   –   ✔   ✔
par_required                     –   –   –   ✔   ✔
request_uri_single_use           –   –   –   ◐   ◐
jar_required                     –   –   ✔   –   ✔
request_object_lifetime          –   –   ✔   –   ✔
exact_redirect_uri               –   ✔   ✔   ✔   ✔
response_type_code_only          –   ◐   ◐   ✔   ✔
iss_response_param               –   –   –   ✔   ✔
jarm                             –   –   ✔   –   ✔
ropc_disabled                    –   ✔   ◐   ✔   ✔
code_single_use                  –   ✔   ✔   ✔   ✔
code_short_lifetime              –   –   –   ✔   ✔
code_client_binding              –   ✔   ✔   ✔   ✔
private_key_jwt_only             –   –   ✔   ✔   ✔
mtls_client_auth                 –   –   alt alt alt
client_assertion_jti_single_use  –   –   ✔   ✔   ✔
client_assertion_aud_check       –   –   ✔   ✔   ✔
tpp_assertion_aud_issuer         –   –   –   ✔   ✔
client_secret_rotation           –   –   –   –   –
refresh_token_client_binding     –   ✔   ✔   ✔   ✔
refresh_rotation_reuse_detection –   ◐   –   –   –
refresh_scope_check              –   ✔   ✔   ✔   ✔
revocation_cascade               –   ◐   ◐   ◐   ◐
short_access_token_lifetime      –   –   ◐   ◐   ◐
token_expiry_check               –   ✔   ✔   ✔   ✔
at_revocation_check              –   –   ✔   ✔   ✔
aud_check                        –   ✔   ✔   ✔   ✔
scope_check                      –   ✔   ✔   ✔   ✔
consent_per_account              –   ✔   ✔   ✔   ✔
alg_allow_list                   –   ✔   ✔   ✔   ✔
trusted_keys_only                –   ✔   ✔   ✔   ✔
as_key_rotation                  –   –   –   –   –
dpop_bound_tokens                –   –   –   ✔   ✔
dpop_proof_binding               –   –   –   ✔   ✔
dpop_iat_window                  –   –   –   ✔   ✔
dpop_jti_replay                  –   –   –   –   –
dpop_nonce                       –   –   –   –   –
mtls_bound_tokens                –   –   ✔   alt alt
tpp_per_as_keys                  –   –   –   –   –
http_message_signing             –   –   –   –   ◐
dpop_jkt_binding                 –   –   –   ✔   ✔
client_assertion_time_window     –   –   ✔   ✔   ✔
pairwise_subjects                –   –   –   –   –
tpp_checks_state                 –   ✔   ✔   –   –
tpp_checks_nonce                 –   ✔   ✔   –   –
tpp_id_token_validation          –   ✔   ✔   ✔   ✔
tpp_checks_iss                   –   –   ✔   ✔   ✔
tpp_checks_granted_scope         –   ◐   –   –   –
tpp_no_open_redirect             –   ✔   ◐   ✔   ✔
tpp_referrer_policy              –   ◐   ◐   ◐   ◐
mfa_required                     –   ◐   ◐   ◐   ◐
login_throttling                 –   –   –   –   –
risk_based_auth                  –   –   –   –   –
step_up_for_payments             –   –   –   –   –
payment_consent_binding          –   –   –   –   –
token_usage_monitoring           –   –   –   –   –
audit_chain                      –   –   –   –   –
"""


def _column(profile: str) -> dict[str, str]:
    marks = {}
    for line in ATTACKS_MD_SECTION_2.strip().splitlines():
        control_id, *cells = line.split()
        mark = cells[COLUMNS[profile]]
        if mark != "–" and control_id in catalog.BY_ID:
            marks[control_id] = mark
    return marks


@pytest.mark.parametrize("profile", list(COLUMNS))
def test_profile_has_exactly_the_marks_of_its_column(profile: str) -> None:
    assert profiles.marks(profile) == _column(profile)


def test_every_catalog_control_has_a_row() -> None:
    rows = {line.split()[0] for line in ATTACKS_MD_SECTION_2.strip().splitlines()}
    assert {c.id for c in catalog.CONTROLS} - rows <= set(profiles.EXTRAS + profiles.ADAPTIVE)


def test_a_mark_for_a_control_not_built_yet_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(profiles.PROFILES, "fapi2-message-signing",
                        {**profiles.FAPI2_MESSAGE_SIGNING, "not_built_yet": "◐"})
    assert "not_built_yet" not in profiles.marks("fapi2-message-signing")
    assert "not_built_yet" not in profiles.enabled("fapi2-message-signing")


@pytest.mark.parametrize("profile, algorithms", [
    ("oauth2", ["RS256", "PS256", "ES256"]),
    ("fapi1-advanced", ["PS256", "ES256"]),              # F1P2 §8.6
    ("fapi2-security", ["PS256", "ES256", "EdDSA"]),     # FAPI2 §5.4.1
    ("fapi2-message-signing", ["PS256", "ES256", "EdDSA"]),
])
def test_alg_allow_list_per_profile(profile: str, algorithms: list[str]) -> None:
    assert profiles.params(profile)["alg_allow_list"] == {"algorithms": algorithms}


@pytest.mark.parametrize("profile, consume_at", [
    ("fapi2-security", "authorization"),          # FAPI2 §5.3.2.2 note 3
    ("fapi2-message-signing", "authorization"),
    ("fapi2-security+extras", "authorization"),
])
def test_request_uri_is_consumed_at_authorization_in_fapi2(profile: str, consume_at: str
                                                           ) -> None:
    assert profiles.params(profile)["request_uri_single_use"] == {"consume_at": consume_at}
    # the stricter first-load consumption stays the catalog default a lesson switches on
    assert catalog.get("request_uri_single_use").params["consume_at"] == "load"


@pytest.mark.parametrize("profile, base", list(profiles.BUILDS_ON.items()))
def test_a_profile_that_builds_on_another_keeps_its_marks(profile: str, base: str) -> None:
    assert profiles.marks(base).items() <= profiles.marks(profile).items()
