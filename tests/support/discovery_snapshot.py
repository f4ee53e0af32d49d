"""Discovery documents for every profile and switch state that changes them, computed in-process.

Run as a script to (re)write tests/data/discovery_snapshot.json; the test
tests/test_authserver_discovery_snapshot.py compares today's documents with it, so a
refactoring of how discovery is built cannot change what a client reads.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent.parent / "data" / "discovery_snapshot.json"
ISSUER = "https://127.0.0.1:8443"
TPP_ALTERNATIVES: tuple[dict[str, str], ...] = (
    {}, {"client_auth": "tls_client_auth"}, {"sender_constraint": "mtls"},
    {"client_auth": "tls_client_auth", "sender_constraint": "mtls"},
)


def _build(store: Any) -> dict[str, Any]:
    from lab import context
    from lab.protocol import metadata

    with context.bound(store, "as"):
        return metadata.build(ISSUER)


def scenarios() -> dict[str, dict[str, Any]]:
    """name → discovery document; every profile with every TPP alternative, each control alone,
    each control taken out of fapi2-security, a narrowed allow-list and a partner resource."""
    import lab.authserver.server  # noqa: F401  (every module that shapes discovery)
    from lab.controls import catalog, profiles
    from lab.controls.registry import TPP_SETTINGS_KEY, Registry
    from lab.protocol import resources
    from lab.store.sqlite import SQLiteStore

    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "lab.db")
        registry = Registry(store)
        for profile in profiles.names():
            for alt in TPP_ALTERNATIVES:
                store.set_setting(TPP_SETTINGS_KEY, alt)
                registry.apply_profile(profile)
                suffix = "".join(f" {k}={v}" for k, v in alt.items())
                out[f"profile {profile}{suffix}"] = _build(store)
        store.set_setting(TPP_SETTINGS_KEY, {})
        for control in catalog.CONTROLS:
            registry.apply_profile("legacy")
            registry.set({control.id: True})
            out[f"only {control.id}"] = _build(store)
            registry.apply_profile("fapi2-security+extras")
            registry.set({control.id: False})
            out[f"all but {control.id}"] = _build(store)
        registry.apply_profile("fapi2-security")
        registry.set_param("alg_allow_list", "algorithms", ["ES256", "RS256", "HS256"])
        out["fapi2-security algorithms ES256 RS256 HS256"] = _build(store)
        registry.apply_profile("oauth2")
        resources.register(store, "https://127.0.0.1:9999", name="Partner", scope="points:read")
        out["oauth2 with a partner resource"] = _build(store)
        store.close()
    return out


def main() -> int:
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(json.dumps(scenarios(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
