"""Counts in words: "1 user", "2 users", "1,204 users". Every page and message that puts a count
before a noun uses `plural`, so none says "1 users" or "user(s)"."""

from __future__ import annotations

# Irregular plurals the pages use; every other noun takes an "s".
IRREGULAR = {"entry": "entries", "property": "properties", "child": "children", "person": "people"}


def plural(count: int | None, noun: str, many: str | None = None) -> str:
    """`count` (None counts as 0) with thousands separators, then `noun` in the number it takes;
    `many` overrides the plural form. A multi-word noun inflects its last word."""
    n = count or 0
    if n == 1:
        return f"{n:,} {noun}"
    head, _, last = noun.rpartition(" ")
    word = many or IRREGULAR.get(last) or last + "s"
    return f"{n:,} {head + ' ' if head and not many else ''}{word}"
