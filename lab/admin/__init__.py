"""The admin API (controls, profiles, events, clock) mounted on the AS origin under /admin.

The Flask blueprint lives in `lab.admin.api`; this package's `__init__` imports nothing, so
its Flask-free modules (describe, changes) can be used without pulling in Flask.
"""
