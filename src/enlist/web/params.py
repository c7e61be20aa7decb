"""Query parameters, read with bounds in one place by every route of both services.

A route names each parameter it reads with a small typed kind (`Integer`, `Choice`,
`Timestamp`, `Text`) and calls `read(query, name, kind)`. A missing or blank parameter is None;
a value outside the kind raises `ParameterError`, whose message says what is allowed
(`limit must be an integer from 1 to 1000, not '1e3'`). Each route turns that into a 400 in its
own format: a SCIM Error under /scim, `{"error": …}` under /api, a message on an admin page.

Why bounds everywhere: a value the database cannot hold (an integer past 2^63, a date past year
9999 once moved to UTC, a NUL in text for PostgreSQL) used to escape as a 500, and a value the
route did not expect (`limit=-1`) silently changed what it answered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

INT64_MAX = 2**63 - 1
"""The largest integer both databases store; no count, id or offset may pass it."""

_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")  # ASCII only: int() takes '1_0' and other scripts' digits
_SHOWN = 40


class ParameterError(ValueError):
    """A query parameter outside what its route allows; `str()` is the sentence to show."""

    def __init__(self, name: str, allowed: str, given: object) -> None:
        self.name = name
        self.allowed = allowed
        shown = repr(given)
        shown = shown if len(shown) <= _SHOWN else shown[: _SHOWN - 3] + "..."
        super().__init__(f"{name} must be {allowed}, not {shown}")


class Kind(Protocol[T_co]):
    """What a parameter may be: `parse` turns its text into a value or raises `ParameterError`."""

    def parse(self, name: str, text: str) -> T_co: ...


@dataclass(frozen=True, slots=True)
class Integer:
    """A base-10 integer from `minimum` to `maximum`, both included."""

    minimum: int
    maximum: int

    @property
    def allowed(self) -> str:
        return f"an integer from {self.minimum} to {self.maximum}"

    def parse(self, name: str, text: str) -> int:
        if not _INTEGER.fullmatch(text.strip()) or not self.minimum <= int(text) <= self.maximum:
            raise ParameterError(name, self.allowed, text)  # as sent: '-1', not -1
        return int(text)

    def bound(self, name: str, value: int) -> int:
        """`value` itself if it is within the bounds (for integers that come parsed, in JSON)."""
        if isinstance(value, bool) or not self.minimum <= value <= self.maximum:
            raise ParameterError(name, self.allowed, value)
        return value


@dataclass(frozen=True, slots=True)
class Choice:
    """One of a fixed set of words, compared exactly."""

    values: tuple[str, ...]

    @property
    def allowed(self) -> str:
        return "one of " + ", ".join(self.values)

    def parse(self, name: str, text: str) -> str:
        if text not in self.values:
            raise ParameterError(name, self.allowed, text)
        return text


@dataclass(frozen=True, slots=True)
class Timestamp:
    """An ISO 8601 date or date and time; without an offset it is UTC. Always returned in UTC,
    so it compares with stored times on both databases."""

    allowed: str = "an ISO 8601 date and time, for example 2026-11-27T09:00"

    def parse(self, name: str, text: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text.strip())
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        except (ValueError, OverflowError):  # OverflowError: 9999-12-31T23:00-05:00 in UTC
            raise ParameterError(name, self.allowed, text) from None


@dataclass(frozen=True, slots=True)
class Text:
    """Text of at most `max_length` characters, without NUL or lone surrogates (which
    PostgreSQL cannot take). Returned stripped."""

    max_length: int

    @property
    def allowed(self) -> str:
        return f"text of at most {self.max_length} characters, without NUL"

    def parse(self, name: str, text: str) -> str:
        value = text.strip()
        if len(value) > self.max_length or not storable(value):
            raise ParameterError(name, self.allowed, text)
        return value


def storable(text: str) -> bool:
    """Whether both databases can store and compare `text` (no NUL, no lone surrogate)."""
    return not any(c == "\0" or "\ud800" <= c <= "\udfff" for c in text)


def read(query: Mapping[str, str], name: str, kind: Kind[T]) -> T | None:
    """The parameter `name` of `query` as `kind` says, None when it is missing or blank."""
    text = query.get(name)
    if text is None or not text.strip():
        return None
    return kind.parse(name, text)


def read_or(query: Mapping[str, str], name: str, kind: Kind[T], default: T) -> T:
    """`read`, with `default` for a missing or blank parameter."""
    found = read(query, name, kind)
    return default if found is None else found
