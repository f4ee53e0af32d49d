"""The token inspector page: pick a captured JWT or paste one; see its verdict and its claims."""

from __future__ import annotations

import pytest

from attacker import forged_jws
from dashboard import tokens


@pytest.fixture(scope="module")
def access_token(fapi2_tokens: list[tokens.Found]) -> str:
    """An access token the lab's AS issued in a FAPI 2.0 link flow."""
    return next(f.token for f in fapi2_tokens if f.where == "response access_token")


TABLES = ("header", "claims")   # the page's two tables, in page order


def table(app, name: str):  # type: ignore[no-untyped-def]
    """One of the page's tables as a DataFrame, its `field` column back from the index."""
    assert len(app.table) == len(TABLES)
    return app.table[TABLES.index(name)].value.reset_index()


def test_a_pasted_access_token_is_verified_with_the_as_key_and_its_claims_explained(
        page, access_token: str) -> None:  # type: ignore[no-untyped-def]
    app = page("tokens")
    app.text_area(key="token_paste").input(access_token).run()
    assert not app.exception, [e.value for e in app.exception]
    kid = tokens.decode(access_token).header["kid"]
    assert any("the AS's key" in s.value and kid in s.value for s in app.success)
    assert not app.error
    frame = table(app, "claims")
    assert {"cnf", "aud", "exp", "scope"} <= set(frame["field"])
    cnf = frame[frame["field"] == "cnf"].iloc[0]
    assert cnf["control"] == "dpop_bound_tokens" and "RFC 9449" in cnf["spec"]
    assert "expires in" in frame[frame["field"] == "exp"].iloc[0]["value"]
    assert "at+jwt" in set(table(app, "header")["value"])
    assert any("jkt" in m.value for m in app.markdown)


def test_the_newest_captured_tokens_are_offered_and_a_pick_is_inspected(
        page, access_token: str) -> None:  # type: ignore[no-untyped-def]
    app = page("tokens")
    options = list(app.selectbox(key="token_pick").options)
    assert any(o.endswith("token response · access token") for o in options)
    assert any(o.endswith("resource request · DPoP proof") for o in options)
    numbers = [int(o.split()[0].lstrip("#")) for o in options]
    assert numbers == sorted(numbers, reverse=True)
    proof = next(o for o in options if o.endswith("resource request · DPoP proof"))
    app.selectbox(key="token_pick").set_value(proof).run()
    assert not app.exception
    assert app.subheader[0].value == "DPoP proof"
    assert any("own jwk header" in s.value for s in app.success)
    assert any(":green[**✓ cnf.jkt**]" in m.value for m in app.markdown)


def test_a_forged_token_is_shown_red_with_the_reason(page, access_token: str) -> None:  # type: ignore[no-untyped-def]
    unsigned = forged_jws.sign_none({"typ": "at+jwt"}, tokens.decode(access_token).claims)
    app = page("tokens")
    app.text_area(key="token_paste").input(unsigned).run()
    assert not app.exception
    assert not app.success
    assert any("alg none" in e.value for e in app.error)


@pytest.mark.parametrize("garbage", ["not a token", "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.x",
                                     "a.b.c.d.e"])
def test_pasted_garbage_gives_a_readable_error_not_an_exception(page, garbage: str) -> None:  # type: ignore[no-untyped-def]
    app = page("tokens")
    app.text_area(key="token_paste").input(garbage).run()
    assert not app.exception, [e.value for e in app.exception]
    assert [e.value for e in app.error][0].startswith("Not a readable JWT")
    assert not app.table
