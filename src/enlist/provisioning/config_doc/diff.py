"""What importing a document would change, as lines a person reviews (pure).

`diff_documents(before, after)` compares two documents as `AppDocument.to_data` writes them
(`before` None: the application does not exist yet) and returns `Change`s in document order:
settings key by key, mapping rows by target, assignments by name, scoping filters by position.
An empty list means the import changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["+", "-", "~"]


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: `+` added, `-` removed, `~` changed from `before` to `after`."""

    op: Op
    path: str
    before: Any = None
    after: Any = None

    def line(self) -> str:
        if self.op == "+":
            return f"+ {self.path}: {show(self.after)}"
        if self.op == "-":
            return f"- {self.path}: {show(self.before)}"
        return f"~ {self.path}: {show(self.before)} -> {show(self.after)}"

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "path": self.path, "before": self.before, "after": self.after}


def show(value: Any) -> str:
    """A value on one line: text quoted as JSON, a mapping row as `kind source (flags)`."""
    if isinstance(value, dict) and "kind" in value and "source" in value:
        return _row(value)
    if isinstance(value, dict) and "clauses" in value:
        clauses = " AND ".join(
            " ".join([c["attribute"], c["operator"]] + ([_quoted(c["value"])] if c["value"] else []))
            for c in value["clauses"]
        )
        return f"{json.dumps(value['title'], ensure_ascii=False)}: {clauses}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _row(row: dict[str, Any]) -> str:
    source = _quoted(row["source"]) if row["kind"] == "constant" else row["source"]
    flags = []
    if row.get("apply") == "on_create":
        flags.append("on create only")
    if row.get("matching_precedence") is not None:
        flags.append(f"matching {row['matching_precedence']}")
    if row.get("default_if_null") is not None:
        flags.append(f"default {json.dumps(row['default_if_null'], ensure_ascii=False)}")
    described = f"{row['kind']} {source}" if row["kind"] != "none" else "none"
    return described + (f" ({', '.join(flags)})" if flags else "")


def diff_documents(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """Every difference between `before` and `after`, in document order."""
    if before is None:
        return [Change("+", "application", after=after["name"]), *_all(after)]
    return list(_differences(before, after))


def _all(after: dict[str, Any]) -> Iterator[Change]:
    """A new application: everything it will have, as additions."""
    empty: dict[str, Any] = {
        "name": after["name"],
        "connection": {"tenant_url": None},
        "provisioning_status": "off",
        "settings": {},
        "scoping_filters": [],
        "mappings": {
            "users": {"enabled": None, "attributes": []},
            "groups": {"enabled": None, "attributes": []},
        },
        "assignments": {"users": [], "groups": []},
    }
    return _differences(empty, after)


def _differences(before: dict[str, Any], after: dict[str, Any]) -> Iterator[Change]:
    if before["name"] != after["name"]:
        yield Change("~", "name", before["name"], after["name"])
    yield from _scalar(
        "connection.tenant_url", before["connection"]["tenant_url"], after["connection"]["tenant_url"]
    )
    yield from _scalar("provisioning_status", before["provisioning_status"], after["provisioning_status"])
    for key, value in after["settings"].items():
        if key not in before["settings"]:
            yield Change("+", f"settings.{key}", after=value)
        else:
            yield from _scalar(f"settings.{key}", before["settings"][key], value)
    yield from _filters(before["scoping_filters"], after["scoping_filters"])
    for kind in ("users", "groups"):
        old, new = before["mappings"][kind], after["mappings"][kind]
        yield from _scalar(f"mappings.{kind}.enabled", old["enabled"], new["enabled"])
        yield from _rows(f"mappings.{kind}.attributes", old["attributes"], new["attributes"])
    for kind in ("users", "groups"):
        yield from _names(f"assignments.{kind}", before["assignments"][kind], after["assignments"][kind])


def _scalar(path: str, before: Any, after: Any) -> Iterator[Change]:
    if before == after:
        return
    if before is None:
        yield Change("+", path, after=after)
    elif after is None:
        yield Change("-", path, before=before)
    else:
        yield Change("~", path, before, after)


def _filters(before: list[Any], after: list[Any]) -> Iterator[Change]:
    for index in range(max(len(before), len(after))):
        old = before[index] if index < len(before) else None
        new = after[index] if index < len(after) else None
        yield from _scalar(f"scoping_filters[{index}]", old, new)


def _rows(path: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> Iterator[Change]:
    old = {row["target"].casefold(): row for row in before}
    new = {row["target"].casefold(): row for row in after}
    for key, row in old.items():
        if key not in new:
            yield Change("-", f"{path}[{row['target']}]", before=row)
    for key, row in new.items():
        if key not in old:
            yield Change("+", f"{path}[{row['target']}]", after=row)
        elif old[key] != row:
            yield Change("~", f"{path}[{row['target']}]", old[key], row)
    kept_old = [row["target"] for row in before if row["target"].casefold() in new]
    kept_new = [row["target"] for row in after if row["target"].casefold() in old]
    if [t.casefold() for t in kept_old] != [t.casefold() for t in kept_new]:
        yield Change("~", f"{path} order", kept_old, kept_new)


def _names(path: str, before: list[str], after: list[str]) -> Iterator[Change]:
    old = {name.casefold(): name for name in before}
    new = {name.casefold(): name for name in after}
    for key, name in old.items():
        if key not in new:
            yield Change("-", path, before=name)
    for key, name in new.items():
        if key not in old:
            yield Change("+", path, after=name)
