"""Scoping filters, Entra's way: which source objects are in scope for provisioning.

A `ScopingFilter` is an AND of `ScopingClause`s; several filters are OR'ed; no filters at all
puts everything in scope (Microsoft's "Scoping users or groups to be provisioned with scoping
filters"). A clause is `(attribute, operator, value)`, the attribute read case-insensitively
from the same source dict mappings read (`enlist.provisioning.mapping.source`).

Operators, spelled as Entra's portal spells them:

| operator | true when the attribute… |
| --- | --- |
| `EQUALS` / `NOT EQUALS` | is / is not exactly `value` (case-sensitive) |
| `IS TRUE` / `IS FALSE` | is the Boolean true / false (or "True"/"False" in any case) |
| `IS NULL` / `IS NOT NULL` | is / is not null or empty |
| `REGEX MATCH` / `NOT REGEX MATCH` | does / does not contain a match of the .NET pattern `value` |
| `Includes` | contains `value` (case-sensitive) |
| `ENDS_WITH` | ends with `value` (case-sensitive) |
| `Greater_Than` / `Greater_Than_OR_EQUALS` | is an integer >, >= the integer `value` |
| `&` / `!&` | is an integer with / without all the bits of the integer `value` set |

Null rule, from the same page ("Scoping filters will return false if the value is null /
empty", and `NOT REGEX MATCH` "returns false if the attribute is null / empty"): on a null or
empty attribute every clause is false except `IS NULL`, which is true. So `NOT EQUALS`, `!&` and
`IS FALSE` are false there too. Multi-valued attributes cannot be filtered (Entra: "Filtering
is not supported for multi-valued attributes"): any clause on a non-empty list is false, and an
empty list counts as empty. Values that are not integers make the integer operators false.
Booleans read as text are "True"/"False", so `EQUALS "True"` matches `accountEnabled: true`.

A REGEX MATCH that runs past the time limit of `dotnet_regex` raises `RegexTimeoutError`
(naming the clause): the object's scope is then unknown, neither in nor out, and the caller
decides what that means (the cycle skips the object).

Clauses are checked when built: an unknown operator (with the closest spelling), a regex that
does not compile or an integer operator with a non-integer value raise `ScopingError`. Operators
without a value (`IS NULL`…) ignore `value`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from enlist.provisioning.mapping.dotnet_regex import DotnetRegex, RegexError, compile_dotnet
from enlist.provisioning.mapping.errors import RegexTimeoutError, ScopingError
from enlist.provisioning.mapping.values import lookup

__all__ = [
    "ClauseResult",
    "ScopingClause",
    "ScopingError",
    "ScopingFilter",
    "ScopingOperator",
    "explain",
    "filters_from_json",
    "filters_to_json",
    "in_scope",
]

ScopingOperator = Literal[
    "EQUALS",
    "NOT EQUALS",
    "IS TRUE",
    "IS FALSE",
    "IS NULL",
    "IS NOT NULL",
    "REGEX MATCH",
    "NOT REGEX MATCH",
    "Includes",
    "ENDS_WITH",
    "Greater_Than",
    "Greater_Than_OR_EQUALS",
    "&",
    "!&",
]
OPERATORS: tuple[str, ...] = get_args(ScopingOperator)
_REGEX = frozenset({"REGEX MATCH", "NOT REGEX MATCH"})
_INTEGER = frozenset({"Greater_Than", "Greater_Than_OR_EQUALS", "&", "!&"})
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class ScopingClause:
    """One condition on one attribute; valid when built, or `ScopingError`."""

    attribute: str
    operator: ScopingOperator
    value: str = ""
    _pattern: DotnetRegex | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.attribute, str) or not self.attribute.strip():
            raise ScopingError("a scoping clause needs an attribute name")
        if self.operator not in OPERATORS:
            folded = {operator.upper(): operator for operator in OPERATORS}
            close = difflib.get_close_matches(str(self.operator).upper(), list(folded), n=1)
            hint = f"; did you mean {folded[close[0]]}?" if close else ""
            raise ScopingError(f'unknown scoping operator "{self.operator}" on {self.attribute}{hint}')
        if not isinstance(self.value, str):
            raise ScopingError(f"the value of {self.attribute} {self.operator} must be text")
        if self.operator in _REGEX:
            try:
                object.__setattr__(self, "_pattern", compile_dotnet(self.value))
            except RegexError as exc:
                raise ScopingError(
                    f'invalid regular expression "{self.value}" in {self.attribute} {self.operator}: {exc}'
                ) from None
        if self.operator in _INTEGER and not _INTEGER_TEXT.fullmatch(self.value.strip()):
            raise ScopingError(
                f'{self.attribute} {self.operator} needs a whole number as its value, got "{self.value}"'
            )

    @property
    def pattern(self) -> DotnetRegex:
        """The compiled pattern of a REGEX MATCH / NOT REGEX MATCH clause."""
        if self._pattern is None:
            raise ScopingError(f"{self.operator} has no regular expression")
        return self._pattern


@dataclass(frozen=True, slots=True)
class ScopingFilter:
    """Clauses that must all hold; `title` is the name shown in the portal."""

    clauses: tuple[ScopingClause, ...]
    title: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "clauses", tuple(self.clauses))
        if not self.clauses:
            raise ScopingError(f'scoping filter "{self.title}" has no clauses')
        if not all(isinstance(clause, ScopingClause) for clause in self.clauses):
            raise ScopingError(f'scoping filter "{self.title}" holds something that is not a clause')


@dataclass(frozen=True, slots=True)
class ClauseResult:
    """How one clause fared: which filter and clause, the value read, and why, in words."""

    filter_index: int
    clause_index: int
    clause: ScopingClause
    passed: bool
    actual: Any
    reason: str


def in_scope(filters: Sequence[ScopingFilter], source: Mapping[str, Any]) -> bool:
    """True when there are no filters, or every clause of some filter holds for `source`."""
    if not filters:
        return True
    return any(all(_evaluate(clause, source)[0] for clause in f.clauses) for f in filters)


def explain(filters: Sequence[ScopingFilter], source: Mapping[str, Any]) -> list[ClauseResult]:
    """Every clause of every filter evaluated for `source`, in order (none short-circuited), so
    the provisioning log can say which clause kept an object out of scope."""
    results: list[ClauseResult] = []
    for filter_index, scoping_filter in enumerate(filters):
        for clause_index, clause in enumerate(scoping_filter.clauses):
            passed, reason = _evaluate(clause, source)
            actual = lookup(source, clause.attribute)
            results.append(ClauseResult(filter_index, clause_index, clause, passed, actual, reason))
    return results


def _evaluate(clause: ScopingClause, source: Mapping[str, Any]) -> tuple[bool, str]:
    value = lookup(source, clause.attribute)
    op = clause.operator
    if value is None or value in ("", [], ()):
        return op == "IS NULL", f"{clause.attribute} is empty"
    if op == "IS NULL":
        return False, f"{clause.attribute} has a value"
    if op == "IS NOT NULL":
        return True, f"{clause.attribute} has a value"
    if isinstance(value, list | tuple | set | frozenset | dict):
        return False, f"{clause.attribute} is multi-valued, which scoping filters cannot test"
    if op in ("IS TRUE", "IS FALSE"):
        return _boolean(clause, value)
    if op in _INTEGER:
        return _integer(clause, value)
    text = _text(value)
    if op in _REGEX:
        try:
            found = clause.pattern.search(text) is not None
        except RegexTimeoutError as exc:
            raise RegexTimeoutError(f"scoping filter {clause.attribute} {op}: {exc}") from None
        passed = found == (op == "REGEX MATCH")
        return passed, f"{clause.attribute} {'matches' if found else 'does not match'} {clause.value}"
    checks = {
        "EQUALS": text == clause.value,
        "NOT EQUALS": text != clause.value,
        "Includes": clause.value in text,
        "ENDS_WITH": text.endswith(clause.value),
    }
    passed = checks[op]
    return passed, f'{clause.attribute} is "{text}"'


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _boolean(clause: ScopingClause, value: Any) -> tuple[bool, str]:
    text = _text(value).strip().lower()
    if text not in ("true", "false"):
        return False, f'{clause.attribute} is "{_text(value)}", not a Boolean'
    return (text == "true") == (clause.operator == "IS TRUE"), f"{clause.attribute} is {text}"


def _integer(clause: ScopingClause, value: Any) -> tuple[bool, str]:
    text = _text(value).strip()
    if isinstance(value, bool) or not _INTEGER_TEXT.fullmatch(text):
        return False, f'{clause.attribute} is "{_text(value)}", not an integer'
    actual, expected = int(text), int(clause.value.strip())
    checks = {
        "Greater_Than": actual > expected,
        "Greater_Than_OR_EQUALS": actual >= expected,
        "&": actual & expected == expected,
        "!&": actual & expected != expected,
    }
    return checks[clause.operator], f"{clause.attribute} is {actual}"


def filters_to_json(filters: Sequence[ScopingFilter]) -> list[dict[str, Any]]:
    """`filters` as JSON-ready data; `filters_from_json` gives back equal filters."""
    return [
        {
            "title": f.title,
            "clauses": [
                {"attribute": c.attribute, "operator": c.operator, "value": c.value} for c in f.clauses
            ],
        }
        for f in filters
    ]


def filters_from_json(data: Any) -> tuple[ScopingFilter, ...]:
    """The filters `filters_to_json` wrote; `ScopingError` for anything else."""
    if not isinstance(data, list):
        raise ScopingError("stored scoping filters are a list")
    filters: list[ScopingFilter] = []
    for index, item in enumerate(data):
        if (
            not isinstance(item, dict)
            or set(item) != {"title", "clauses"}
            or not isinstance(item["clauses"], list)
        ):
            raise ScopingError(f"stored scoping filter {index} is not an object with a title and clauses")
        if not isinstance(item["title"], str):
            raise ScopingError(f"stored scoping filter {index} has a title that is not text")
        clauses: list[ScopingClause] = []
        for clause in item["clauses"]:
            if not isinstance(clause, dict) or set(clause) != {"attribute", "operator", "value"}:
                raise ScopingError(
                    f"stored scoping filter {index} has a clause without attribute, operator, value"
                )
            clauses.append(ScopingClause(clause["attribute"], clause["operator"], clause["value"]))
        filters.append(ScopingFilter(tuple(clauses), item["title"]))
    return tuple(filters)
