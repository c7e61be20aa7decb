"""Header values the engine sends are checked before they go: no CR, LF or NUL, ever.

A value with a line break would end the header line and start another (header injection: a
Secret token `abc\\r\\nX-Admin: yes` adds a header of the attacker's choosing); NUL is refused by
RFC 9110 §5.5 and cut short by some servers. The check is one function, used when a Secret token
is given to `ScimTarget` (so an application cannot be saved with such a token) and again on
every request a transport sends, whoever built its headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["UnsafeHeaderError", "check_header_value", "check_headers"]

_FORBIDDEN = re.compile(r"[\r\n\x00]")
_TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 §5.6.2, a field name


class UnsafeHeaderError(ValueError):
    """A header name or value that cannot be sent as it is; the message never shows the value."""


def check_header_value(name: str, value: str) -> str:
    """`value`, unchanged, when it can be sent as header `name`; else `UnsafeHeaderError`."""
    if not _TOKEN_CHARS.match(name):
        raise UnsafeHeaderError(f"{name!r} is not a valid header name")
    found = _FORBIDDEN.search(value)
    if found:
        what = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\x00": "a NUL character"}
        raise UnsafeHeaderError(
            f"the {name} header's value contains {what[found.group()]} at position {found.start()}, "
            "which would split the request's header; nothing was sent"
        )
    return value


def check_headers(headers: Mapping[str, str]) -> None:
    """`check_header_value` for every header."""
    for name, value in headers.items():
        check_header_value(name, value)
