"""How expression values convert, Entra's way: the helpers every function uses.

- A source attribute becomes a `Value` through `from_source`: strings, booleans and integers as
  they are, lists as lists of strings (nulls dropped; an empty list is null), other numbers as
  text. Objects are refused: expressions read attributes, not documents.
- `text` is how a function reads a single string: `True`/`False` for booleans (.NET's
  `Boolean.ToString`), decimal digits for integers; a one-element list is its element.
- `truth` reads a condition: booleans, "True"/"False" in any case, or an integer (non-zero is
  true, as `CBool` documents); anything else is not a condition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from enlist.provisioning.mapping.errors import EvaluationError
from enlist.provisioning.mapping.expression_ast import Value

TRUE = "True"
FALSE = "False"

_INTEGER = re.compile(r"-?[0-9]{1,18}")


def flag(condition: bool) -> str:
    """A boolean as it flows through Entra's functions: the string "True" or "False"."""
    return TRUE if condition else FALSE


def lookup(source: Mapping[str, Any], name: str) -> Any:
    """The attribute `name` of `source`, matched case-insensitively; None when absent."""
    if name in source:
        return source[name]
    folded = name.casefold()
    return next((value for key, value in source.items() if key.casefold() == folded), None)


def from_source(value: Any, name: str) -> Value:
    """A source attribute's value as an expression `Value` (see the module docstring)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_item_text(item, name) for item in value if item is not None]
        return items or None
    raise EvaluationError(
        f"attribute [{name}] holds {type(value).__name__} data, which expressions cannot read"
    )


def _item_text(item: Any, name: str) -> str:
    value = from_source(item, name)
    if isinstance(value, list):
        raise EvaluationError(f"attribute [{name}] holds nested lists, which expressions cannot read")
    single = text(value, f"[{name}]")
    assert single is not None  # `item` was not None
    return single


def text(value: Value, where: str) -> str | None:
    """`value` as one string, or None when null; `where` names the reader in error messages."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, int):
        return str(value)
    if len(value) == 1:
        return value[0]
    raise EvaluationError(f"{where} expects a single value, got a list of {len(value)}")


def values(value: Value, where: str) -> list[str]:
    """`value` as a list of strings: a list as is, a single value as one item, null as none."""
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    single = text(value, where)
    return [] if single is None else [single]


def integer(value: Value, where: str) -> int | None:
    """`value` as an integer (an int or decimal digits), None when null; else EvaluationError."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    written = text(value, where)
    if written is not None and _INTEGER.fullmatch(written.strip()):
        return int(written)
    raise EvaluationError(f"{where} expects a whole number, got {show(value)}")


def truth(value: Value) -> bool | None:
    """`value` read as a condition (see the module docstring); None when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if value is None:
        return None
    folded = value.strip().lower()
    if folded in ("true", "false"):
        return folded == "true"
    if _INTEGER.fullmatch(folded):
        return int(folded) != 0
    return None


def is_empty(value: Value) -> bool:
    """Null, the empty string or the empty list."""
    return value is None or value in ("", [])


def show(value: Value) -> str:
    """`value` as an error message quotes it."""
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'"{shown}"'
    return repr(value)
