"""The tokenizer under the SCIM filter and path parser (`enlist.scim.filter`).

It cuts text into words, JSON strings, brackets and parentheses (and commas, for attribute
lists); the parser decides what a word means in its place: an attribute path, an operator, a
keyword or an unquoted value. Positions are 0-based offsets into the text, the same numbers that
`FilterSyntaxError.position` and its message carry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, TypeAlias

TokenKind: TypeAlias = Literal["word", "string", "(", ")", "[", "]", ",", "end"]

_SPACE = frozenset(" \t\r\n")
_DELIMITERS = frozenset('()[]"')
_PUNCTUATION: dict[str, TokenKind] = {"(": "(", ")": ")", "[": "[", "]": "]", ",": ","}


class FilterSyntaxError(ValueError):
    """A filter, PATCH path or attribute list that does not parse.

    `position` is the 0-based offset of the offending character in the text (the length of the
    text when the text ended too early); the message says what was expected there.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True, slots=True)
class Token:
    """One token. `text` is exactly what was written; `value` is the decoded text of a string."""

    kind: TokenKind
    text: str
    pos: int
    value: str = ""

    def describe(self, noun: str) -> str:
        """How an error message names this token, e.g. `"foo"` or `the end of the filter`."""
        if self.kind == "end":
            return f"the end of the {noun}"
        shown = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        return f"a string {shown}" if self.kind == "string" else f'"{shown}"'


def tokenize(text: str, *, commas: bool = False) -> list[Token]:
    """Cut `text` into tokens ending with an `end` token; `commas` makes `,` a token of its own.

    Raises FilterSyntaxError for an unterminated or malformed string, and for NUL and lone
    surrogates anywhere (raw or escaped), which no store can hold.
    """
    _check_storable(text, 0, "the text")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in _SPACE:
            i += 1
        elif char in "()[]" or (commas and char == ","):
            tokens.append(Token(_PUNCTUATION[char], char, i))
            i += 1
        elif char == '"':
            token = _string(text, i)
            tokens.append(token)
            i += len(token.text)
        else:
            start = i
            while i < n and not _ends_word(text[i], commas):
                i += 1
            tokens.append(Token("word", text[start:i], start))
    tokens.append(Token("end", "", n))
    return tokens


def _ends_word(char: str, commas: bool) -> bool:
    return char in _SPACE or char in _DELIMITERS or (commas and char == ",")


def _string(text: str, start: int) -> Token:
    """The JSON string opening at `start`, decoded with every JSON escape."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            raw = text[start : i + 1]
            try:
                value = json.loads(raw, strict=False)  # a raw tab inside quotes is harmless
            except json.JSONDecodeError as exc:
                position = start + exc.pos
                raise FilterSyntaxError(
                    f"invalid string at character {position}: {exc.msg}", position
                ) from None
            assert isinstance(value, str)
            _check_storable(value, start, "a string")
            return Token("string", raw, start, value)
        else:
            i += 1
    raise FilterSyntaxError(f"unterminated string starting at character {start}", start)


def _check_storable(text: str, position: int, what: str) -> None:
    """Refuse NUL and lone surrogates: PostgreSQL and UTF-8 cannot hold them."""
    for offset, char in enumerate(text):
        if char == "\0" or "\ud800" <= char <= "\udfff":
            at = position + offset if what == "the text" else position
            raise FilterSyntaxError(
                f"{what} contains U+{ord(char):04X} at character {at}: NUL and lone surrogates "
                "are not allowed",
                at,
            )
