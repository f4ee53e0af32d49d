from tests.support.oauth import *

def test_smoke(lab, http, controls):
    r = http.get(lab.config.as_url + "/.well-known/openid-configuration")
    print(r.status_code, r.json()["code_challenge_methods_supported"])
    body = tokens(http, lab)
    print(body.keys())
    print(body["scope"])
