"""The string functions whose rules are more than one line: NormalizeDiacritics, PCase, Word and
.NET's invariant-culture case mapping.

`normalize_diacritics` replaces exactly the letters of Entra's published table (base letters with
the listed accents, `æ`/`ǣ` → `ae`, `ø` → `oe`, `ß` → `ss`, `ł` → `l`, dotless i → `i`…);
letters outside the table, such as `đ` or `œ`, are kept. The text is NFC-normalised first so
that decomposed input (`e` + U+0301) matches like precomposed input (`é`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# Entra's NormalizeDiacritics table, lower case: replacement -> the letters it replaces. Letters
# written with a combining mark (U+0304 macron, U+0331 macron below…) are sequences, matched whole.
_LOWER_TABLE: dict[str, str] = {
    "a": "ä à â ã å á ą ă ā ā́ ā̀ ā̂ ā̃ ǟ ā̈ ǡ a̱ å̄",
    "ae": "æ ǣ",
    "c": "ç č ć c̄ c̱",
    "d": "ď d̄ ḏ",
    "e": "ë è é ê ę ě ė ē ḗ ḕ ē̂ ē̃ ê̄ e̱ ë̄ e̊̄",
    "g": "ğ ḡ g̱",
    "i": "ï î ì í \u0131 ī ī́ ī̀ ī̂ ī̃ i̱",
    "l": "ľ ł l̄ ḹ ḻ",
    "n": "ñ ń ň n̄ ṉ",
    "o": "ö ò ő õ ô ó ō ṓ ṑ ō̂ ō̃ ȫ ō̈ ǭ ȭ ȱ o̱",
    "oe": "ø ø̄ œ̄",
    "r": "ř r̄ ṟ ṝ",
    "s": "š ś ș ş s̄ s̱",
    "t": "ť ț t̄ ṯ",
    "u": "ü ù û ú ů ű ū ū́ ū̀ ū̂ ū̃ u̇̄ ǖ ṻ ṳ̄ u̱",
    "y": "ÿ ý ȳ ȳ́ ȳ̀ ȳ̃ y̱",
    "z": "ź ž ż z̄ ẕ",
}
# Letters the upper-casing of the lower table gets wrong or misses.
_SPECIAL: dict[str, str] = {"ß": "ss", "İ": "I"}  # the table's own letters


@cache
def _diacritics() -> tuple[re.Pattern[str], dict[str, str]]:
    """The table as {letter: replacement} with upper-case forms added, and one regex matching any
    letter (longest first, so `ā́` wins over `ā`). Built on first use, not at import."""
    table: dict[str, str] = {}
    for replacement, letters in _LOWER_TABLE.items():
        for letter in letters.split():
            lower = unicodedata.normalize("NFC", letter)
            table[lower] = replacement
            if lower != "\u0131":  # dotless i upper-cases to plain I, which needs no replacing
                table[unicodedata.normalize("NFC", lower.upper())] = replacement.upper()
    table.update(_SPECIAL)
    ordered = sorted(table, key=len, reverse=True)
    return re.compile("|".join(re.escape(letter) for letter in ordered)), table


def normalize_diacritics(text: str) -> str:
    """`text` with every letter of Entra's table replaced (`Zoë` → `Zoe`, `Straße` → `Strasse`)."""
    pattern, table = _diacritics()
    return pattern.sub(lambda match: table[match.group()], unicodedata.normalize("NFC", text))


def invariant_upper(text: str) -> str:
    """Upper case as .NET's invariant culture does it: one character for one (`ß` stays `ß`)."""
    return "".join(_one_for_one(char, char.upper()) for char in text)


def invariant_lower(text: str) -> str:
    """Lower case, one character for one (`İ` stays `İ` rather than growing a combining dot)."""
    return "".join(_one_for_one(char, char.lower()) for char in text)


def _one_for_one(char: str, mapped: str) -> str:
    return mapped if len(mapped) == 1 else char


def _default_separator(char: str) -> bool:
    """A word separator for PCase without explicit separators: anything but letters, combining
    marks and digits (spaces, controls, punctuation and symbols, as .NET's ToTitleCase)."""
    return unicodedata.category(char)[0] not in "LMN"


def proper_case(text: str, separators: str | None) -> str:
    """PCase: the first character of each word upper case, every other character lower case.

    Words are separated by the characters of `separators` when given, else by any character
    that is not a letter, mark or digit: `PABLO GONSALVES (SECOND)` → `Pablo Gonsalves (Second)`,
    and with `" '-"`, `PINTO-DE'SILVA` → `Pinto-De'Silva`.
    """
    chars: list[str] = []
    at_word_start = True
    for char in text:
        separator = char in separators if separators is not None else _default_separator(char)
        if separator:
            chars.append(char)
            at_word_start = True
        else:
            chars.append(invariant_upper(char) if at_word_start else invariant_lower(char))
            at_word_start = False
    return "".join(chars)


def word(text: str, number: int, delimiters: str) -> str:
    """The `number`th (1-based) word of `text`, words being runs of characters not in
    `delimiters`; "" when `number` < 1 or there are fewer words."""
    if number < 1:
        return ""
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if char in delimiters:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words[number - 1] if number <= len(words) else ""
