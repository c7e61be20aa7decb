"""Entra's seven-argument `Replace(source, oldValue, regexPattern, regexGroupName,
replacementValue, replacementAttributeName, template)`.

Which arguments are written (not left empty) selects the form, checked when the expression is
parsed; the first that fits wins:

1. oldValue + template: every oldValue in template is replaced by source
   (`Replace([UserID], "<username>", , , , , "<username>@contoso.com")`).
2. oldValue + replacementValue: every oldValue in source is replaced, case-sensitively
   (`Replace([mail], "@contoso.com", , , "", , )`).
3. regexPattern + regexGroupName + replacementAttributeName (no replacementValue): source when it
   has a value, else the named group's text where the pattern matches replacementAttributeName.
4. regexPattern + regexGroupName + replacementValue: the text of the named group in every match
   is replaced by replacementValue, taken literally.
5. regexPattern + replacementValue: every match is replaced by replacementValue, in which .NET
   substitutions (`${name}`, `$1`, `$$`) are expanded.

Patterns are .NET regular expressions (see `dotnet_regex`), run under its time limit: one that
runs past it is a `RegexTimeoutError` for that object. All seven arguments must be written,
as Entra's editor writes them; a null source gives null except in form 3, and a null written
argument gives null. An empty oldValue is an evaluation error (.NET refuses it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

from enlist.provisioning.mapping.dotnet_regex import (
    DotnetRegex,
    RegexError,
    compile_dotnet,
    expand_replacement,
)
from enlist.provisioning.mapping.errors import EvaluationError, ExpressionError
from enlist.provisioning.mapping.expression_ast import Call, Omitted, StringLiteral, Value
from enlist.provisioning.mapping.values import text

Form: TypeAlias = Literal["template", "plain", "fallback", "group", "regex"]

SOURCE, OLD, PATTERN, GROUP, REPLACEMENT, REPLACEMENT_ATTRIBUTE, TEMPLATE = range(7)


def form(written: Sequence[bool]) -> Form | None:
    """The form the written arguments select, or None when they select none."""
    if written[OLD] and written[TEMPLATE]:
        return "template"
    if written[OLD] and written[REPLACEMENT]:
        return "plain"
    if written[PATTERN] and written[GROUP] and written[REPLACEMENT_ATTRIBUTE] and not written[REPLACEMENT]:
        return "fallback"
    if written[PATTERN] and written[GROUP] and written[REPLACEMENT]:
        return "group"
    if written[PATTERN] and written[REPLACEMENT]:
        return "regex"
    return None


def check(call: Call) -> None:
    """Parse-time check: the written arguments select a form, and a literal pattern compiles and
    has the literal group name."""
    if form([not isinstance(arg, Omitted) for arg in call.args]) is None:
        raise ExpressionError(
            f"Replace at character {call.position} needs oldValue with replacementValue or template, "
            "or regexPattern with replacementValue, regexGroupName or replacementAttributeName "
            '(leave the others empty: Replace([mail], "@contoso.com", , , "", , ))',
            call.position,
        )
    pattern, group = call.args[PATTERN], call.args[GROUP]
    if not isinstance(pattern, StringLiteral):
        return
    try:
        compiled = compile_dotnet(pattern.value)
    except RegexError as exc:
        raise ExpressionError(
            f"invalid regexPattern at character {pattern.position}: {exc}", pattern.position
        ) from None
    if isinstance(group, StringLiteral) and group.value not in compiled.groupindex:
        raise ExpressionError(
            f'regexGroupName "{group.value}" at character {group.position} names no group of the pattern',
            group.position,
        )


def evaluate(args: Sequence[Value], written: Sequence[bool]) -> Value:
    """Replace's value for evaluated `args`; `written[i]` is False where argument i was empty."""
    selected = form(written)
    strings = [text(value, f"Replace argument {index + 1}") for index, value in enumerate(args)]
    source = strings[SOURCE]
    if selected == "fallback":
        if source:
            return source
        return _extract(strings[PATTERN], strings[GROUP], strings[REPLACEMENT_ATTRIBUTE])
    needed = {
        "template": (OLD, TEMPLATE),
        "plain": (OLD, REPLACEMENT),
        "group": (PATTERN, GROUP, REPLACEMENT),
        "regex": (PATTERN, REPLACEMENT),
    }[selected or "regex"]
    if source is None or any(strings[index] is None for index in needed):
        return None
    if selected in ("template", "plain"):
        old = strings[OLD]
        assert old is not None
        if not old:
            raise EvaluationError("Replace needs a non-empty oldValue")
        if selected == "template":
            return _str(strings[TEMPLATE]).replace(old, source)
        return source.replace(old, _str(strings[REPLACEMENT]))
    pattern = _compile(_str(strings[PATTERN]))
    replacement = _str(strings[REPLACEMENT])
    if selected == "group":
        return _replace_group(pattern, _str(strings[GROUP]), replacement, source)
    return pattern.sub(lambda match: expand_replacement(replacement, match), source)


def _str(value: str | None) -> str:
    assert value is not None  # checked by the caller
    return value


def _compile(pattern: str) -> DotnetRegex:
    try:
        return compile_dotnet(pattern)
    except RegexError as exc:
        raise EvaluationError(f"Replace regexPattern does not compile: {exc}") from None


def _group_index(pattern: DotnetRegex, group: str) -> int:
    if group not in pattern.groupindex:
        raise EvaluationError(f'Replace regexGroupName "{group}" names no group of the pattern')
    return pattern.groupindex[group]


def _extract(pattern_text: str | None, group: str | None, value: str | None) -> Value:
    if pattern_text is None or group is None or value is None:
        return None
    pattern = _compile(pattern_text)
    match = pattern.search(value)
    return None if match is None else match.group(_group_index(pattern, group))


def _replace_group(pattern: DotnetRegex, group: str, replacement: str, source: str) -> str:
    index = _group_index(pattern, group)
    pieces: list[str] = []
    end = 0
    for match in pattern.finditer(source):
        start, stop = match.span(index)
        if start < 0 or start < end:  # the group took no part in this match
            continue
        pieces += [source[end:start], replacement]
        end = stop
    pieces.append(source[end:])
    return "".join(pieces)
