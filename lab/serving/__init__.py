"""Production-like serving: the AS and the bank under gunicorn, several worker processes."""
