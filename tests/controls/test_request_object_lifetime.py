"""request_object_lifetime: exp and nbf present, aud = the issuer, nbf at most 60 min old,
exp at most 60 min after nbf (F1P2 §5.2.2; MS §5.3.1). It requires jar_required."""

from __future__ import annotations

import pytest

from lab import clock
from tests.support import jar
from tests.support.oauth import victim

HOUR = 3600


def _stale(lab):
    """A request object signed two hours ago (lab clock), alive for 5 minutes then."""
    return jar.signed(lab, jar.body(lab, age=2 * HOUR))


BAD = {
    "two hours old": dict(age=2 * HOUR),
    "lives two hours": dict(lifetime=2 * HOUR),
    "no exp": dict(exp=None),
    "no nbf": dict(nbf=None),
    "nbf in the future": dict(age=-HOUR),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_out_of_bounds_request_object_is_served_with_jar_alone(lab, controls, case, fired):
    controls.only("jar_required")
    result = victim(lab).authorize(jar.url(lab, jar.signed(lab, jar.body(lab, **BAD[case]))))
    assert result.code, case
    assert fired(result.response) == []


@pytest.mark.parametrize("case", sorted(BAD))
def test_out_of_bounds_request_object_is_refused_when_on(lab, controls, http, case, fired):
    controls.only("jar_required", "request_object_lifetime")
    r = http.get(jar.url(lab, jar.signed(lab, jar.body(lab, **BAD[case]))),
                 allow_redirects=False)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_object", case
    assert fired(r) == ["request_object_lifetime"]


def test_replayed_two_hours_later_on_the_lab_clock(lab, controls, http, fired):
    controls.only("jar_required", "request_object_lifetime")
    captured = jar.signed(lab, jar.body(lab))
    assert victim(lab).authorize(jar.url(lab, captured)).code
    clock.advance(lab.store, 2 * HOUR)
    r = http.get(jar.url(lab, captured), allow_redirects=False)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request_object"
    assert fired(r) == ["request_object_lifetime"]


def test_limits_are_parameters(lab, controls, http, fired):
    controls.only("jar_required", "request_object_lifetime")
    controls.param("request_object_lifetime", "max_lifetime", 600)
    r = http.get(jar.url(lab, jar.signed(lab, jar.body(lab, lifetime=900))),
                 allow_redirects=False)
    assert r.status_code == 400 and fired(r) == ["request_object_lifetime"]
    assert victim(lab).authorize(jar.url(lab, jar.signed(lab, jar.body(lab, lifetime=600)))).code
