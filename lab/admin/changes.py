"""Validating what the admin API is asked to change, before anything changes.

A request that names one unknown control or one bad parameter value changes
nothing: every input is checked first, then the registry applies it all.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from typing import Any

from lab import clock
from lab.controls import catalog, profiles
from lab.controls.registry import Registry

_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}
MAX_NUMBER = 10 * 365 * 86400
_KIND_NAMES = {bool: "true or false", int: "a whole number ≥ 0", float: "a number ≥ 0",
               list: "a list (JSON, or comma-separated)", str: "a string"}


class AdminInputError(ValueError):
    """Bad admin input: rendered as a 4xx JSON error naming what was wrong."""

    def __init__(self, description: str, status: int = 400, error: str = "invalid_request"
                 ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.error = error


def known_control(control_id: Any) -> str:
    if not isinstance(control_id, str) or control_id not in catalog.BY_ID:
        raise AdminInputError(f"unknown control {control_id!r}", error="unknown_control")
    return control_id


def known_profile(name: Any) -> str:
    if not isinstance(name, str) or name not in profiles.names():
        raise AdminInputError(f"unknown profile {name!r} (known: {', '.join(profiles.names())})",
                              error="unknown_profile")
    return name


def switch_value(value: Any) -> bool:
    """true/false, or the CLI's words on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise AdminInputError(f"a switch is true or false (or 'on'/'off'), not {value!r}")


def coerce_param(control_id: str, name: str, value: Any) -> Any:
    """Give a parameter the type of its catalog default ('30' → 30 for an int lifetime)."""
    control = catalog.get(control_id)
    if name not in control.params:
        known = ", ".join(control.params) or "none"
        raise AdminInputError(f"{control_id} has no parameter {name!r} (parameters: {known})")
    default = control.params[name]
    wants = _KIND_NAMES.get(type(default), type(default).__name__)
    bad = AdminInputError(f"{control_id}.{name} wants {wants}, not {value!r}")
    if isinstance(default, bool):
        return switch_value(value)
    if isinstance(default, int | float):
        if isinstance(value, bool) or (isinstance(value, float) and isinstance(default, int)
                                       and not value.is_integer()):
            raise bad
        try:
            number = type(default)(value)
        except (TypeError, ValueError, OverflowError):
            raise bad from None
        # Lifetimes, leeways, windows, counts: a negative, infinite or astronomical one means
        # nothing, and now + 10**400 would break every token issued afterwards.
        if number < 0 or not number <= MAX_NUMBER:
            raise AdminInputError(f"{control_id}.{name} wants {wants} up to {MAX_NUMBER} "
                                  f"(ten years in seconds)")
        return number
    if isinstance(default, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise bad
        return _chosen(control_id, name, value)
    return value


def _chosen(control_id: str, name: str, value: str) -> str:
    """One of the parameter's choices, whose optional extra (if any) is installed."""
    choices = catalog.get(control_id).choices.get(name)
    if choices is None:
        return value
    if value not in choices:
        raise AdminInputError(f"{control_id}.{name} is one of {', '.join(choices)}, "
                              f"not {value!r}")
    module, _, extra = choices[value].partition(" ")
    try:
        found = bool(module) and importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if module and not found:
        raise AdminInputError(f"{control_id}.{name}={value} needs {module}, which is not "
                              f"installed here: install the optional extra "
                              f"(.venv/bin/pip install -e '.[{extra}]') then try again",
                              error="extra_not_installed")
    return value


@dataclass
class ControlChanges:
    switches: dict[str, bool] = field(default_factory=dict)
    params: list[tuple[str, str, Any]] = field(default_factory=list)

    def apply(self, registry: Registry) -> list[str]:
        """All or nothing, in one store transaction."""
        with registry.store.transaction():
            notes = registry.set(self.switches) if self.switches else []
            for control_id, name, value in self.params:
                registry.set_param(control_id, name, value)
                notes.append(f"{control_id}.{name} = {value!r}")
        return notes


def parse_control_changes(body: Any) -> ControlChanges:
    """{"changes": {"id": true|false}, "params": {"id": {"name": value}}} → ControlChanges."""
    if not isinstance(body, dict):
        raise AdminInputError('send a JSON object: {"changes": {"<control id>": true|false}, '
                              '"params": {"<control id>": {"<name>": value}}}')
    unknown = set(body) - {"changes", "params"}
    if unknown:
        raise AdminInputError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    switches, params = body.get("changes") or {}, body.get("params") or {}
    if not isinstance(switches, dict) or not isinstance(params, dict):
        raise AdminInputError('"changes" and "params" are JSON objects keyed by control id')
    if not switches and not params:
        raise AdminInputError('nothing to change: give "changes" and/or "params"')
    result = ControlChanges()
    for control_id, value in switches.items():
        result.switches[known_control(control_id)] = switch_value(value)
    for control_id, values in params.items():
        known_control(control_id)
        if not isinstance(values, dict) or not values:
            raise AdminInputError(f'params for {control_id} must be an object {{"name": value}}')
        for name, value in values.items():
            result.params.append((control_id, name, coerce_param(control_id, name, value)))
    return result


def parse_advance(body: Any) -> float:
    """{"seconds": 1200} or {"duration": "20m"} → seconds (forward only, finite)."""
    if not isinstance(body, dict) or ("seconds" in body) == ("duration" in body):
        raise AdminInputError('send {"seconds": <number>} or {"duration": "20m"}')
    if "duration" in body:
        if not isinstance(body["duration"], str):
            raise AdminInputError("duration is a string such as 90s, 20m, 2h or 1h30m")
        try:
            seconds = clock.parse_duration(body["duration"])
        except ValueError as error:
            raise AdminInputError(str(error)) from None
    else:
        value = body["seconds"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AdminInputError(f"seconds must be a number, not {value!r}")
        seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise AdminInputError("the lab clock only moves forward by a finite amount")
    if seconds > 10 * 365 * 86400:
        raise AdminInputError("advance the clock by at most ten years at a time")
    return seconds


def int_arg(name: str, raw: str | None, default: int, lo: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AdminInputError(f"{name} must be an integer, not {raw!r}") from None
    if not lo <= value <= hi:
        raise AdminInputError(f"{name} must be between {lo} and {hi}")
    return value
