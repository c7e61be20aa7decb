"""Attribute values as a person reads them, never as the JSON they arrived in.

`readable` turns any value a SCIM document can hold into lines of plain text: an address as an
address (`1 Main St, Redmond, WA 98052, US (work, primary)`), an email or phone number with its
type and primary marker (`pat@contoso.example (work, primary)`), a boolean as yes/no, a list one
line per item, any other object as `key: value` pairs. The Profile, the sync log's attribute
changes and the user's history all show values through it. `attribute_parts` cuts an attribute
name (`urn:…:User:employeeNumber`, `name.givenName`) after each `:` and `.`, the only places a
page may break it, so a narrow column never splits a word ("employeeNumbe r").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The sub-attributes of RFC 7643 §4.1.2 `addresses`, in the order an address is written.
ADDRESS_PARTS = ("streetAddress", "locality", "region", "postalCode", "country")
# The sub-attributes a typed value's line is made of; `$ref` is the URL of the `value` itself.
_TYPED_KNOWN = frozenset({"value", "display", "displayName", "type", "primary", "$ref"})
_BREAK_AFTER = re.compile(r"(?<=[:.])")


def readable(value: Any) -> list[str]:
    """`value` as lines of text, none of them JSON; nothing at all for a missing value."""
    if value is None:
        return []
    if isinstance(value, list):
        return [line for item in value for line in _one_line(item)]
    return _one_line(value)


def shown(value: Any) -> str:
    """`readable(value)` on one line, items separated by semicolons (for tables and titles)."""
    return "; ".join(readable(value))


def _one_line(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, int | float):
        return [f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else str(value)]
    if isinstance(value, Mapping):
        return [_complex(value)]
    if isinstance(value, list):
        return [", ".join(line for item in value for line in _one_line(item))]
    return [str(value)]


def _complex(item: Mapping[str, Any]) -> str:
    """One complex value: an address, a typed value (email, phone…), else its pairs."""
    qualifiers = _qualifiers(item)
    if any(k in item for k in (*ADDRESS_PARTS, "formatted")) and "value" not in item:
        text = _address(item)
    elif "value" in item:
        text = shown(item["value"])
        display = item.get("display") or item.get("displayName")
        if display and display != text:
            text = f"{display} · {text}" if text else str(display)
    else:
        return ", ".join(f"{key}: {shown(sub)}" for key, sub in item.items() if sub not in (None, "", []))
    return f"{text} ({', '.join(qualifiers)})" if qualifiers else text


def _qualifiers(item: Mapping[str, Any]) -> list[str]:
    found = []
    if isinstance(item.get("type"), str) and item["type"]:
        found.append(item["type"])
    if item.get("primary") is True:
        found.append("primary")
    return found


def _address(item: Mapping[str, Any]) -> str:
    """An address as it is written on an envelope, on one line: the parts the client sent, else
    its `formatted` text (the parts first; `formatted` too when it says something else)."""
    street = ", ".join(str(item.get("streetAddress") or "").splitlines())
    region = " ".join(str(item.get(k) or "") for k in ("region", "postalCode")).strip()
    parts = ", ".join(
        p for p in (street, str(item.get("locality") or ""), region, str(item.get("country") or "")) if p
    )
    formatted = ", ".join(
        line.strip() for line in str(item.get("formatted") or "").splitlines() if line.strip()
    )
    if parts and formatted and _letters(formatted) != _letters(parts):
        return f"{parts} — {formatted}"  # the two disagree: show both rather than choose
    return parts or formatted


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def members_by_name(ids: list[str], people: Mapping[str, str]) -> list[str]:
    """Member ids in the order of their names (case-insensitive), ids no user has any more last."""
    return sorted(ids, key=lambda i: (i not in people, people.get(i, "").casefold(), i))


def short_attribute(name: str) -> str:
    """An attribute name without its extension schema's URN (`urn:…:User:badge` → `badge`):
    what fits a table cell; the full name goes in a title or on the entry's page."""
    return name.rsplit(":", 1)[-1] if name.startswith("urn:") else name


def attribute_parts(name: str) -> list[str]:
    """An attribute name cut after each `:` and `.`: the pieces a page may put on separate lines."""
    return [part for part in _BREAK_AFTER.split(name) if part]
