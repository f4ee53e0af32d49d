"""Helpers for tests that drive the AS: the TPP's credentials, PKCE, a full code flow."""
