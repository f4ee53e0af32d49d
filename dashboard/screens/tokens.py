"""Token inspector: any JWT the lab captured, or one pasted — decoded, verified, explained."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import claims, data, shell, token_keys, tokens


def show_table(title: str, rows: list[dict[str, str]]) -> None:
    st.markdown(f"#### {title}")
    if rows:   # a table (not a dataframe): the teaching text wraps instead of being cut
        st.table(pd.DataFrame(rows).set_index("field"))
    else:
        st.caption("(empty)")


lab = shell.require_lab()
st.title("Token inspector")
st.caption("Access tokens, ID tokens, DPoP proofs, client assertions and request objects, as "
           "they crossed the wire. Each is verified against the key it must be signed with — "
           "the AS's published keys, the client's registered keys, or a DPoP proof's own key — "
           "and each claim says what it protects against.")

try:
    found = tokens.recent(lab, cache_key=str(lab.config.data_dir))
except data.LabUnavailableError as error:
    shell.show_unavailable(error)
labels: dict[str, tokens.Found] = {}
for item in found:
    label = item.label(tokens.classify_found(item, lab.config.issuer))
    labels[label if label not in labels else f"{label} ({item.where})"] = item

picked = st.selectbox("A JWT from the recent captures (newest first)", list(labels),
                      key="token_pick", placeholder="No JWT captured yet")
pasted = st.text_area("…or paste one (a pasted token is inspected instead of the pick)",
                      key="token_paste", height=110,
                      placeholder="eyJ… (an Authorization header value works too)")
source = pasted if pasted.strip() else labels.get(picked or "")
if source is None:
    st.info("No JWT captured yet. Link an account in FinLens or run an attack, then come back; "
            "or paste a token above.")
    st.stop()

now, clock_words = token_keys.lab_now(lab.clock)
ring = token_keys.LabKeys(lab.config.issuer, str(lab.config.ca_cert_path), lab.metadata,
                          token_keys.store_client_lookup(lab.config))
seen = tokens.inspect(source, ring, now)

if seen.decoded is None:
    st.error(seen.error or "Not a JWT.")
    st.stop()
st.subheader(seen.kind_label[:1].upper() + seen.kind_label[1:])
if seen.found is not None:
    st.caption(f"Capture #{seen.found.capture_id}: {seen.found.method} {seen.found.url} — "
               f"{seen.found.where}")
if seen.error:
    st.warning(seen.error)
if seen.verdict is not None:
    (st.success if seen.verdict.ok else st.error)(seen.verdict.text)
if seen.expired:
    st.warning(f"Expired: {seen.times.get('exp', '')}, by the {clock_words}.")
else:
    st.caption(f"Times read against the {clock_words}.")
if seen.jkt:
    what = "thumbprint of its jwk (RFC 7638): an access token bound to this key carries it as " \
        "cnf.jkt" if seen.kind == "dpop_proof" else "cnf.jkt: the thumbprint of the DPoP key " \
        "this token is bound to (RFC 9449 §6.1)"
    st.markdown(f"**jkt** `{seen.jkt}` — {what}")
for check in seen.checks:
    mark = ":green[**✓ " if check.ok else ":red[**✗ "
    st.markdown(f"{mark}{check.name}**]: {check.text}")

show_table("Header", claims.header_rows(seen.decoded.header, seen.kind))
show_table("Claims", claims.claim_rows(seen.decoded.claims, seen.kind, seen.times))
with st.expander("The token as sent"):
    st.code(seen.decoded.token, language=None, wrap_lines=True)
