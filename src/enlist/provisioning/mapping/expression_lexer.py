"""The tokenizer under the expression parser (`enlist.provisioning.mapping.expression`).

Tokens: function names, `[attribute]` references, `"string"` literals, bare integers, the
punctuation `(`, `)`, `,`, and IIF's comparison operators `=`, `==`, `<>`, `>`, `>=`, `<`, `<=`.
Inside a string, `\\"` is a quote and `\\\\` a backslash (Entra's two escapes); a backslash before
any other character is kept as written, so regex patterns such as `"\\d{10}"` read naturally.
Positions are 0-based offsets into the text, the numbers `ExpressionError` carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from enlist.provisioning.mapping.errors import ExpressionError

TokenKind: TypeAlias = Literal["name", "attribute", "string", "number", "op", "(", ")", ",", "end"]

MAX_NUMBER_DIGITS = 18

_SPACE = frozenset(" \t\r\n")
_OPERATORS = ("==", "<>", "<=", ">=", "=", "<", ">")
_DIGITS = frozenset("0123456789")
_PUNCTUATION: dict[str, TokenKind] = {"(": "(", ")": ")", ",": ","}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: `text` exactly as written, `value` the decoded string, name or number text."""

    kind: TokenKind
    text: str
    pos: int
    value: str = ""

    def describe(self) -> str:
        """How an error message names this token: `"Join"`, `a string "x"`, `the end of the text`."""
        if self.kind == "end":
            return "the end of the text"
        shown = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        return f"a string {shown}" if self.kind == "string" else f'"{shown}"'


def tokenize(text: str) -> list[Token]:
    """Cut `text` into tokens ending with an `end` token; raise `ExpressionError` at the first
    character that starts no token (and for NUL or lone surrogates, which no store can hold)."""
    for i, char in enumerate(text):
        if char == "\0" or "\ud800" <= char <= "\udfff":
            raise ExpressionError(f"U+{ord(char):04X} at character {i} is not allowed in an expression", i)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in _SPACE:
            i += 1
        elif char in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[char], char, i))
            i += 1
        elif char == '"':
            token = _string(text, i)
            tokens.append(token)
            i += len(token.text)
        elif char == "[":
            token = _attribute(text, i)
            tokens.append(token)
            i += len(token.text)
        elif char in _DIGITS or (char == "-" and i + 1 < n and text[i + 1] in _DIGITS):
            token = _number(text, i)
            tokens.append(token)
            i += len(token.text)
        elif char.isascii() and (char.isalpha() or char == "_"):
            start = i
            while i < n and text[i].isascii() and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(Token("name", text[start:i], start, text[start:i]))
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
            if operator is None:
                hint = '; write "<>" for "not equal"' if text.startswith("!=", i) else ""
                raise ExpressionError(f'unexpected "{char}" at character {i}{hint}', i)
            tokens.append(Token("op", operator, i, "=" if operator == "==" else operator))
            i += len(operator)
    tokens.append(Token("end", "", n))
    return tokens


def _string(text: str, start: int) -> Token:
    """The string literal opening at `start`: `\\"` and `\\\\` decoded, other backslashes kept."""
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            chars.append(text[i + 1])
            i += 2
        elif char == '"':
            return Token("string", text[start : i + 1], start, "".join(chars))
        else:
            chars.append(char)
            i += 1
    raise ExpressionError(f"unterminated string starting at character {start}", start)


def _attribute(text: str, start: int) -> Token:
    """`[name]`: anything but brackets, quotes and line breaks; surrounding spaces ignored."""
    i = start + 1
    while i < len(text) and text[i] not in '[]"\r\n':
        i += 1
    if i >= len(text) or text[i] != "]":
        found = "the end of the text" if i >= len(text) else f'"{text[i]}"'
        raise ExpressionError(
            f'expected "]" to close the attribute name opened at {start}, at character {i}, found {found}',
            i,
        )
    name = text[start + 1 : i].strip(" \t")
    if not name:
        raise ExpressionError(f"expected an attribute name inside [] at character {start + 1}", start + 1)
    return Token("attribute", text[start : i + 1], start, name)


def _number(text: str, start: int) -> Token:
    i = start + 1
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    written = text[start:i]
    if len(written.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ExpressionError(f"number at character {start} has more than {MAX_NUMBER_DIGITS} digits", start)
    if i < len(text) and (text[i].isalnum() or text[i] in "._"):
        raise ExpressionError(
            f'unexpected "{text[i]}" at character {i}: numbers are whole numbers such as 3 or -1', i
        )
    return Token("number", written, start, written)
