"""Parse SCIM filters, PATCH paths and attribute lists into `filter_ast` trees, and evaluate filters.

- `parse_filter` reads the RFC 7644 §3.4.2.2 grammar, plus what Entra and Microsoft's SCIM
  validator send: operators and keywords in any case, and unquoted values (`externalId eq jyoung`)
  that become a number, `true`/`false`/`null` or else the word itself as a string.
  `not` binds tighter than `and`, which binds tighter than `or`; chains are left-associative.
  Entra's `emails[type eq "work"].value eq "x"` becomes
  `ValueFilter(emails, And(type eq "work", value eq "x"))`.
- `parse_path` reads a §3.5.2 PATCH path: `attr`, `attr[filter]` or `attr[filter].sub`.
- `parse_attribute_list` reads `attributes=` / `excludedAttributes=`; `emails[type eq "work"]`
  names `emails` (the filter is ignored) and `emails[…].value` names `emails.value`.
- `matches` evaluates a filter against a SCIM JSON document in memory.

The parsers raise only `FilterSyntaxError` (a `ValueError`) on bad input: its `position` is the
0-based offset where something else was expected. Hostile input is bounded: at most
`MAX_LENGTH` characters, `MAX_DEPTH` nested brackets or parentheses, and `MAX_LOGICAL_OPERATORS`
`and`/`or`, so trees stay shallow enough for every recursive consumer. Pure: no I/O.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard, get_args

from enlist.scim.filter_ast import (
    And,
    AttrPath,
    Compare,
    CompareOp,
    Filter,
    Not,
    Or,
    PatchPath,
    Present,
    Value,
    ValueFilter,
)
from enlist.scim.filter_lexer import FilterSyntaxError, Token, tokenize

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_LOGICAL_OPERATORS",
    "FilterSyntaxError",
    "matches",
    "parse_attribute_list",
    "parse_filter",
    "parse_path",
]

MAX_LENGTH = 4096
MAX_DEPTH = 32
MAX_LOGICAL_OPERATORS = 100

_COMPARE_OPS: dict[str, CompareOp] = {op: op for op in get_args(CompareOp)}
_KEYWORDS = frozenset({"and", "or", "not"})
_LITERALS: dict[str, Value] = {"true": True, "false": False, "null": None}
_NAME = re.compile(r"\$ref|[A-Za-z][A-Za-z0-9_-]*", re.IGNORECASE)
_SCHEMA = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*(?::[^:]+)+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def parse_filter(text: str) -> Filter:
    """The filter `text` (a `filter=` query parameter, already URL-decoded) as a tree."""
    parser = _Parser(text, "filter")
    result = parser.or_expression()
    parser.expect_end('"and", "or"')
    return result


def parse_path(text: str) -> PatchPath:
    """The PATCH `path` `text` as a `PatchPath`."""
    parser = _Parser(text, "path")
    attr, value_filter, sub = parser.path()
    if value_filter is None:
        parser.expect_end('"["')
    else:
        parser.expect_end('".name" right after "]"' if sub is None else None)
    return PatchPath(attr, value_filter, sub)


def parse_attribute_list(text: str) -> list[AttrPath]:
    """The comma-separated paths of `attributes=` / `excludedAttributes=`, empty items skipped."""
    parser = _Parser(text, "attribute list", commas=True)
    paths: list[AttrPath] = []
    while parser.token.kind != "end":
        if parser.token.kind == ",":
            parser.advance()
            continue
        attr, _, sub = parser.path()
        paths.append(AttrPath(attr.schema, attr.name, sub) if sub else attr)
        if parser.token.kind not in (",", "end"):
            raise parser.fail('"," or the end of the attribute list')
    return paths


class _Parser:
    """Recursive descent over the tokens; one instance parses one text."""

    def __init__(self, text: str, noun: str, *, commas: bool = False) -> None:
        if len(text) > MAX_LENGTH:
            raise FilterSyntaxError(
                f"the {noun} is longer than {MAX_LENGTH} characters at character {MAX_LENGTH}",
                MAX_LENGTH,
            )
        self.noun = noun
        self.tokens = tokenize(text, commas=commas)
        self.index = 0
        self.depth = 0
        self.logical_operators = 0
        self.in_value_filter = False

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at_keyword(self, keyword: str) -> bool:
        return self.token.kind == "word" and self.token.text.lower() == keyword

    def fail(self, expected: str, prefix: str = "") -> FilterSyntaxError:
        token = self.token
        return FilterSyntaxError(
            f"{prefix}expected {expected} at character {token.pos}, found {token.describe(self.noun)}",
            token.pos,
        )

    def expect_end(self, alternatives: str | None) -> None:
        token = self.token
        if token.kind in {")", "]"}:
            raise FilterSyntaxError(
                f'unexpected "{token.text}" at character {token.pos}: nothing is open to close',
                token.pos,
            )
        if token.kind != "end":
            either = f"{alternatives} or " if alternatives else ""
            raise self.fail(f"{either}the end of the {self.noun}")

    def enter(self, opening: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterSyntaxError(
                f"the {self.noun} nests deeper than {MAX_DEPTH} levels at character {opening.pos}",
                opening.pos,
            )

    # filter := or_expression; or_expression := and_expression ("or" and_expression)*
    def or_expression(self) -> Filter:
        result = self.and_expression()
        while self.at_keyword("or"):
            self.logical_operator()
            result = Or(result, self.and_expression())
        return result

    def and_expression(self) -> Filter:
        result = self.unary()
        while self.at_keyword("and"):
            self.logical_operator()
            result = And(result, self.unary())
        return result

    def logical_operator(self) -> None:
        token = self.advance()
        self.logical_operators += 1
        if self.logical_operators > MAX_LOGICAL_OPERATORS:
            raise FilterSyntaxError(
                f"the {self.noun} joins more than {MAX_LOGICAL_OPERATORS} conditions with "
                f'"and"/"or" at character {token.pos}',
                token.pos,
            )

    # unary := "not" "(" or_expression ")" | "(" or_expression ")" | attribute_expression
    def unary(self) -> Filter:
        if self.at_keyword("not"):
            keyword = self.advance()
            if self.token.kind != "(":
                raise self.fail(f'"(" after "{keyword.text}"')
            return Not(self.parenthesized())
        if self.token.kind == "(":
            return self.parenthesized()
        return self.attribute_expression()

    def parenthesized(self) -> Filter:
        opening = self.advance()
        self.enter(opening)
        result = self.or_expression()
        if self.token.kind != ")":
            raise self.fail('"and", "or" or ")"', f'unbalanced "(" at character {opening.pos}: ')
        self.advance()
        self.depth -= 1
        return result

    # attribute_expression := path ("pr" | op value) | path "[" filter "]" ["." name ("pr" | op value)]
    def attribute_expression(self) -> Filter:
        token = self.token
        if token.kind != "word" or token.text.lower() in _KEYWORDS:
            raise self.fail("an attribute path")
        self.advance()
        attr = _attr_path(token)
        if self.token.kind != "[":
            return self.condition(attr, token.text)
        inner = self.value_filter(attr, token)
        sub = self.sub_after_bracket()
        if sub is None:
            return ValueFilter(attr, inner)
        sub_path = AttrPath(None, _name(sub.text[1:], sub.pos + 1))
        return ValueFilter(attr, And(inner, self.condition(sub_path, sub.text[1:])))

    def value_filter(self, attr: AttrPath, attr_token: Token) -> Filter:
        opening = self.token
        if self.in_value_filter:
            raise FilterSyntaxError(
                f'unexpected "[" at character {opening.pos}: value filters do not nest', opening.pos
            )
        if attr.sub is not None:
            raise FilterSyntaxError(
                f'unexpected "[" at character {opening.pos}: a value filter follows an attribute, '
                f'not the sub-attribute "{attr_token.text}"',
                opening.pos,
            )
        self.advance()
        self.enter(opening)
        self.in_value_filter = True
        result = self.or_expression()
        if self.token.kind != "]":
            raise self.fail('"and", "or" or "]"', f'unbalanced "[" at character {opening.pos}: ')
        self.advance()
        self.in_value_filter = False
        self.depth -= 1
        return result

    def sub_after_bracket(self) -> Token | None:
        """The `.sub` word written right after a `]`, consumed; None when there is none."""
        token, closing = self.token, self.tokens[self.index - 1]
        if token.kind == "word" and token.text.startswith(".") and token.pos == closing.pos + 1:
            return self.advance()
        return None

    def condition(self, attr: AttrPath, after: str) -> Compare | Present:
        token = self.token
        op = token.text.lower() if token.kind == "word" else ""
        if op == "pr":
            self.advance()
            return Present(attr)
        if op not in _COMPARE_OPS:
            raise self.fail(f'an operator after "{after}"')
        self.advance()
        value = self.token
        if value.kind == "string":
            self.advance()
            return Compare(attr, _COMPARE_OPS[op], value.value)
        if value.kind == "word" and value.text.lower() not in _KEYWORDS:
            self.advance()
            return Compare(attr, _COMPARE_OPS[op], _bare_value(value))
        raise self.fail(f'a value after "{token.text}"')

    # path := path_word ["[" filter "]" ["." name]]
    def path(self) -> tuple[AttrPath, Filter | None, str | None]:
        token = self.token
        if token.kind != "word":
            raise self.fail("an attribute path")
        self.advance()
        attr = _attr_path(token)
        if self.token.kind != "[":
            return attr, None, None
        value_filter = self.value_filter(attr, token)
        sub = self.sub_after_bracket()
        return attr, value_filter, None if sub is None else _name(sub.text[1:], sub.pos + 1)


def _attr_path(token: Token) -> AttrPath:
    """`[schema:]name[.sub]`: the schema is everything before the last colon."""
    text = token.text
    colon = text.rfind(":")
    schema = text[:colon] if colon >= 0 else None
    if schema is not None and not _SCHEMA.fullmatch(schema):
        raise FilterSyntaxError(
            f'expected a schema URN at character {token.pos}, found "{schema}"', token.pos
        )
    name, dot, sub = text[colon + 1 :].partition(".")
    start = token.pos + colon + 1
    _name(name, start)
    if dot:
        _name(sub, start + len(name) + 1)
    return AttrPath(schema, name, sub if dot else None)


def _name(text: str, position: int) -> str:
    """`text` if it is an attribute name (`ALPHA *(nameChar)` or `$ref`)."""
    if not _NAME.fullmatch(text):
        found = f'"{text}"' if text else "nothing"
        raise FilterSyntaxError(
            f"expected an attribute name at character {position}, found {found}", position
        )
    return text


def _bare_value(token: Token) -> Value:
    """An unquoted value: `true`/`false`/`null` in any case, a JSON number, or else the word."""
    word = token.text
    if word.lower() in _LITERALS:
        return _LITERALS[word.lower()]
    number = _NUMBER.fullmatch(word)
    if number is None:
        return word
    if number.group(1) is None and number.group(2) is None:
        return int(word)
    value = float(word)
    if not math.isfinite(value):
        raise FilterSyntaxError(f"number out of range at character {token.pos}", token.pos)
    return value


_CASE_EXACT = frozenset({"id", "externalid"})
_CORE_SCHEMA_PREFIX = "urn:ietf:params:scim:schemas:core:"
_STRING_TESTS: dict[CompareOp, Callable[[str, str], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "co": lambda actual, expected: expected in actual,
    "sw": str.startswith,
    "ew": str.endswith,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_NUMBER_TESTS: dict[CompareOp, Callable[[float, float], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def matches(filter: Filter, doc: Mapping[str, Any]) -> bool:  # noqa: A002  # the AST's own word
    """Whether the SCIM document `doc` satisfies `filter`.

    Attribute names match in any case; `urn:…:Extension:attr` is looked up under the extension's
    key (core-schema URNs at the top level). A multi-valued attribute matches when any element
    does, and a complex element compares by its `value`. Strings compare case-insensitively,
    except `id` and `externalId`; `gt`/`ge`/`lt`/`le` order strings lexically (ISO dates sort
    that way) and numbers numerically. Comparing values of different types, or an absent
    attribute, is False (so `ne` does not match an absent attribute); `eq null` matches exactly
    when `pr` does not. `pr` means present and not null, "", [] or {}.
    """
    match filter:
        case And(left, right):
            return matches(left, doc) and matches(right, doc)
        case Or(left, right):
            return matches(left, doc) or matches(right, doc)
        case Not(inner):
            return not matches(inner, doc)
        case ValueFilter(attr, inner):
            return any(isinstance(item, Mapping) and matches(inner, item) for item in _resolve(doc, attr))
        case Present(attr):
            return any(_is_present(item) for item in _resolve(doc, attr))
        case Compare(attr, op, expected):
            if expected is None:
                present = any(_is_present(item) for item in _resolve(doc, attr))
                return (op == "eq" and not present) or (op == "ne" and present)
            case_exact = attr.sub is None and attr.name.lower() in _CASE_EXACT
            return any(
                _compare(op, _get(item, "value") if isinstance(item, Mapping) else item, expected, case_exact)
                for item in _resolve(doc, attr)
            )
    raise TypeError(f"not a filter: {filter!r}")  # pragma: no cover  # unreachable for a Filter


def _compare(op: CompareOp, actual: Any, expected: Value, case_exact: bool) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        if not case_exact:
            actual, expected = actual.lower(), expected.lower()
        return _STRING_TESTS[op](actual, expected)
    if _is_number(actual) and _is_number(expected) and op in _NUMBER_TESTS:
        return _NUMBER_TESTS[op](actual, expected)
    if isinstance(actual, bool) and isinstance(expected, bool):
        return (op == "eq" and actual == expected) or (op == "ne" and actual != expected)
    return False


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str | list | Mapping) and len(value) == 0)


def _resolve(doc: Mapping[str, Any], attr: AttrPath) -> list[Any]:
    """The values `attr` names in `doc`, multi-valued attributes flattened, nulls dropped."""
    container: Any = doc
    if attr.schema is not None:
        extension = _get(doc, attr.schema)
        if isinstance(extension, Mapping):
            container = extension
        elif not attr.schema.lower().startswith(_CORE_SCHEMA_PREFIX):
            return []
    values = _flatten(_get(container, attr.name))
    if attr.sub is not None:
        values = [sub for value in values for sub in _flatten(_get(value, attr.sub))]
    return [value for value in values if value is not None]


def _flatten(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _get(container: Any, name: str) -> Any:
    """`container[name]` with the name matched in any case; None when absent or not a mapping."""
    if not isinstance(container, Mapping):
        return None
    if name in container:
        return container[name]
    folded = name.lower()
    return next(
        (value for key, value in container.items() if isinstance(key, str) and key.lower() == folded),
        None,
    )
