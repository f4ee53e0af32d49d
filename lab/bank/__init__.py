"""HonestBank: the open-banking API (resource server) and the customer's "connected apps" page.

The Flask app factory is `lab.bank.app.create_app`; importing this package imports no Flask.
"""
