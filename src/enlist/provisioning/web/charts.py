"""The Overview's chart of recent cycles: an inline SVG bar chart, built by a pure function.

Per cycle, two bars: the objects it changed (created, updated, disabled, deleted) and the objects
that failed. The SVG has a <title> and a <desc>, and a table with the same numbers follows it for
screen readers and for anyone who prefers numbers. No styles inline (the pages' CSP forbids
them): bars carry classes that app.css colours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

CHANGES = ("created", "updated", "disabled", "deleted")
WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 40, 28, 12


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # when the cycle started, as the table shows it
    kind: str
    changed: int
    failed: int


def bars(cycles: Sequence[Mapping[str, Any]]) -> list[Bar]:
    """Finished cycles, oldest first, from `status()`'s `recent_cycles` (newest first)."""
    shown = []
    for c in reversed(cycles):
        counts = c.get("summary") or {}
        shown.append(
            Bar(
                label=str(c["started_at"])[:16].replace("T", " "),
                kind=str(c["kind"]),
                changed=sum(int(counts.get(k, 0)) for k in CHANGES),
                failed=int(counts.get("failed", 0)),
            )
        )
    return shown


def cycle_chart(cycles: Sequence[Mapping[str, Any]], *, chart_id: str = "cycles-chart") -> Markup:
    """The chart and its table; an empty note when no cycle has run yet."""
    data = bars(cycles)
    if not data:
        return Markup('<p class="empty">No cycle has run yet.</p>')
    top = max(1, *(max(b.changed, b.failed) for b in data))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / len(data)
    bar_w = max(2.0, min(24.0, slot / 2 - 4))
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        ),
        f'<title id="{chart_id}-title">Recent cycles: objects changed and failures per cycle</title>',
        (
            f'<desc id="{chart_id}-desc">{len(data)} cycles, oldest first; the table after the chart '
            "has the same numbers.</desc>"
        ),
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{top}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i, b in enumerate(data):
        x = LEFT + i * slot + slot / 2 - bar_w - 1
        for offset, value, cls, what in (
            (0, b.changed, "changed", "changed"),
            (bar_w + 2, b.failed, "failed", "failed"),
        ):
            h = plot_h * value / top
            parts.append(
                f'<rect class="{cls}" x="{x + offset:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}">'
                f"<title>{escape(b.label)}: {value} {what}</title></rect>"
            )
        if len(data) <= 12 or i % max(1, len(data) // 10) == 0:
            parts.append(
                f'<text x="{LEFT + i * slot + slot / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                f"{escape(b.label[11:16])}</text>"
            )
    parts.append("</svg>")
    parts.append(
        '<ul class="legend"><li><span class="swatch changed"></span>Objects changed</li>'
        '<li><span class="swatch failed"></span>Failures</li></ul>'
    )
    rows = "".join(
        f"<tr><td>{escape(b.label)}</td><td>{escape(b.kind)}</td>"
        f'<td class="num">{b.changed}</td><td class="num">{b.failed}</td></tr>'
        for b in data
    )
    parts.append(
        '<table class="visually-hidden"><caption>Recent cycles</caption><thead><tr><th>Started</th>'
        '<th>Cycle</th><th class="num">Objects changed</th><th class="num">Failures</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return Markup("".join(parts))  # noqa: S704 (every value in it is a number or escaped)
