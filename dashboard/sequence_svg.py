"""The sequence diagram drawn: lifelines, arrows through the Capture lifeline, responses.

One <svg> with inline attributes only (no script, no stylesheet, no font to fetch), so the
workshop screen works offline; dashboard.sequence decides what is drawn. Sized for a
projector: no text under 14 px (arrow labels 16), and the page shows it whole, scaled to its width.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sequence import Arrow, Diagram

LIFELINES: tuple[tuple[str, str], ...] = (
    ("browser", "Browser (victim)"), ("tpp", "FinLens (TPP)"),
    ("capture", "Capture (mitmproxy)"), ("as", "AS"), ("bank", "Bank"),
    ("attacker", "Attacker"))
COLOURS = {"browser": "#1f4e79", "tpp": "#2e7d32", "attacker": "#8e24aa",
           "refused": "#c62828", "capture": "#ef6c00", "line": "#9e9e9e", "text": "#212121"}
COLUMN, LEFT, TOP, ROW, RESPONSE_ROW = 170, 50, 74, 42, 30
CHAR = 9.0     # about how wide one 16 px sans-serif character is
WIDTH = LEFT + COLUMN * len(LIFELINES) + 20
HAIRPIN = 9


def _x(lifeline: str) -> int:
    names = [name for name, _ in LIFELINES]
    return LEFT + COLUMN * names.index(lifeline) + COLUMN // 2


def _text(x: float, y: float, value: str, *, size: int = 16, anchor: str = "middle",
          colour: str = COLOURS["text"], weight: str = "normal") -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{colour}" font-weight="{weight}">{html.escape(value)}</text>')


def _route(sender: str, receiver: str, through_capture: bool) -> list[int]:
    """x positions the arrow passes: through the Capture lifeline when mitmproxy saw it."""
    a, b, c = _x(sender), _x(receiver), _x("capture")
    if through_capture and not (min(a, b) < c < max(a, b)):
        return [a, c, b]
    return [a, b]


def _line(xs: list[int], y: int, colour: str, *, dash: str = "") -> str:
    """An arrow along `xs` at row `y`: straight, a hairpin back from the Capture lifeline,
    or a small loop when sender and receiver are the same lifeline."""
    style = f' stroke-dasharray="{dash}"' if dash else ""
    if len(xs) == 2 and xs[0] == xs[1]:
        d = f"M{xs[0]},{y} h26 v{HAIRPIN} h-26"
        tip_y, direction = y + HAIRPIN, -1
    else:
        d = f"M{xs[0]},{y} H{xs[1]}"
        tip_y = y
        if len(xs) == 3:
            d += f" v{HAIRPIN} H{xs[2]}"
            tip_y = y + HAIRPIN
        direction = 1 if xs[-1] > xs[-2] else -1
    head = f'<path d="M{xs[-1]},{tip_y} l{-8 * direction},-4 v8 z" fill="{colour}"/>'
    return f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.6"{style}/>' + head


def _label_x(xs: list[int], label: str) -> float:
    """Centred over the arrow's span, kept inside the drawing."""
    half = len(label) * CHAR / 2
    mid = xs[0] - 80 if len(set(xs)) == 1 else (min(xs) + max(xs)) / 2
    return min(max(mid, LEFT + half), WIDTH - 4 - half)


def _arrow_svg(arrow: Arrow, y: int) -> tuple[str, int]:
    colour = COLOURS["attacker"] if arrow.attacker else COLOURS.get(arrow.sender,
                                                                     COLOURS["browser"])
    xs = _route(arrow.sender, arrow.receiver, arrow.captured)
    mid = _label_x(xs, arrow.label)
    title = f"#{arrow.number} {arrow.label}"
    title += f" (capture #{arrow.capture_id})" if arrow.capture_id is not None else \
        " (not captured)"
    if arrow.note:
        title += f" — {arrow.note}"
    parts = [f"<g><title>{html.escape(title)}</title>",
             _text(LEFT - 8, y + 5, str(arrow.number), size=14, anchor="end",
                   colour=COLOURS["line"]),
             _text(mid, y - 5, arrow.label, colour=colour),
             _line(xs, y, colour, dash="" if arrow.captured else "2 3")]
    if arrow.captured:
        parts.append(f'<circle cx="{_x("capture")}" cy="{y}" r="4.5" fill="{COLOURS["capture"]}"'
                     ' stroke="white" stroke-width="1"/>')
    parts.append("</g>")
    height = ROW + (HAIRPIN if len(xs) == 3 else 0)
    if arrow.status is None:
        return "".join(parts), height
    ry = y + height - 4
    back = COLOURS["refused"] if arrow.refused else COLOURS["line"]
    answer = str(arrow.status) + (f" {arrow.error}" if arrow.error else "")
    rxs = list(reversed(xs))
    if xs[0] == xs[-1]:
        rxs = xs
    parts = parts[:-1] + [_text(_label_x(xs, answer), ry - 4, answer, size=15, colour=back,
                                weight="bold" if arrow.refused else "normal"),
                          _line(rxs, ry, back, dash="5 4"), "</g>"]
    return "".join(parts), height + RESPONSE_ROW


def render(diagram: Diagram) -> str:
    """The diagram as one <svg> element (inline styles only)."""
    body: list[str] = []
    y = TOP + 34
    for arrow in diagram.arrows:
        drawn, height = _arrow_svg(arrow, y)
        body.append(drawn)
        y += height
    if not diagram.arrows:
        body.append(_text(WIDTH / 2, y + 6, "No exchanges were recorded during this run "
                          "(is the capture on?).", size=16, colour=COLOURS["line"]))
        y += 30
    if diagram.left_out:
        body.append(_text(WIDTH / 2, y + 6, f"… and {diagram.left_out} more exchanges, not "
                          "drawn (listed below).", size=15, colour=COLOURS["line"]))
        y += 30
    height = y + 10
    heads: list[str] = []
    for name, title in LIFELINES:
        x = _x(name)
        colour = COLOURS["capture"] if name == "capture" else \
            COLOURS["attacker"] if name == "attacker" else COLOURS["text"]
        heads.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{height}" stroke="{colour}" '
                     f'stroke-opacity="0.45" stroke-dasharray="3 4"/>')
        heads.append(f'<rect x="{x - COLUMN // 2 + 4}" y="{TOP - 40}" width="{COLUMN - 8}" '
                     f'height="36" rx="5" fill="#fafafa" stroke="{colour}"/>')
        heads.append(_text(x, TOP - 16, title, size=15, colour=colour, weight="bold"))
    legend = _text(LEFT, 18, "solid: request · dashed: response · ● recorded by mitmproxy · "
                   "purple: attacker · red: refused · dotted: not captured (EvilBank, "
                   "the attacker's site)",
                   size=14, anchor="start", colour=COLOURS["line"])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" role="img" '
            f'aria-label="sequence diagram of {len(diagram.arrows)} exchanges">'
            + legend + "".join(heads) + "".join(body) + "</svg>")


def whole(svg: str) -> str:
    """The SVG as wide as the page, at full height: on a projector the attacker's arrows must
    not hide below the fold of a scroll box, and the labels grow with the screen.

    st.html sanitizes with DOMPurify's HTML profile, which drops inline <svg>; an <img> with
    a data: URI is kept, and it still loads nothing from anywhere.
    """
    data = base64.b64encode(svg.encode()).decode()
    return (f'<div style="border:1px solid #e0e0e0;border-radius:6px;background:#ffffff">'
            f'<img src="data:image/svg+xml;base64,{data}" alt="sequence diagram" '
            f'style="display:block;width:100%;height:auto"/></div>')
