"""JSON shapes of the lab's state: controls, profiles, status, clock, events.

Shared by the admin API and the CLI (which renders the same shapes, and falls
back to the catalog alone when no lab runs), so a field has one name everywhere.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from lab import clock
from lab.config import LabConfig
from lab.controls import catalog, profiles, spine
from lab.controls.events import ControlFired
from lab.controls.model import Control
from lab.controls.registry import Registry
from lab.serving import serving_text as serving_text  # moved; up and load import it here
from lab.store.base import Store

DASHBOARD_SETTING = "dashboard_url"
CAPTURE_SETTING = "capture_on"
SERVING_SETTING = "serving"
LAB_PID_SETTING = "lab_pid"


def serving_description(workers: int, threads: int, store_url: str | None) -> dict[str, Any]:
    """How the AS and the bank are served, as status shows it (no credentials from the URL)."""
    single_use = "sqlite"
    if store_url:
        from lab.store.redis_once import redacted

        single_use = redacted(store_url)
    if not workers:
        return {"server": "werkzeug (development)", "workers": 0, "threads": None,
                "single_use": single_use}
    return {"server": "gunicorn (gthread)", "workers": workers, "threads": threads,
            "single_use": single_use}


def profile_marks(control_id: str) -> dict[str, str | None]:
    """{profile: mark} for every profile; None where the control is off in it."""
    return {name: profiles.marks(name).get(control_id) for name in profiles.names()}


def control_summary(control: Control, registry: Registry | None) -> dict[str, Any]:
    """Catalog fields plus the current state (`on` is None when no lab state is at hand)."""
    return {
        "id": control.id,
        "title": control.title,
        "on": registry.is_on(control.id) if registry else None,
        "checks": control.checks,
        "enforced_at": list(control.enforced_at),
        "refusal": {"status": control.refusal.status, "error": control.refusal.error,
                    "note": control.refusal.note, "text": str(control.refusal)},
        "spec": control.spec,
        "kind": control.kind,
        "requires": list(control.requires),
        "requires_alternatives": {k: list(v) for k, v in control.requires_alternatives.items()},
        "fires_via": list(control.fires_via),
        "metadata": list(control.metadata),
        "params": registry.params(control.id) if registry else dict(control.params),
        "default_params": dict(control.params),
        "profiles": profile_marks(control.id),
    }


def control_detail(control: Control, registry: Registry | None) -> dict[str, Any]:
    """Everything about one control: the summary, teaching text, and its five places."""
    return {
        **control_summary(control, registry),
        "teaching": control.teaching,
        "off_behaviour": control.off_behaviour,
        "required_by": [c.id for c in catalog.CONTROLS if control.id in c.requires],
        **spine.places(control.id),
    }


def controls(registry: Registry | None) -> dict[str, Any]:
    return {
        "profile": registry.profile() if registry else None,
        "controls": [control_summary(c, registry) for c in catalog.CONTROLS],
    }


def profile_list(registry: Registry | None) -> dict[str, Any]:
    current = registry.profile() if registry else None
    base = current.rstrip("*") if current else None  # the overlay is listed as its own row
    return {
        "current": current,
        "modified": bool(current and current.endswith("*")),
        "profiles": [
            {"name": name, "description": profiles.DESCRIPTIONS.get(name, ""),
             "current": name == base, "controls": profiles.marks(name)}
            for name in profiles.names()
        ],
    }


def clock_state(store: Store) -> dict[str, Any]:
    now = clock.now(store)
    return {
        "offset": clock.offset(store),
        "now": now,
        "now_iso": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds"),
        "wall": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def status(config: LabConfig, store: Store, *, capture: bool = False) -> dict[str, Any]:
    """What `fapi-lab status` shows and `running.json` records."""
    registry = Registry(store)
    snap = registry.snapshot()
    return {
        "as": config.as_url,
        "bank": config.bank_url,
        "tpp": config.tpp_url,
        # The phantom-token switch (docs/gateway.md): the gateway answers only with opaque.
        "gateway": config.gateway_url if config.opaque_tokens else None,
        "access_tokens": config.access_tokens,
        "issuer": config.issuer,
        "ca_cert": str(config.ca_cert_path),
        "data_dir": str(config.data_dir),
        "admin_url": config.as_url + "/admin",
        "admin_token_path": str(config.admin_token_path),
        "profile": snap["profile"],
        "enabled_controls": snap["enabled"],
        "clock_offset": clock.offset(store),
        "capture": capture or bool(store.get_setting(CAPTURE_SETTING, False)),
        "dashboard": store.get_setting(DASHBOARD_SETTING),
        "serving": store.get_setting(SERVING_SETTING),
        # The process of `fapi-lab up`, even when a gunicorn worker answers.
        "pid": store.get_setting(LAB_PID_SETTING) or os.getpid(),
    }


def event(e: ControlFired) -> dict[str, Any]:
    return {**e.as_dict(),
            "time": dt.datetime.fromtimestamp(e.ts, dt.UTC).isoformat(timespec="seconds")}
