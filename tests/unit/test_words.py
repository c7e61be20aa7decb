"""A count on a page agrees with its noun: "1 user", never "1 users"."""

from __future__ import annotations

import pytest

from enlist.plural import plural


@pytest.mark.parametrize(
    ("count", "noun", "text"),
    [
        (0, "user", "0 users"),
        (1, "user", "1 user"),
        (2, "group", "2 groups"),
        (1200, "user", "1,200 users"),
        (1, "person", "1 person"),
        (3, "person", "3 people"),
        (1, "entry", "1 entry"),
        (50, "entry", "50 entries"),
        (1.0, "hour", "1 hour"),
        (1.5, "hour", "1.5 hours"),
        (24.0, "hour", "24 hours"),
        (2, "more member", "2 more members"),
    ],
)
def test_a_count_agrees_with_its_noun(count: float, noun: str, text: str) -> None:
    assert plural(count, noun) == text


def test_an_explicit_plural_wins() -> None:
    assert plural(2, "datum", "data") == "2 data"
