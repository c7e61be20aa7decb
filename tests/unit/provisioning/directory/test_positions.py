"""Finding the line of each value of a JSON document."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from enlist.provisioning.directory.positions import json_lines


def test_every_value_has_the_line_it_starts_on() -> None:
    text = '{\n  "users": [\n    {"a": 1,\n     "b": [true,\n  null]},\n    "x"\n  ],\n  "k\\"ey": {}\n}'

    lines = json_lines(text)

    assert lines[()] == 1
    assert lines[("users",)] == 2
    assert lines[("users", 0)] == 3
    assert lines[("users", 0, "a")] == 3
    assert lines[("users", 0, "b")] == 4
    assert lines[("users", 0, "b", 1)] == 5
    assert lines[("users", 1)] == 6
    assert lines[('k"ey',)] == 8


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    found = {prefix}
    if isinstance(value, dict):
        for key, item in value.items():
            found |= paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found |= paths(item, (*prefix, index))
    return found


@settings(deadline=None)  # the property is not about speed; the first example pays warm-up
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=4),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=12,
    ),
    st.sampled_from([None, 0, 1, 3]),
)
def test_every_path_of_any_document_gets_a_line_within_the_text(document: Any, indent: int | None) -> None:
    text = json.dumps(document, indent=indent)

    lines = json_lines(text)

    assert set(lines) == paths(document)
    assert all(1 <= line <= text.count("\n") + 1 for line in lines.values())
