"""Words on the admin pages: a count with its noun agreeing ("1 user", "2 users", "1 person")."""

from __future__ import annotations

# Nouns whose plural is not the singular plus "s".
IRREGULAR = {"person": "people", "entry": "entries", "policy": "policies", "child": "children"}


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun that agrees with it: `plural(1, "user")` is "1 user",
    `plural(1200, "user")` "1,200 users", `plural(1.5, "hour")` "1.5 hours"; `plural_form`
    overrides the guessed plural (the singular plus "s", or `IRREGULAR`'s)."""
    number = f"{count:,}" if isinstance(count, int) else f"{count:,g}"
    if count == 1:
        return f"{number} {singular}"
    return f"{number} {plural_form or IRREGULAR.get(singular) or singular + 's'}"
