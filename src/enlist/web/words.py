"""Words on the admin pages: a count with its noun agreeing ("1 user", "2 users", "1 person")."""

from __future__ import annotations

# Nouns whose plural is not the singular plus "s".
IRREGULAR = {"person": "people", "entry": "entries", "policy": "policies", "child": "children"}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` with thousands separators and the noun that agrees with it: `plural(1, "user")` is
    "1 user", `plural(1200, "user")` "1,200 users"; `plural_form` overrides the guessed plural."""
    if count == 1:
        return f"1 {singular}"
    many = plural_form or IRREGULAR.get(singular) or singular + "s"
    return f"{count:,} {many}"
