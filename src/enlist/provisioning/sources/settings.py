"""A source's settings every kind shares, and `source set KEY=VALUE` parsing.

Kind-specific keys (a file source's `path`, a Graph source's `tenant_id`, `client_id`,
`graph_url`, `login_url`, filters…) are kept as given in the same JSON document; the reader of
the kind reads them. Secrets (`client_secret`, `certificate`) never go here: they are sealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECRET_KEYS = frozenset({"client_secret", "certificate", "bind_password"})
GRAPH_CREDENTIALS = frozenset({"client_secret", "certificate"})  # a Graph source has one of the two
_BOOLS = {
    "true": True,
    "on": True,
    "yes": True,
    "1": True,
    "false": False,
    "off": False,
    "no": False,
    "0": False,
}


# A read at most every year (the scheduler adds the interval to a date: a larger one overflows it),
# and a threshold a 32-bit column and any tenant can hold.
_BOUNDS = {"interval_minutes": (1, 366 * 24 * 60), "deletion_threshold": (0, 2**31 - 1)}


@dataclass(frozen=True, slots=True)
class SourceSettings:
    deletion_threshold: int = 500  # a round removing more objects is held (0: no limit)
    start_cycles_after_read: bool = True

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> SourceSettings:
        return cls(
            deletion_threshold=int(document.get("deletion_threshold", 500)),
            start_cycles_after_read=bool(document.get("start_cycles_after_read", True)),
        )


def parse_value(key: str, value: str) -> Any:
    """The JSON value `source set` stores for `key=value`; raises ValueError for a bad one."""
    if key in {"deletion_threshold", "interval_minutes"}:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{key} must be a whole number, not {value!r}") from None
        low, high = _BOUNDS[key]
        if not low <= number <= high:
            raise ValueError(f"{key} must be from {low} to {high:,}, not {value}")
        return number
    if key == "start_cycles_after_read":
        if value.casefold() not in _BOOLS:
            raise ValueError(f"{key} must be true or false, not {value!r}")
        return _BOOLS[value.casefold()]
    if key == "filters":
        return [part.strip() for part in value.split(",") if part.strip()]
    return value
