"""The Overview's chart of recent cycles: a pure function from cycles to an accessible SVG."""

from __future__ import annotations

import re

from enlist.provisioning.web.charts import bars, cycle_chart


def cycle(started: str, kind: str = "incremental", **counts: int) -> dict[str, object]:
    return {"started_at": started, "kind": kind, "status": "succeeded", "summary": counts}


def test_no_cycle_gives_a_note_not_an_empty_chart() -> None:
    assert "No cycle has run yet." in cycle_chart([])


def test_bars_count_changes_and_failures_oldest_first() -> None:
    recent = [  # status() lists the newest first
        cycle("2026-11-27T10:40:00+00:00", created=1, failed=4),
        cycle(
            "2026-11-27T10:00:00+00:00", "initial", created=10, updated=5, disabled=1, deleted=2, skipped=9
        ),
    ]
    shown = bars(recent)
    assert [(b.kind, b.changed, b.failed) for b in shown] == [("initial", 18, 0), ("incremental", 1, 4)]
    assert shown[0].label == "2026-11-27 10:00"


def test_the_chart_has_a_title_a_description_and_a_table_of_the_same_numbers() -> None:
    svg = str(cycle_chart([cycle("2026-11-27T10:40:00+00:00", created=3, failed=6)]))
    assert 'role="img"' in svg
    assert (
        '<title id="cycles-chart-title">Recent cycles: objects changed and failures per cycle</title>' in svg
    )
    assert '<td class="num">3</td><td class="num">6</td>' in svg
    heights = [float(h) for h in re.findall(r'<rect class="\w+" [^>]*height="([\d.]+)"', svg)]
    assert heights[1] == 2 * heights[0]  # 6 failures stand twice as tall as 3 changes
    assert "style=" not in svg  # the CSP forbids inline styles


def test_text_in_the_chart_is_escaped() -> None:
    svg = str(cycle_chart([cycle("<script>", kind="<b>")]))
    assert "<script>" not in svg
    assert "&lt;b&gt;" in svg
