"""Configuration documents both services share: reading JSON or YAML text safely, writing it the
same way every time, and checking a parsed document's shape key by key.

A document is plain data (dicts, lists, text, numbers, booleans, null). `DocumentError` names
the path at fault in the document's own spelling (`mappings.users.attributes[3].source`), so one
line tells a person where to look. The checks here refuse unknown keys and missing keys alike:
an exported document always has every key, so a missing one is a mistake, not a default.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, Literal

Format = Literal["json", "yaml"]
FORMATS: tuple[Format, ...] = ("json", "yaml")


class DocumentError(ValueError):
    """A document that cannot be applied; `path` names the key at fault. Nothing was changed."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


def dump(data: Any, fmt: Format) -> str:
    """`data` as text, the same bytes for the same data: keys in the order given (the document
    modules give a fixed order), two-space indents, UTF-8 text kept as it is, a final newline."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    import yaml  # noqa: PLC0415 (only a YAML document needs it; `--help` stays light)

    # No line wrapping: a long expression stays on one line, so a git diff shows the one row.
    written: str = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1_000_000
    )
    return written


def load(text: str) -> Any:
    """Parse a document: JSON when it starts with `{`, else YAML through `yaml.safe_load` (which
    builds only plain data, never Python objects). `DocumentError` when it does not parse."""
    import yaml  # noqa: PLC0415 (as in `dump`)

    class _Loader(yaml.SafeLoader):
        """`SafeLoader` that refuses a key given twice in one mapping (PyYAML keeps the last, so
        a reviewed line could be silently overridden by one further down)."""

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                raise DocumentError("", f"{key!r} is given twice (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return loader.construct_mapping(node)

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text, object_pairs_hook=_unique_keys)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass: plain data only)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except yaml.YAMLError as exc:
        raise DocumentError("", f"not valid YAML: {exc}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (as the YAML loader does)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise DocumentError("", f"{key!r} is given twice")
        data[key] = value
    return data


def join(path: str, key: str | int) -> str:
    """`path` and `key` as the document spells it: `a.b`, `a[3]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def exact_keys(data: Any, keys: Sequence[str], path: str) -> dict[str, Any]:
    """`data` itself when it is an object with exactly `keys`; else `DocumentError` naming the
    first missing or unknown key (unknown: with the keys that belong there)."""
    where = path or "the document"
    if not isinstance(data, dict):
        raise DocumentError(path, f"must be an object with {', '.join(keys)}, not {kind_of(data)}")
    for key in data:
        if not isinstance(key, str) or key not in keys:
            raise DocumentError(
                join(path, str(key)), f"unknown key; the keys of {where} are {', '.join(keys)}"
            )
    for key in keys:
        if key not in data:
            raise DocumentError(join(path, key), "missing")
    return data


def kind_of(value: Any) -> str:
    """The JSON name of `value`'s type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def text(value: Any, path: str, *, nullable: bool = False) -> Any:
    """`value` when it is text (or null, when `nullable`); else `DocumentError`."""
    if isinstance(value, str) or (nullable and value is None):
        return value
    raise DocumentError(path, f"must be text{' or null' if nullable else ''}, not {kind_of(value)}")


def text_list(value: Any, path: str) -> list[str]:
    """A list of text, each item non-empty and different from the others (case-insensitively)."""
    if not isinstance(value, list):
        raise DocumentError(path, f"must be a list, not {kind_of(value)}")
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise DocumentError(join(path, index), f"must be non-empty text, not {kind_of(item)}")
        if item.casefold() in seen:
            raise DocumentError(join(path, index), f"{item!r} is listed twice")
        seen.add(item.casefold())
    return value


def like(value: Any, default: Any, path: str) -> Any:
    """`value` checked against the type of `default` (a setting's default value): a boolean for
    a boolean, a whole number for an int, any finite number for a float (given as a float), text
    for text, a list for a tuple or list, an object for a dict; a None default takes anything."""
    if default is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        value = float(value) if ok else value
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list | tuple):
        ok = isinstance(value, list)
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
    else:
        ok = type(value) is type(default)
    if not ok:
        raise DocumentError(path, f"must be {_expected(default)}, not {kind_of(value)}")
    return value


def _expected(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    return kind_of([] if isinstance(default, tuple) else default)


def setting_text(value: Any) -> str:
    """A checked scalar as the `KEY=VALUE` text the settings parsers read."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if value is None:
        return ""
    return str(value)
