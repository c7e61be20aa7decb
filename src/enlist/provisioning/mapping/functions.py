"""The functions of Entra's expression language: their arities and what they return.

Every function receives its arguments already evaluated (`Invocation.args`), and whether each
was written or left empty (`Invocation.written`). Null rules, following Entra's documentation:

- Most functions return null for a null input (`Append`, `Mid`, `ToLower`, `Split`, `CStr`…),
  so a mapping over a missing attribute sends nothing.
- Documented exceptions: `Left` and `Word` return "" for a null string; `Coalesce` skips nulls;
  `IsNull`/`IsNullOrEmpty`/`IsPresent`/`IsString` test for them; `Join` skips null and empty
  values (Microsoft's `Join(", ", "", [surname], [givenName])` gives "Doe, John").
- Booleans come out as the strings "True"/"False" (`Not`, `CBool`, `IsNull`, `IsSoftDeleted`…);
  `Not` gives "False" for true and "True" for anything else, as documented.

Decisions where Entra documents nothing: `Join` with nothing left to join is null (so the
attribute is not sent); `Count` of null is 0; `Not` of null is null; `Split` trims spaces
around each item (Microsoft's example shows `"a, b"` split on "," as `["a", "b"]`);
`ToLower`/`ToUpper` accept a culture and apply invariant rules; `Switch` compares its source
and keys as strings, case-sensitively, and a key `""` (or an empty key) matches a null or empty
source. `Replace` is in `enlist.provisioning.mapping.replace`. Functions Entra has and enlist
does not implement are in `UNSUPPORTED`; the parser refuses them by name.
"""

from __future__ import annotations

import base64
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from enlist.provisioning.mapping import replace, text_functions
from enlist.provisioning.mapping.errors import EvaluationError, ExpressionError
from enlist.provisioning.mapping.expression_ast import Call, Value
from enlist.provisioning.mapping.values import (
    flag,
    from_source,
    integer,
    is_empty,
    lookup,
    show,
    text,
    truth,
    values,
)


@dataclass(frozen=True, slots=True)
class Context:
    """What an evaluation reads besides the arguments: the source object and a GUID maker."""

    source: Mapping[str, Any]
    new_guid: Callable[[], str]


@dataclass(frozen=True, slots=True)
class Invocation:
    """One call being evaluated: `args` evaluated, `written[i]` False where left empty."""

    name: str
    args: tuple[Value, ...]
    written: tuple[bool, ...]
    context: Context

    def arg(self, index: int) -> Value:
        return self.args[index] if index < len(self.args) else None

    def where(self, index: int) -> str:
        return f"{self.name} argument {index + 1}"

    def text(self, index: int) -> str | None:
        return text(self.arg(index), self.where(index))

    def integer(self, index: int) -> int | None:
        return integer(self.arg(index), self.where(index))

    def values(self, index: int) -> list[str]:
        return values(self.arg(index), self.where(index))


Impl = Callable[[Invocation], Value]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A function: canonical `name`, argument count bounds, implementation and parse-time check."""

    name: str
    min_args: int
    max_args: int | None
    impl: Impl
    check: Callable[[Call], None] | None = None

    def check_call(self, call: Call) -> None:
        """Raise `ExpressionError` at the call when its arguments cannot be right."""
        count = len(call.args)
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            raise ExpressionError(
                f"{self.name} at character {call.position} takes {self._arity()}, got {count}",
                call.position,
            )
        if self.check is not None:
            self.check(call)

    def _arity(self) -> str:
        plural = "" if self.min_args == 1 else "s"
        if self.max_args is None:
            return f"at least {self.min_args} argument{plural}"
        if self.max_args == self.min_args:
            return f"{self.min_args} argument{plural}"
        return f"{self.min_args} to {self.max_args} arguments"


def _append(inv: Invocation) -> Value:
    source, suffix = inv.text(0), inv.text(1)
    return None if source is None else source + (suffix or "")


def _bit_and(inv: Invocation) -> Value:
    left, right = inv.integer(0), inv.integer(1)
    return None if left is None or right is None else left & right


def _cbool(inv: Invocation) -> Value:
    value = inv.arg(0)
    if value is None:
        return None
    condition = truth(value)
    if condition is None:
        raise EvaluationError(f"CBool cannot read {show(value)} as a Boolean")
    return flag(condition)


def _coalesce(inv: Invocation) -> Value:
    return next((value for value in inv.args if value is not None), None)


def _base64(inv: Invocation) -> Value:
    source = inv.text(0)
    return None if source is None else base64.b64encode(source.encode("utf-16-le")).decode("ascii")


def _utf8_hex(inv: Invocation) -> Value:
    source = inv.text(0)
    return None if source is None else source.encode("utf-8").hex().upper()


def _iif(inv: Invocation) -> Value:
    condition = inv.arg(0)
    if condition is None:  # Entra: "the condition check fails" on a null or empty attribute
        return None
    chosen = truth(condition)
    if chosen is None:
        raise EvaluationError(f"IIF needs a condition that is True or False, got {show(condition)}")
    return inv.arg(1) if chosen else inv.arg(2)


def _is_soft_deleted(inv: Invocation) -> Value:
    value = from_source(lookup(inv.context.source, "IsSoftDeleted"), "IsSoftDeleted")
    return flag(truth(value) is True)


def _item(inv: Invocation) -> Value:
    if inv.arg(0) is None:
        return None
    items, index = inv.values(0), inv.integer(1)
    return items[index - 1] if index is not None and 1 <= index <= len(items) else None


def _join(inv: Invocation) -> Value:
    separator = inv.text(0) or ""
    parts = [part for index in range(1, len(inv.args)) for part in inv.values(index) if part != ""]
    return separator.join(parts) if parts else None


def _left(inv: Invocation) -> Value:
    source, count = inv.text(0), inv.integer(1)
    if source is None:
        return ""
    if count is None:
        return None
    return source if count < 0 else source[:count]


def _len(inv: Invocation) -> Value:
    source = inv.text(0)
    return None if source is None else len(source)


def _mid(inv: Invocation) -> Value:
    source, start, length = inv.text(0), inv.integer(1), inv.integer(2)
    if source is None or start is None or length is None:
        return None
    if start < 1 or length < 0:
        raise EvaluationError(
            f"Mid needs a start of 1 or more and a length of 0 or more, got {start}, {length}"
        )
    return source[start - 1 : start - 1 + length]


def _not(inv: Invocation) -> Value:
    value = inv.arg(0)
    return None if value is None else flag(truth(value) is not True)


def _pcase(inv: Invocation) -> Value:
    source = inv.text(0)
    separators = inv.text(1) if inv.written[1:2] == (True,) else None
    return None if source is None else text_functions.proper_case(source, separators)


def _remove_duplicates(inv: Invocation) -> Value:
    return None if inv.arg(0) is None else list(dict.fromkeys(inv.values(0)))


def _split(inv: Invocation) -> Value:
    source, delimiter = inv.text(0), inv.text(1)
    if source is None:
        return None
    if not delimiter:
        return [source]
    return [part.strip(" ") for part in source.split(delimiter)]


def _switch(inv: Invocation) -> Value:
    source = inv.text(0) or ""
    for index in range(2, len(inv.args) - 1, 2):
        if (inv.text(index) or "") == source:
            return inv.arg(index + 1)
    return inv.arg(1)


def _word(inv: Invocation) -> Value:
    source, number, delimiters = inv.text(0), inv.integer(1), inv.text(2)
    if source is None or number is None:
        return ""
    return text_functions.word(source, number, delimiters or "")


def _string_function(apply: Callable[[str], str]) -> Impl:
    def impl(inv: Invocation) -> Value:
        source = inv.text(0)
        return None if source is None else apply(source)

    return impl


def _test(predicate: Callable[[Value], bool]) -> Impl:
    return lambda inv: flag(predicate(inv.arg(0)))


def _check_switch(call: Call) -> None:
    if len(call.args) % 2:
        raise ExpressionError(
            f"Switch at character {call.position} takes a source, a default and key/value pairs "
            f"(an even number of arguments), got {len(call.args)}",
            call.position,
        )


_SPECS = (
    FunctionSpec("Append", 2, 2, _append),
    FunctionSpec("BitAnd", 2, 2, _bit_and),
    FunctionSpec("CBool", 1, 1, _cbool),
    FunctionSpec("Coalesce", 1, None, _coalesce),
    FunctionSpec("ConvertToBase64", 1, 1, _base64),
    FunctionSpec("ConvertToUTF8Hex", 1, 1, _utf8_hex),
    FunctionSpec("Count", 1, 1, lambda inv: len(inv.values(0))),
    FunctionSpec("CStr", 1, 1, lambda inv: inv.text(0)),
    FunctionSpec("Guid", 0, 0, lambda inv: inv.context.new_guid()),
    FunctionSpec("IgnoreFlowIfNullOrEmpty", 1, 1, lambda inv: None if is_empty(inv.arg(0)) else inv.arg(0)),
    FunctionSpec("IIF", 3, 3, _iif),
    FunctionSpec("IsNull", 1, 1, _test(lambda value: value is None)),
    FunctionSpec("IsNullOrEmpty", 1, 1, _test(is_empty)),
    FunctionSpec("IsPresent", 1, 1, _test(lambda value: not is_empty(value))),
    FunctionSpec("IsSoftDeleted", 0, 0, _is_soft_deleted),
    FunctionSpec("IsString", 1, 1, _test(lambda value: isinstance(value, str))),
    FunctionSpec("Item", 2, 2, _item),
    FunctionSpec("Join", 2, None, _join),
    FunctionSpec("Left", 2, 2, _left),
    FunctionSpec("Len", 1, 1, _len),
    FunctionSpec("Mid", 3, 3, _mid),
    FunctionSpec("NormalizeDiacritics", 1, 1, _string_function(text_functions.normalize_diacritics)),
    FunctionSpec("Not", 1, 1, _not),
    FunctionSpec("PCase", 1, 2, _pcase),
    FunctionSpec("Redact", 1, 1, lambda inv: inv.arg(0)),
    FunctionSpec("RemoveDuplicates", 1, 1, _remove_duplicates),
    FunctionSpec("Replace", 7, 7, lambda inv: replace.evaluate(inv.args, inv.written), replace.check),
    FunctionSpec("Split", 2, 2, _split),
    FunctionSpec("StripSpaces", 1, 1, _string_function(lambda source: source.replace(" ", ""))),
    FunctionSpec("Switch", 4, None, _switch, _check_switch),
    FunctionSpec("ToLower", 1, 2, _string_function(text_functions.invariant_lower)),
    FunctionSpec("ToUpper", 1, 2, _string_function(text_functions.invariant_upper)),
    FunctionSpec("Word", 3, 3, _word),
)

FUNCTIONS: Mapping[str, FunctionSpec] = {spec.name.casefold(): spec for spec in _SPECS}
"""Every implemented function by case-folded name."""

UNSUPPORTED: frozenset[str] = frozenset(
    {
        "AppRoleAssignmentsComplex",
        "AssertiveAppRoleAssignmentsComplex",
        "CDate",
        "DateAdd",
        "DateDiff",
        "DateFromNum",
        "DefaultDomain",
        "FormatDateTime",
        "InStr",
        "Now",
        "NumFromDate",
        "RandomString",
        "SelectUniqueValue",
        "SingleAppRoleAssignment",
    }
)
"""Entra functions enlist recognises and refuses: role assignments have no source here, and the
date, random and uniqueness functions need a clock, a random source or the target directory."""

_UNSUPPORTED_BY_FOLDED = {name.casefold(): name for name in UNSUPPORTED}


def find(name: str) -> FunctionSpec | None:
    """The implemented function called `name` (any case), or None."""
    return FUNCTIONS.get(name.casefold())


def unsupported(name: str) -> str | None:
    """The canonical spelling when `name` is an Entra function enlist does not implement."""
    return _UNSUPPORTED_BY_FOLDED.get(name.casefold())


def suggestion(name: str) -> str | None:
    """The implemented function whose name is closest to `name`, if one is close."""
    names = {spec.name.casefold(): spec.name for spec in _SPECS}
    close = difflib.get_close_matches(name.casefold(), list(names), n=1, cutoff=0.6)
    return names[close[0]] if close else None
