"""HonestBank's authorization server (OpenID Provider) on Authlib 1.9 and Flask.

The Flask app factory is `lab.authserver.app.create_app`; importing this package imports no
Flask.
"""
