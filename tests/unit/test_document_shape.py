"""Reading and writing configuration documents: plain data only, no key given twice, the same
bytes for the same data, long lines never wrapped (so a git diff shows the one line)."""

from __future__ import annotations

import pytest

from enlist.document_shape import DocumentError, dump, load


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "'a' is given twice (line 3)"),
        ('{"a": 1, "b": {"c": 1, "c": 2}}', "'c' is given twice"),
        ("x: !!python/object/apply:os.system [ls]\n", "not valid YAML"),
        ("x: [unclosed\n", "not valid YAML"),
        ('{"a": }', "not valid JSON"),
    ],
)
def test_a_document_that_is_not_plain_data_with_unique_keys_is_refused(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(text)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_the_same_data_gives_the_same_text_and_reads_back_equal(fmt: str) -> None:
    data = {"z": "first", "a": ['Join(" ", [givenName], [surname])' * 20, None, 1.5, True], "on": "off"}
    text = dump(data, fmt)  # type: ignore[arg-type]
    assert text == dump(dict(data), fmt)  # type: ignore[arg-type]
    assert load(text) == data
    assert list(load(text)) == ["z", "a", "on"]  # keys in the order given, not sorted
    long_line = next(line for line in text.splitlines() if "Join" in line)
    assert long_line.count("Join") == 20  # not wrapped
