"""The Overview's chart of recent cycles: a pure function from cycles to an accessible SVG."""

from __future__ import annotations

import re

import pytest

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
    assert shown[0].label == "2026-11-27 10:00:00"


def test_the_chart_has_a_title_a_description_and_a_table_of_the_same_numbers() -> None:
    svg = str(cycle_chart([cycle("2026-11-27T10:40:00+00:00", created=3, failed=6)]))
    assert 'role="img"' in svg
    assert (
        '<title id="cycles-chart-title">Recent cycles: objects changed and failures per cycle</title>' in svg
    )
    assert '<td class="num">3</td><td class="num">6</td>' in svg
    heights = [float(h) for h in re.findall(r'<rect class="\w+" [^>]*height="([\d.]+)"', svg)]
    assert heights[1] > heights[0] > 0  # 6 failures stand taller than 3 changes (a log scale)
    assert "style=" not in svg  # the CSP forbids inline styles


def test_text_in_the_chart_is_escaped() -> None:
    svg = str(cycle_chart([cycle("<script>", kind="<b>")]))
    assert "<script>" not in svg
    assert "&lt;b&gt;" in svg


def test_a_small_cycle_after_a_ten_thousand_object_one_is_tall_enough_to_compare() -> None:
    recent = [  # status() lists the newest first
        cycle("2026-11-27T12:00:00+00:00", created=40),
        cycle("2026-11-27T11:00:00+00:00", created=1),
        cycle("2026-11-27T10:00:00+00:00", created=5),
        cycle("2026-11-27T09:00:00+00:00", "initial", created=10_000),
    ]
    svg = str(cycle_chart(recent))
    heights = [float(h) for h in re.findall(r'<rect class="changed" [^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 4
    assert heights[0] > 150  # the initial cycle fills the plot
    assert min(heights[1:]) >= 10  # a cycle of one object is not a 1-px sliver
    assert heights[2] < heights[1] < heights[3] < heights[0]  # and the order of sizes holds


def test_every_axis_label_is_unique_whatever_the_cycle_times() -> None:
    same_minute = [cycle(f"2026-11-27T10:40:{s:02d}+00:00", created=1) for s in range(0, 60, 6)]
    two_days = [cycle(f"2026-11-{d}T10:40:00+00:00", created=1) for d in (26, 27)]
    same_second = [cycle("2026-11-27T10:40:00+00:00", created=1) for _ in range(3)]
    many = [cycle(f"2026-11-{1 + i // 24:02d}T{i % 24:02d}:00:00+00:00", created=i) for i in range(60)]
    for recent in (same_minute, two_days, same_second, many):
        svg = str(cycle_chart(recent))
        labels = re.findall(r'<text [^>]*y="190" text-anchor="middle">([^<]+)</text>', svg)
        assert labels, svg
        assert len(labels) == len(set(labels)), labels


@pytest.mark.parametrize(
    ("biggest", "ticks"),
    [
        (1, ["0", "1"]),
        (8, ["0", "1", "10"]),
        (10, ["0", "1", "10"]),
        (2500, ["0", "1", "10", "100", "1,000", "10,000"]),
    ],
)
def test_the_scale_is_logarithmic_with_a_tick_per_power_of_ten_up_to_one_above_the_biggest_bar(
    biggest: int, ticks: list[str]
) -> None:
    svg = str(cycle_chart([cycle("2026-11-27T10:40:00+00:00", created=biggest)]))
    found = re.findall(r'<text x="\d+" y="([\d.]+)" text-anchor="end">([\d,]+)</text>', svg)
    assert [label for _, label in found] == ticks
    bar_top = float(re.findall(r'<rect class="changed" x="[\d.]+" y="([\d.]+)"', svg)[0])
    top_tick = float(found[-1][0]) - 4  # a label sits 4 px below its gridline
    assert bar_top >= top_tick - 0.1  # no bar rises above the top labelled gridline
