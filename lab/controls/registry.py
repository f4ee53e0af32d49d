"""The running lab's switches, kept in the store so every worker sees a change at once."""

from __future__ import annotations

from typing import Any

from lab.audit import trail
from lab.store.base import Store

from . import catalog, profiles

ENABLED_KEY = "controls_enabled"
PROFILE_KEY = "controls_profile"
PARAMS_KEY = "controls_params"
TPP_SETTINGS_KEY = "tpp_settings"


def merged_params(control_id: str, stored: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A control's parameters: the catalog's defaults, overridden by what was set."""
    merged = dict(catalog.get(control_id).params)
    merged.update(stored.get(control_id, {}))
    return merged


class Registry:
    """Read and change which controls are on. Stateless: every read asks the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def enabled(self) -> set[str]:
        value = self.store.get_setting(ENABLED_KEY)
        if value is None:
            self.apply_profile("fapi2-security")
            value = self.store.get_setting(ENABLED_KEY, [])
        return set(value)

    def is_on(self, control_id: str) -> bool:
        catalog.get(control_id)
        return control_id in self.enabled()

    def profile(self) -> str:
        """The last profile applied; '<name>*' once single switches changed it."""
        return str(self.store.get_setting(PROFILE_KEY, "fapi2-security"))

    def params(self, control_id: str) -> dict[str, Any]:
        return merged_params(control_id, self.stored_params())

    def stored_params(self) -> dict[str, dict[str, Any]]:
        """Every parameter set away from its default, by control: one read for all controls."""
        value = self.store.get_setting(PARAMS_KEY, {})
        return value if isinstance(value, dict) else {}

    def tpp_overrides(self) -> dict[str, str]:
        """Explicit TPP settings (lab/tpp/settings.py keeps them); they decide "alt" marks."""
        value = self.store.get_setting(TPP_SETTINGS_KEY, {})
        return value if isinstance(value, dict) else {}

    def apply_profile(self, name: str) -> set[str]:
        on = profiles.enabled(name, self.tpp_overrides())
        with self.store.transaction():
            self.store.set_setting(ENABLED_KEY, sorted(on))
            self.store.set_setting(PROFILE_KEY, name)
            self.store.set_setting(PARAMS_KEY, profiles.params(name))
        trail.append(self.store, "control_change", {"profile": name, "enabled": sorted(on)})
        return on

    def sync_alternatives(self) -> None:
        """After a TPP setting changed: switch the profile's "alt" controls to follow it."""
        profile = self.profile()
        if profile.endswith("*"):
            return  # hand-tuned switches stay as the user set them
        self.apply_profile(profile)

    def set(self, changes: dict[str, bool]) -> list[str]:
        """Switch controls; a control switched on brings its `requires`. Returns notes."""
        notes: list[str] = []
        with self.store.transaction():
            on = self.enabled()
            for control_id, value in changes.items():
                control = catalog.get(control_id)
                if value:
                    on.add(control_id)
                    for needed in control.missing(on):
                        on.add(needed)
                        notes.append(f"{control_id} requires {needed}: switched on too")
                else:
                    on.discard(control_id)
                    dependants = [c.id for c in catalog.CONTROLS
                                  if c.id in on and any(
                                      not c.satisfied(r, on) and control_id in
                                      (r, *c.requires_alternatives.get(r, ()))
                                      for r in c.requires)]
                    for dep in dependants:
                        notes.append(f"{dep} requires {control_id} and has no effect without it")
            self.store.set_setting(ENABLED_KEY, sorted(on))
            base = self.profile().rstrip("*")
            try:
                changed = on != profiles.enabled(base, self.tpp_overrides())
            except KeyError:
                changed = True
            self.store.set_setting(PROFILE_KEY, base + ("*" if changed else ""))
        trail.append(self.store, "control_change", {"changes": dict(changes),
                                                    "enabled": sorted(on)})
        return notes

    def set_param(self, control_id: str, name: str, value: Any) -> None:
        control = catalog.get(control_id)
        if name not in control.params:
            known = ", ".join(control.params) or "none"
            raise KeyError(f"{control_id} has no parameter {name!r} (parameters: {known})")
        with self.store.transaction():
            params = self.store.get_setting(PARAMS_KEY, {})
            params.setdefault(control_id, {})[name] = value
            self.store.set_setting(PARAMS_KEY, params)
        trail.append(self.store, "control_change", {"control": control_id, "param": name,
                                                    "value": value})

    def snapshot(self) -> dict[str, Any]:
        on = self.enabled()
        return {
            "profile": self.profile(),
            "enabled": sorted(on),
            "controls": {c.id: c.id in on for c in catalog.CONTROLS},
        }
