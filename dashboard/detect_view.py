"""`fapi-lab detect` results (its last run, saved in the lab's data directory) as charts a
room can read from the back: per attack detected or not and how many of the attacker's
requests it took to revoke, and the false-alarm rate on the honest traffic against the
1 % the issue sets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt

RESULTS = Path("detect") / "results.json"
TARGET = 0.01          # issue 16: false alarms below 1 % of honest bank requests
FONT = 22              # axis labels, bar labels and legends, for a projector
TITLE_FONT = 26
DETECTED, MISSED = "detected, family revoked", "NOT detected"
COLOURS = {DETECTED: "#2e7d32", MISSED: "#c62828"}


class NoResultsError(Exception):
    """No readable `fapi-lab detect` results where the page looks."""


@dataclass
class DetectResults:
    path: Path
    raw: dict[str, Any]

    @property
    def attacks(self) -> list[dict[str, Any]]:
        return list(self.raw["attacks"])

    @property
    def benign(self) -> dict[str, Any]:
        return dict(self.raw["benign"])

    def detected(self) -> int:
        return sum(bool(a.get("detected")) for a in self.attacks)

    def rows(self) -> list[dict[str, Any]]:
        """One row per attack: the chart's data and the table's."""
        rows = []
        for a in self.attacks:
            requests, seconds = a.get("requests_to_revoke"), a.get("wall_seconds_to_revoke")
            found = bool(a.get("detected"))
            label = (f"revoked after {requests} request{'s' if requests != 1 else ''}"
                     + (f", {seconds:.1f} s" if isinstance(seconds, int | float) else "")
                     if found and requests else f"not detected ({a.get('status', '?')})")
            rows.append({"attack": str(a.get("attack", "?")), "outcome": DETECTED if found
                         else MISSED, "requests to revoke": requests if found else 0,
                         "seconds to revoke": seconds if found else None,
                         "attacker requests": a.get("attacker_requests"),
                         "alerts": a.get("alerts"), "label": label})
        return rows

    def false_alarm_rate(self) -> float | None:
        rate = self.benign.get("false_alarm_rate")
        return float(rate) if isinstance(rate, int | float) else None


def load(directory: Path) -> DetectResults:
    """The results in `directory` (a data directory, or the folder holding results.json)."""
    path = directory / RESULTS if not (directory / "results.json").exists() \
        else directory / "results.json"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise NoResultsError(f"no `fapi-lab detect` results at {path}: run it first") from None
    except (OSError, ValueError) as error:
        raise NoResultsError(f"{path} is not readable JSON ({error})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("attacks"), list) \
            or not isinstance(raw.get("benign"), dict) \
            or not all(isinstance(a, dict) for a in raw["attacks"]):
        raise NoResultsError(f"{path} does not look like `fapi-lab detect` results")
    return DetectResults(path, raw)


def _large(chart: alt.LayerChart) -> alt.LayerChart:
    return (chart.configure_axis(labelFontSize=FONT, titleFontSize=FONT, labelLimit=520)
            .configure_legend(labelFontSize=FONT, titleFontSize=FONT, symbolSize=300,
                              labelLimit=520, orient="bottom")
            .configure_title(fontSize=TITLE_FONT, anchor="start"))


def attacks_chart(results: DetectResults) -> alt.LayerChart:
    """A bar per attack: its length the attacker's requests until the family was revoked,
    green when detected, red (a stub bar) when not; the bar's label says it in words."""
    rows = [{**r, "bar": r["requests to revoke"] or 0.3} for r in results.rows()]
    longest = max([float(r["bar"]) for r in rows] or [1.0])
    base = alt.Chart(alt.Data(values=rows), title="Token theft: requests until revoked")
    bars = base.mark_bar().encode(
        y=alt.Y("attack:N", title=None, sort=None, scale=alt.Scale(paddingInner=0.3)),
        # room on the right for the words written after the longest bar
        x=alt.X("bar:Q", title="attacker's requests until revoked",
                scale=alt.Scale(domain=[0, longest * 2.6 + 1], nice=False)),
        color=alt.Color("outcome:N", title=None,
                        scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values()))),
        tooltip=["attack:N", "outcome:N", "requests to revoke:Q", "seconds to revoke:Q",
                 "alerts:Q"])
    words = base.mark_text(align="left", dx=10, fontSize=FONT, fontWeight="bold").encode(
        y=alt.Y("attack:N", sort=None), x="bar:Q", text="label:N")
    return _large(alt.LayerChart(layer=[bars, words]).properties(height=height(results)))


def height(results: DetectResults) -> int:
    """The attacks chart's height in pixels: a projector-sized band per attack, and room for
    the title, the axis and the legend (Streamlit fits the whole chart into the height)."""
    return 170 + 70 * max(2, len(results.attacks))


def false_alarm_chart(results: DetectResults) -> alt.LayerChart:
    """The measured false-alarm rate beside the 1 % line it must stay under."""
    rate = results.false_alarm_rate() or 0.0
    rows = [{"what": "honest traffic", "rate": rate * 100,
             "label": f"{rate:.2%}", "outcome": "under 1 %" if rate < TARGET else "over 1 %"}]
    base = alt.Chart(alt.Data(values=rows), title="False alarms on honest traffic")
    bar = base.mark_bar().encode(
        y=alt.Y("what:N", title=None, scale=alt.Scale(paddingInner=0.3)),
        x=alt.X("rate:Q", title="% of honest bank requests (alerts + revocations)",
                scale=alt.Scale(domain=[0, max(2.0, rate * 100 * 1.3)])),
        color=alt.Color("outcome:N", legend=None, scale=alt.Scale(
            domain=["under 1 %", "over 1 %"], range=["#2e7d32", "#c62828"])))
    words = base.mark_text(align="left", dx=10, fontSize=FONT, fontWeight="bold").encode(
        y="what:N", x="rate:Q", text="label:N")
    target = alt.Chart(alt.Data(values=[{"limit": TARGET * 100, "what": "honest traffic",
                                         "text": "1 % target"}]))
    line = target.mark_rule(strokeWidth=5, strokeDash=[12, 6], color="#222").encode(
        x="limit:Q")
    said = target.mark_text(align="left", dx=8, dy=-40, fontSize=FONT, color="#222").encode(
        x="limit:Q", y=alt.Y("what:N"), text="text:N")
    return _large(alt.LayerChart(layer=[bar, words, line, said]).properties(height=FALSE_HEIGHT))


FALSE_HEIGHT = 250   # pixels, title and axis included
