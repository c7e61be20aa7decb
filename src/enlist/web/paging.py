"""Keyset paging for admin tables: pages stay as fast at row 1,000,000 as at row 1.

A page is asked for with an opaque cursor (the sort key of the last row shown); the query reads
`size + 1` rows after it, in index order, so it never counts or skips rows. The total, where a
page shows one, comes from a separate bounded count.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

import orjson

from enlist.web.params import INT64_MAX, storable

T = TypeVar("T")
PAGE_SIZE = 50
CursorKey = list[str | int | float | None]


def encode_cursor(key: CursorKey) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> CursorKey | None:
    """The key a cursor holds, or None for a missing or tampered cursor (the first page)."""
    if not cursor or len(cursor) > 1000:
        return None
    try:
        value = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        return None
    if not isinstance(value, list) or not all(_storable(v) for v in value):
        return None
    return value


def _storable(value: object) -> bool:
    """A key part both databases can compare: an integer within 64 bits (orjson reads up to
    2^64 - 1), finite float, text without NUL, or null."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -INT64_MAX - 1 <= value <= INT64_MAX
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or (isinstance(value, str) and storable(value))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    is_first: bool
    total: int | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    def next_query(self, params: dict[str, str]) -> str:
        """The query string of the next page: the current filters plus its cursor."""
        return urlencode(
            {**{k: v for k, v in params.items() if v and k != "after"}, "after": self.next_cursor or ""}
        )

    def first_query(self, params: dict[str, str]) -> str:
        return urlencode({k: v for k, v in params.items() if v and k != "after"})


def page_of(
    rows: list[T], size: int, is_first: bool, key_of: Callable[[T], CursorKey], total: int | None = None
) -> Page[T]:
    """Cut `size + 1` fetched rows into a page; the extra row only says there is a next page."""
    shown = rows[:size]
    more = len(rows) > size
    return Page(shown, encode_cursor(key_of(shown[-1])) if more and shown else None, is_first, total)
