"""Entra's attribute-mapping expression language: parse, render and evaluate.

Syntax (Microsoft's "Reference for writing expressions for attribute mappings"):

- `Function(arg, …)`, nested freely; function names match in any case (`join` is `Join`), and
  `render` writes the canonical spelling. An argument may be left empty (`Switch([x], , "a",
  "b")`); it is null. The functions are listed in `enlist.provisioning.mapping.functions`.
- `[attributeName]` reads the source object's attribute, matched case-insensitively; a missing
  attribute is null. `[IsSoftDeleted]` and `IsSoftDeleted()` both read the computed flag.
- `"text"` with `\\"` and `\\\\` escapes; bare whole numbers (`3`, `-1`).
- Inside any argument, a comparison `a = b` (`==` too), `<>`, `>`, `>=`, `<`, `<=`, as IIF's
  condition is written: `IIF([country]="FR","fr","en")`. It gives "True"/"False", or null when
  either side is null or empty (Entra: "the condition check fails"). `=` and `<>` compare
  strings case-sensitively; the others compare as integers when both sides are integers, else
  as strings, ordinally.

`parse_expression` raises only `ExpressionError`, whose `position` is the 0-based offset of the
fault: empty text, text over 10,000 characters (Entra's limit), nesting deeper than 50 calls, an
unknown function (with the closest name), a function Entra has but enlist does not implement,
a wrong argument count, a Replace without a usable form or with a literal pattern that does not
compile. `render` gives canonical text that parses back to an equal tree.

`evaluate` is pure and deterministic except for `Guid()`, whose generator the caller may pass.
It raises `EvaluationError` when an expression cannot apply to this object (a list where one
value is needed, a non-number where a number is). Unlike Entra, it never evaluates `Switch` to
null because a different attribute changed (entra-scim.md §2.5.4): the same source gives the
same value, always.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from enlist.provisioning.mapping import functions
from enlist.provisioning.mapping.errors import ExpressionError
from enlist.provisioning.mapping.expression_ast import (
    AttributeRef,
    Call,
    CompareOp,
    Comparison,
    Expression,
    NumberLiteral,
    Omitted,
    StringLiteral,
    Value,
)
from enlist.provisioning.mapping.expression_lexer import Token, TokenKind, tokenize
from enlist.provisioning.mapping.values import flag, from_source, is_empty, lookup, text

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "AttributeRef",
    "Call",
    "Comparison",
    "Expression",
    "ExpressionError",
    "NumberLiteral",
    "Omitted",
    "StringLiteral",
    "Value",
    "attribute_names",
    "evaluate",
    "parse_expression",
    "render",
]

_Comparable = TypeVar("_Comparable", int, str)

MAX_LENGTH = 10_000
MAX_DEPTH = 50


def parse_expression(text: str) -> Expression:
    """The tree of the expression `text`; raises `ExpressionError` (see the module docstring)."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(tokenize(text))
    if parser.kind() == "end":
        raise ExpressionError("the expression is empty", 0)
    tree = parser.expression(0)
    if parser.kind() != "end":
        raise parser.fail("the end of the expression")
    return tree


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def kind(self) -> TokenKind:
        """The current token's kind (a call, so that mypy does not narrow it across `advance`)."""
        return self.tokens[self.index].kind

    def advance(self) -> Token:
        token = self.token
        if token.kind != "end":
            self.index += 1
        return token

    def fail(self, expected: str) -> ExpressionError:
        token = self.token
        return ExpressionError(
            f"expected {expected} at character {token.pos}, found {token.describe()}", token.pos
        )

    def unclosed(self, name: str, opened_at: int) -> ExpressionError:
        token = self.token
        closing = f'")" to close {name}( opened at {opened_at}'
        if token.kind == "end":
            return ExpressionError(f"expected {closing}, at character {token.pos}", token.pos)
        return ExpressionError(
            f'expected "," or {closing}, at character {token.pos}, found {token.describe()}', token.pos
        )

    # expression := operand [op operand]
    def expression(self, depth: int) -> Expression:
        left = self.operand(depth)
        if self.kind() != "op":
            return left
        op_token = self.advance()
        right = self.operand(depth)
        if self.kind() == "op":
            raise ExpressionError(
                f"unexpected {self.token.describe()} at character {self.token.pos}: a condition "
                "compares two values, chain IIF calls for more",
                self.token.pos,
            )
        op: CompareOp = op_token.value  # type: ignore[assignment]  # the lexer only makes these
        return Comparison(left, op, right, left.position)

    def operand(self, depth: int) -> Expression:
        token = self.token
        if token.kind == "name":
            return self.call(depth)
        if token.kind == "attribute":
            self.advance()
            return AttributeRef(token.value, token.pos)
        if token.kind == "string":
            self.advance()
            return StringLiteral(token.value, token.pos)
        if token.kind == "number":
            self.advance()
            return NumberLiteral(int(token.value), token.pos)
        raise self.fail('a function, an [attribute], a "string" or a number')

    def call(self, depth: int) -> Call:
        token = self.advance()
        spec = functions.find(token.value)
        if spec is None:
            raise _unknown_function(token)
        if self.kind() != "(":
            raise self.fail(f'"(" after {spec.name}')
        self.advance()
        if depth + 1 > MAX_DEPTH:
            raise ExpressionError(
                f"functions nest deeper than {MAX_DEPTH} levels at character {token.pos}", token.pos
            )
        args: list[Expression] = []
        if self.kind() == ")":
            self.advance()
        else:
            while True:
                if self.kind() in (",", ")"):
                    args.append(Omitted(self.token.pos))
                else:
                    args.append(self.expression(depth + 1))
                if self.kind() == ",":
                    self.advance()
                    continue
                if self.kind() == ")":
                    self.advance()
                    break
                raise self.unclosed(spec.name, token.pos)
        call = Call(spec.name, tuple(args), token.pos)
        spec.check_call(call)
        return call


def _unknown_function(token: Token) -> ExpressionError:
    name, position = token.value, token.pos
    entra_name = functions.unsupported(name)
    if entra_name is not None:
        return ExpressionError(
            f'function "{entra_name}" at character {position} is an Entra function enlist does not support',
            position,
        )
    hint = functions.suggestion(name)
    suffix = f"; did you mean {hint}?" if hint else ""
    return ExpressionError(f'unknown function "{name}" at character {position}{suffix}', position)


def render(expr: Expression) -> str:
    """Canonical text for `expr`: canonical function names, `", "` between arguments, empty
    arguments left empty, strings re-escaped, `a = b` with single spaces."""
    if isinstance(expr, Call):
        return f"{expr.name}({', '.join(render(arg) for arg in expr.args)})"
    if isinstance(expr, AttributeRef):
        return f"[{expr.name}]"
    if isinstance(expr, StringLiteral):
        escaped = expr.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(expr, NumberLiteral):
        return str(expr.value)
    if isinstance(expr, Comparison):
        return f"{render(expr.left)} {expr.op} {render(expr.right)}"
    return ""


def attribute_names(expr: Expression) -> list[str]:
    """The source attributes `expr` reads, in order of appearance, without repeats."""
    names: dict[str, None] = {}
    stack: list[Expression] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, AttributeRef):
            names.setdefault(node.name, None)
        elif isinstance(node, Call):
            if node.name == "IsSoftDeleted":
                names.setdefault("IsSoftDeleted", None)
            stack.extend(reversed(node.args))
        elif isinstance(node, Comparison):
            stack.extend((node.right, node.left))
    return list(names)


def _new_guid() -> str:
    return str(uuid.uuid4())


def evaluate(
    expr: Expression, source: Mapping[str, Any], *, new_guid: Callable[[], str] = _new_guid
) -> Value:
    """The value of `expr` for the object whose attributes are `source`.

    `source` holds the object's attributes (matched case-insensitively) plus the computed
    `IsSoftDeleted` boolean. The result is a string, a boolean or integer read straight from an
    attribute, a list of strings, or None. `new_guid` makes `Guid()`'s value.
    """
    return _evaluate(expr, functions.Context(source, new_guid))


def _evaluate(expr: Expression, context: functions.Context) -> Value:
    if isinstance(expr, Call):
        spec = functions.find(expr.name)
        assert spec is not None  # the parser only builds calls of known functions
        args = tuple(_evaluate(arg, context) for arg in expr.args)
        written = tuple(not isinstance(arg, Omitted) for arg in expr.args)
        return spec.impl(functions.Invocation(spec.name, args, written, context))
    if isinstance(expr, AttributeRef):
        return from_source(lookup(context.source, expr.name), expr.name)
    if isinstance(expr, StringLiteral | NumberLiteral):
        return expr.value
    if isinstance(expr, Comparison):
        return _compare(expr, _evaluate(expr.left, context), _evaluate(expr.right, context))
    return None


def _compare(expr: Comparison, left: Value, right: Value) -> Value:
    if is_empty(left) or is_empty(right):
        return None
    left_text = text(left, f"the left side of {expr.op}")
    right_text = text(right, f"the right side of {expr.op}")
    assert left_text is not None
    assert right_text is not None
    if expr.op == "=":
        return flag(left_text == right_text)
    if expr.op == "<>":
        return flag(left_text != right_text)
    if _is_integer(left_text) and _is_integer(right_text):
        return flag(_ordered(expr.op, int(left_text), int(right_text)))
    return flag(_ordered(expr.op, left_text, right_text))


def _ordered(op: CompareOp, left: _Comparable, right: _Comparable) -> bool:
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if op == "<":
        return left < right
    return left <= right


def _is_integer(value: str) -> bool:
    digits = value.removeprefix("-")
    return digits.isascii() and digits.isdigit() and len(digits) <= 18
