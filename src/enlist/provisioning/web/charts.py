"""The Overview's chart of recent cycles: an inline SVG bar chart, built by a pure function.

Per cycle, two bars: the objects it changed (created, updated, disabled, deleted) and the objects
that failed. The scale is logarithmic (ticks at 1, 10, 100, …): an initial cycle of 10,000
objects and the incremental cycles of a handful that follow it are compared on one chart, none a
1-px sliver. Each cycle's label is the shortest form of its start time that no other label on the
chart shares. The SVG has a <title> and a <desc>, and a table with the same numbers follows it
for screen readers and for anyone who prefers numbers. No styles inline (the pages' CSP forbids
them): bars carry classes that app.css colours.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

CHANGES = ("created", "updated", "disabled", "deleted")
WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 48, 28, 12
CHAR_W = 6.5  # px: the width of one character of an 11 px label, roughly
MIN_BAR = 3.0  # px: a cycle that changed one object is still seen
# Label forms, shortest first, as slices of "YYYY-MM-DD HH:MM:SS" (the table has the whole time).
LABEL_FORMS = ((11, 16), (5, 16), (11, 19), (5, 19), (0, 19))


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
                label=str(c["started_at"])[:19].replace("T", " "),
                kind=str(c["kind"]),
                changed=sum(int(counts.get(k, 0)) for k in CHANGES),
                failed=int(counts.get("failed", 0)),
            )
        )
    return shown


def height(value: int, top: int, plot_h: float) -> float:
    """A bar's height on the logarithmic scale: log(1 + value) over log(1 + top), at least
    `MIN_BAR` for any value above 0, and 0 for 0."""
    if value <= 0:
        return 0.0
    return max(MIN_BAR, plot_h * math.log10(1 + value) / math.log10(1 + max(top, 1)))


def unique_labels(times: Sequence[str]) -> list[str]:
    """Each "YYYY-MM-DD HH:MM:SS" in the shortest form (HH:MM, then MM-DD HH:MM, then with
    seconds) that makes every label distinct; equal times are numbered ("10:40 (2)")."""
    for start, end in LABEL_FORMS:
        labels = [t[start:end] for t in times]
        if len(set(labels)) == len(labels):
            return labels
    seen: Counter[str] = Counter()
    numbered = []
    for t in times:
        seen[t] += 1
        numbered.append(t if seen[t] == 1 else f"{t} ({seen[t]})")
    return numbered


def axis_labels(times: Sequence[str], slot: float) -> dict[int, str]:
    """The x-axis labels by bar index: every bar's, or every k-th's when the unique labels are
    wider than a bar's slot (so no two overlap)."""
    every = 1
    while True:
        shown = list(range(0, len(times), every))
        labels = unique_labels([times[i] for i in shown])
        if max(len(label) for label in labels) * CHAR_W + 8 <= slot * every or every >= len(times):
            return dict(zip(shown, labels, strict=True))
        every += 1


def cycle_chart(cycles: Sequence[Mapping[str, Any]], *, chart_id: str = "cycles-chart") -> Markup:
    """The chart and its table; an empty note when no cycle has run yet."""
    data = bars(cycles)
    if not data:
        return Markup('<p class="empty">No cycle has run yet.</p>')
    # The scale ends at the power of ten at or above the biggest bar, so the top gridline is
    # labelled and every bar can be read against a tick (a bar of 8 under a lone "1" could not).
    top = 10 ** math.ceil(math.log10(max(1, *(max(b.changed, b.failed) for b in data))))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / len(data)
    bar_w = max(2.0, min(24.0, slot / 2 - 4))
    labels = axis_labels([b.label for b in data], slot)
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        ),
        f'<title id="{chart_id}-title">Recent cycles: objects changed and failures per cycle</title>',
        (
            f'<desc id="{chart_id}-desc">{len(data)} cycles, oldest first, on a logarithmic scale; '
            "the table after the chart has the same numbers.</desc>"
        ),
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}"/>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    tick = 1
    while tick <= top:  # 1, 10, 100, …: the gridlines of a logarithmic scale
        y = TOP + plot_h - height(tick, top, plot_h)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:,}</text>')
        tick *= 10
    for i, b in enumerate(data):
        x = LEFT + i * slot + slot / 2 - bar_w - 1
        for offset, value, cls, what in (
            (0, b.changed, "changed", "changed"),
            (bar_w + 2, b.failed, "failed", "failed"),
        ):
            h = height(value, top, plot_h)
            parts.append(
                f'<rect class="{cls}" x="{x + offset:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}">'
                f"<title>{escape(b.label)} ({escape(b.kind)}): {value:,} {what}</title></rect>"
            )
        if i in labels:
            parts.append(
                f'<text x="{LEFT + i * slot + slot / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                f"{escape(labels[i])}</text>"
            )
    parts.append("</svg>")
    parts.append(
        '<ul class="legend"><li><span class="swatch changed"></span>Objects changed</li>'
        '<li><span class="swatch failed"></span>Failures</li><li>Logarithmic scale</li></ul>'
    )
    rows = "".join(
        f"<tr><td>{escape(b.label)}</td><td>{escape(b.kind)}</td>"
        f'<td class="num">{b.changed}</td><td class="num">{b.failed}</td></tr>'
        for b in data
    )
    parts.append(
        '<div class="visually-hidden"><table><caption>Recent cycles</caption><thead><tr><th>Started</th>'
        '<th>Cycle</th><th class="num">Objects changed</th><th class="num">Failures</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"  # a table cannot shrink to 1 px: its box can
    )
    return Markup("".join(parts))  # noqa: S704 (every value in it is a number or escaped)
