"""A control's catalog entry as its page docs/controls/<id>.md (style.md §1: the docs place).

The catalog is the single source; the pages are generated so they never drift from it.
A page also lists the attacks the control blocks, which live in attacker/attacks/: the lab
never reads them, so the attacker side renders that section and writes the pages. After
changing a catalog module, profiles.py or an attack, run

    python -m attacker.docs          # rewrite docs/controls/*.md and docs/attacks.md
    python -m attacker.docs --check  # exit 1 when a page is missing or stale
"""

from __future__ import annotations

from collections.abc import Sequence

from lab.controls import spine

from . import catalog, profiles
from .model import Control

MARK_WORDS = {"✔": "on: required by the profile's source",
              "◐": "on: lab baseline, where the source recommends it or leaves it open",
              "alt": "on when the TPP setting selects it: the other option of a one-of",
              "+": "on: added by the overlay"}


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def control_links(ids: tuple[str, ...]) -> str:
    """Links to the pages of built controls; later controls of the catalog as plain names."""
    return ", ".join(f"[`{i}`]({i}.md)" if i in catalog.BY_ID else f"`{i}` (not built yet)"
                     for i in ids) or "—"


def requirement_links(control: Control) -> str:
    """`requires`, each with the controls that satisfy it as well ("one of")."""
    parts = []
    for needed in control.requires:
        alternatives = control.requires_alternatives.get(needed, ())
        parts.append(" or ".join(control_links((i,)) for i in (needed, *alternatives)))
    return ", ".join(parts) or "—"


def _choices(c: Control, name: str) -> str:
    """' (one of …)', naming the optional extra a choice needs."""
    if name not in c.choices:
        return ""
    words = [f"`{v}`" + (f" (extra `{need.partition(' ')[2]}`)" if need else "")
             for v, need in c.choices[name].items()]
    return f" (one of {', '.join(words)})"


def render(control: Control, attacks_section: Sequence[str]) -> str:
    """The page for one control, Markdown, deterministic (so --check can compare).

    attacks_section: the lines of "Attacks it blocks", rendered from the attack modules.
    """
    c = control
    definition = spine.definition(c.id) or "lab/controls/catalog.py"
    required_by = tuple(o.id for o in catalog.CONTROLS if c.id in o.requires or any(
        c.id in alts for alts in o.requires_alternatives.values()))
    rows = [
        ("checks", c.checks),
        ("kind", c.kind),
        ("enforced at", " + ".join(c.enforced_at)),
        ("refusal", str(c.refusal)),
        ("spec", c.spec),
        ("requires", requirement_links(c)),
        ("required by", control_links(required_by)),
        ("fires via", control_links(c.fires_via)),
        ("discovery metadata", ", ".join(f"`{m}`" for m in c.metadata) or "—"),
        ("parameters", ", ".join(f"`{k}` = `{v!r}`" + _choices(c, k)
                                 for k, v in c.params.items()) or "—"),
    ]
    lines = [
        f"# `{c.id}` — {c.title}",
        "",
        f"<!-- Generated from {definition} and attacker/attacks/ by `python -m attacker.docs`; "
        "edit those, not this page. -->",
        "",
        "| | |",
        "|---|---|",
        *(f"| {label} | {cell(value)} |" for label, value in rows),
        "",
        "## Why",
        "",
        c.teaching,
        "",
        "## When it is off",
        "",
        c.off_behaviour or "—",
        "",
        "## Profiles",
        "",
        "| profile | mark |",
        "|---|---|",
    ]
    for name in profiles.names():
        mark = profiles.marks(name).get(c.id)
        words = f"{mark} {MARK_WORDS.get(mark, '')}".strip() if mark else "– off"
        set_here = profiles.params(name).get(c.id, {}) if mark else {}
        if set_here:   # the profile's own parameters (catalog profile_params)
            words += " (" + ", ".join(f"`{k}` = `{v!r}`" for k, v in set_here.items()) + ")"
        lines.append(f"| `{name}` | {words} |")
    where = f'`guard("{c.id}")` under `lab/` ({" + ".join(c.enforced_at)})'
    if c.kind == "enabler":
        where += "; an enabler: it refuses nothing itself"
    if c.fires_via:
        where += f"; its refusals are recorded by {control_links(c.fires_via)}"
    lines += [
        "",
        "## Where to find it",
        "",
        "| | |",
        "|---|---|",
        f"| definition | `{definition}` |",
        f"| enforcement point | {where} |",
        f"| tests | `tests/controls/test_{c.id}.py` |",
        f"| attacks | `blocked_by` in `attacker/attacks/*.py` (listed below; "
        f"`grep -rl '\"{c.id}\"' attacker/attacks/` finds them) |",
        f"| at run time | `fapi-lab controls show {c.id}`, "
        f"`fapi-lab controls set {c.id}=on` / `=off` |",
        "",
    ]
    lines += [*attacks_section, *_see_it_section(c)]
    return "\n".join(lines)


def _see_it_section(c: Control) -> list[str]:
    lines = ["## See it in the lab", "",
             f"1. `fapi-lab controls set {c.id}=off`, then repeat the weak request of "
             f"`tests/controls/test_{c.id}.py`: it goes through."
             + (f" {cell(c.off_behaviour)}" if c.off_behaviour else ""),
             f"2. `fapi-lab controls set {c.id}=on` and send the same request again."]
    if c.kind == "enabler":
        lines.append(f"   Nothing is refused by `{c.id}` itself; watch what it adds "
                     "(discovery metadata, response parameters) and the control that uses it.")
    elif c.kind == "preventive":
        lines.append(f"   The attack surface is gone: `fapi-lab events --control {c.id}` "
                     "shows a `prevented` event.")
    else:
        target = control_links(c.fires_via) if c.fires_via else f"`{c.id}`"
        lines.append(f"   It is refused ({cell(str(c.refusal))}); `fapi-lab events` shows the "
                     f"control-fired event of {target} with the response's `X-Lab-Request-Id`.")
    lines += ["3. Both ways, as a test: "
              f"`./fapi-lab test tests/controls/test_{c.id}.py -v`.", ""]
    return lines
