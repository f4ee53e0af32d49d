"""Scenarios: a story, a starting configuration, and attacks with their expected outcomes.

    title: Loose redirect matching hands out codes
    story: |
      ...
    profile: legacy
    controls: {exact_redirect_uri: on}       # optional, over the profile
    tpp: {sender_constraint: dpop}           # optional TPP settings
    steps:
      - attack: redirect-uri-manipulation
        expect: succeeded
      - set: {exact_redirect_uri: on}        # cumulative: stays on for later steps
        attack: redirect-uri-manipulation
        expect: blocked
        blocked_by: [exact_redirect_uri]     # each must be among the fired controls

A bad file is refused before anything runs, naming the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.controls import catalog as controls_catalog
from lab.controls import profiles
from lab.tpp import settings as tpp_settings

from . import lookup

OUTCOMES = ("succeeded", "blocked", "victim-failed")
MAX_BYTES = 256 * 1024   # the workshop files are 1-3 KiB
TOP_KEYS = {"title": True, "story": True, "profile": True, "controls": False, "tpp": False,
            "steps": True, "order": False, "brief": False, "hint": False, "lesson": False}
STEP_KEYS = {"attack": True, "expect": True, "set": False, "tpp": False, "blocked_by": False,
             "note": False}


class ScenarioError(Exception):
    """A scenario file that cannot be run: says where and what."""


@dataclass
class Step:
    attack: str
    expect: str
    set: dict[str, bool] = field(default_factory=dict)
    tpp: dict[str, str] = field(default_factory=dict)
    blocked_by: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Scenario:
    path: Path
    title: str
    story: str
    profile: str
    controls: dict[str, bool]
    tpp: dict[str, str]
    steps: list[Step]
    order: int = 0
    brief: str = ""    # the story in plain words, for someone who never saw OAuth
    hint: str = ""     # where to look when the attack still works
    lesson: str = ""   # what the participant should take away once it fails


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: yaml.Node | None, where: str, message: str) -> ScenarioError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return ScenarioError(f"{self.path}{line}: {where}: {message}")

    def mapping(self, node: yaml.Node, where: str, keys: dict[str, bool]
                ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "must be a mapping (key: value lines)")
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in keys:
                raise self.fail(key_node, f"{where}.{key}" if where else str(key),
                                f"unknown field (fields: {', '.join(keys)})")
            if key in found:
                raise self.fail(key_node, f"{where}.{key}" if where else key, "given twice")
            found[key] = value_node
        for key, required in keys.items():
            if required and key not in found:
                raise self.fail(node, where or "scenario", f"missing required field {key!r}")
        return found

    def text(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            raise self.fail(node, where, "must be non-empty text")
        return str(node.value)

    def choice(self, node: yaml.Node, where: str, choices: list[str] | tuple[str, ...]) -> str:
        value = self.text(node, where)
        if value not in choices:
            raise self.fail(node, where, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def switches(self, node: yaml.Node, where: str) -> dict[str, bool]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "must map control ids to on/off")
        result: dict[str, bool] = {}
        for key_node, value_node in node.value:
            control = str(key_node.value)
            if control not in controls_catalog.BY_ID:
                raise self.fail(key_node, f"{where}.{control}",
                                "unknown control (`fapi-lab controls` lists them)")
            value = str(value_node.value).lower() if isinstance(value_node, yaml.ScalarNode) \
                else ""
            if value not in ("on", "off", "true", "false"):
                raise self.fail(value_node, f"{where}.{control}", "must be on or off")
            result[control] = value in ("on", "true")
        return result

    def tpp(self, node: yaml.Node, where: str) -> dict[str, str]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "must map TPP settings to values")
        result: dict[str, str] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            if name not in tpp_settings.CHOICES:
                raise self.fail(key_node, f"{where}.{name}", "unknown TPP setting "
                                f"(settings: {', '.join(tpp_settings.CHOICES)})")
            result[name] = self.choice(value_node, f"{where}.{name}",
                                       tpp_settings.CHOICES[name])
        return result


def read_text(path: Path) -> str:
    """The file as UTF-8 text, at most MAX_BYTES read: /dev/zero or a stray binary is a
    ScenarioError, not an exhausted memory or a decode traceback."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_BYTES // 1024} KiB; "
                            f"not a scenario file") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); "
                            f"save it as UTF-8") from None


def load(path: Path) -> Scenario:
    """Read and validate one scenario file."""
    checker = _Checker(path)
    try:
        root = yaml.compose(read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{path}{line}: not valid YAML: "
                            f"{getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not a scenario: nested too deeply") from None
    if root is None:
        raise ScenarioError(f"{path}: empty file")
    top = checker.mapping(root, "", TOP_KEYS)
    implemented = lookup.implemented()
    steps_node = top["steps"]
    if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
        raise checker.fail(steps_node, "steps", "must be a non-empty list")
    steps = []
    for i, node in enumerate(steps_node.value):
        where = f"steps[{i}]"
        fields = checker.mapping(node, where, STEP_KEYS)
        attack_node = fields["attack"]
        attack = checker.text(attack_node, f"{where}.attack")
        if attack not in implemented:
            waiting = lookup.pending().get(attack)
            why = waiting.reason if waiting else None
            raise checker.fail(attack_node, f"{where}.attack",
                               f"{attack!r} is pending: {why}" if why else
                               f"unknown attack {attack!r} (`fapi-lab attack --list`)")
        blocked_by: list[str] = []
        if "blocked_by" in fields:
            node_b = fields["blocked_by"]
            if not isinstance(node_b, yaml.SequenceNode):
                raise checker.fail(node_b, f"{where}.blocked_by", "must be a list of controls")
            for item in node_b.value:
                blocked_by.append(checker.choice(item, f"{where}.blocked_by",
                                                 list(controls_catalog.BY_ID)))
        expect = checker.choice(fields["expect"], f"{where}.expect", OUTCOMES)
        if blocked_by and expect == "succeeded":
            # victim-failed names the controls that refused the victim's own flow
            raise checker.fail(fields["blocked_by"], f"{where}.blocked_by",
                               "only a step expected to be blocked (or victim-failed) names "
                               "its blockers")
        steps.append(Step(
            attack=attack, expect=expect,
            set=checker.switches(fields["set"], f"{where}.set") if "set" in fields else {},
            tpp=checker.tpp(fields["tpp"], f"{where}.tpp") if "tpp" in fields else {},
            blocked_by=blocked_by,
            note=checker.text(fields["note"], f"{where}.note") if "note" in fields else ""))
    order = 0
    if "order" in top:
        raw = checker.text(top["order"], "order")
        if not raw.isdigit():
            raise checker.fail(top["order"], "order", "must be a whole number")
        order = int(raw)
    return Scenario(
        path=path, title=checker.text(top["title"], "title"),
        story=checker.text(top["story"], "story"),
        profile=checker.choice(top["profile"], "profile", profiles.names()),
        controls=checker.switches(top["controls"], "controls") if "controls" in top else {},
        tpp=checker.tpp(top["tpp"], "tpp") if "tpp" in top else {},
        steps=steps, order=order,
        **{key: checker.text(top[key], key) for key in ("brief", "hint", "lesson") if key in top})


def discover(directory: Path) -> list[Scenario]:
    scenarios = [load(p) for p in sorted(directory.glob("*.yaml"))]
    return sorted(scenarios, key=lambda s: (s.order, s.path.name))


def as_dict(data: Any) -> Any:
    from dataclasses import asdict

    return asdict(data)
