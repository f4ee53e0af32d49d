"""Controls of JWT-secured authorization requests (JAR, RFC 9101): signed request objects.

Ids, refusals, specs and profile marks from ../shared/attacks.md §2.2 (jar_required,
request_object_lifetime; F1 ✔, MS ✔, others –) and §2.8 (metadata, `requires`). The
profiles that mark them (fapi1-advanced, fapi2-message-signing) are not built yet, so both
are off in every profile and appear as single-control matrix columns.
"""

from __future__ import annotations

from .model import Control, Edit, Refusal

R = Refusal

JAR_CONTROLS: tuple[Control, ...] = (
    Control(
        "jar_required", "Signed request object",
        "Authorization requests (by value, or pushed to PAR) must carry a request object "
        "signed by a key registered for the client, with iss = client_id and aud = the "
        "issuer; only its parameters are used, and a query parameter contradicting it is "
        "refused.",
        ("AS",), R(400, "invalid_request_object"),
        "RFC 9101 §5, §6.2–6.3, §10.5; F1P2 §5.2.2; MS §5.3.1",
        "Parameters in the URL can be changed by anything between the client and the bank: a "
        "browser extension, a proxy, a crafted link. A request object signed with the "
        "client's own key lets the bank check that the client asked for exactly this "
        "redirect_uri, scope and state, and that nobody made the request up.",
        # RFC 9101 §10.5: "require_signed_request_object".
        metadata={"require_signed_request_object": True,
                  "request_object_signing_alg_values_supported": Edit(remove=("none",))},
        off_behaviour="Plain query requests are served; a request object is optional and, with "
                      "alg_allow_list off too, an unsigned one (alg none) is taken at its word.",
    ),
    Control(
        "request_object_lifetime", "Request object lifetime",
        "A request object must carry exp and nbf and aud = the issuer; nbf may be at most 60 "
        "min old and exp at most 60 min after nbf (params max_age, max_lifetime, seconds).",
        ("AS",), R(400, "invalid_request_object"),
        "F1P2 §5.2.2; MS §5.3.1; RFC 7519 §4.1.3–4.1.5",
        "A signed request object is a bearer artefact: whoever copies it from a log or a "
        "browser history can open the same authorization request again later, with the "
        "victim's state and nonce. A short, bounded life keeps that copy from being useful.",
        requires=("jar_required",),
        params={"max_age": 3600, "max_lifetime": 3600, "leeway": 10},
        off_behaviour="exp, nbf and aud are not looked at: a request object is good forever.",
    ),
)
