"""HonestBank's phantom-token API gateway (docs/gateway.md), in front of the bank in opaque mode.

The Flask app factory is `lab.gateway.app.create_app`; the decisions live in
lab/protocol/phantom.py and its two outgoing legs in lab/protocol/phantom_http.py.
"""
