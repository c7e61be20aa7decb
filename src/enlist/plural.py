"""Counts in words: "1 user", "2 users", "1,204 users", "1.5 hours". Every page and message of
either service that puts a count before a noun uses `plural`, so none says "1 users" or
"user(s)". It lives at the top of the package because the engine's one-line status uses it too."""

from __future__ import annotations

# Nouns whose plural is not the singular plus "s"; every other noun takes an "s".
IRREGULAR = {
    "entry": "entries",
    "property": "properties",
    "policy": "policies",
    "child": "children",
    "person": "people",
}


def plural(count: float | None, noun: str, many: str | None = None) -> str:
    """`count` (None counts as 0) with thousands separators, then `noun` in the number it takes:
    `plural(1, "user")` "1 user", `plural(1200, "user")` "1,200 users", `plural(1.5, "hour")`
    "1.5 hours". A multi-word noun inflects its last word; `many` overrides the whole plural."""
    n = count or 0
    number = f"{n:,}" if isinstance(n, int) else f"{n:,g}"
    if n == 1:
        return f"{number} {noun}"
    if many:
        return f"{number} {many}"
    head, _, last = noun.rpartition(" ")
    word = IRREGULAR.get(last) or last + "s"
    return f"{number} {head + ' ' if head else ''}{word}"
