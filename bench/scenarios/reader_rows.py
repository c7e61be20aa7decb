"""The three rows of a source-reader scaling scenario (S7 Graph, S8 LDAP): the initial read's
time, its peak memory, and a delta round whose source calls must not grow with the source.

Each side is a measurement with `initial_s`, `initial_peak_mib`, `delta_s`, and the counts of
source calls `initial_<calls>` and `delta_<calls>` (`requests` for Graph, `operations` for LDAP).
"""

from __future__ import annotations

from typing import Any

from bench.report import Row


def reader_rows(
    code: str,
    reader: str,
    delta: str,
    calls: tuple[str, str],
    sizes: tuple[int, int],
    small: dict[str, Any],
    large: dict[str, Any],
) -> list[Row]:
    """`code` ("S7"), `reader` ("Graph reader"), `delta` ("delta round, 100 changes"), `calls`:
    the count keys' suffix and how the rows name them (`("requests", "requests")`)."""
    key, said = calls
    small_n, large_n = sizes
    initial_ratio = large["initial_s"] / small["initial_s"]
    initial = Row(
        f"{code} initial read",
        f"{reader} initial read, {large_n:,} vs {small_n:,} users",
        large["initial_s"],
        small["initial_s"],
        "s",
        initial_ratio,
        f"<= {large_n / small_n * 1.5:.1f}x",
        initial_ratio <= large_n / small_n * 1.5,
        note=(
            f"{said} {large[f'initial_{key}']} vs {small[f'initial_{key}']}; peak reader memory "
            f"{large['initial_peak_mib']:.1f} MiB vs {small['initial_peak_mib']:.1f} MiB"
        ),
        details={"small": small, "large": large},
    )
    memory_ratio = large["initial_peak_mib"] / small["initial_peak_mib"]
    memory = Row(
        f"{code} memory",
        f"{reader} peak memory, initial read of {large_n:,} vs {small_n:,} users",
        large["initial_peak_mib"],
        small["initial_peak_mib"],
        "MiB",
        memory_ratio,
        "<= 2x (bounded by a page)",
        memory_ratio <= 2,
    )
    same = large[f"delta_{key}"] == small[f"delta_{key}"]
    delta_ratio = large["delta_s"] / small["delta_s"]
    delta_row = Row(
        f"{code} delta",
        f"{reader} {delta}, {large_n:,} vs {small_n:,} users",
        large["delta_s"],
        small["delta_s"],
        "s",
        delta_ratio,
        f"<= 2x, the same {said}",
        same and delta_ratio <= 2,
        note=f"{said} {large[f'delta_{key}']} vs {small[f'delta_{key}']}"
        + ("" if same else ": NOT the same"),
    )
    return [initial, memory, delta_row]
