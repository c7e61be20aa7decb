""".NET regular expressions, as Entra's Replace function and scoping filters write them, run on
the `regex` package under a time limit.

The two dialects agree on everything admins write in practice except named groups, so
`compile_dotnet` rewrites `(?<name>…)` and `(?'name'…)` to `(?P<name>…)` and `\\k<name>` to
`(?P=name)` (lookbehinds `(?<=`, `(?<!` are left alone) before compiling. Inside a character
class, `[` and doubled `&&`, `||`, `~~`, `--` are escaped, being plain characters in .NET;
.NET's class subtraction (`[a-z-[aeiou]]`) is therefore not supported. Matching is
case-sensitive, as in .NET by default. `expand_replacement` reads .NET's substitutions: `$1`,
`${name}`, `$0`/`$&` (the whole match) and `$$` (a dollar); anything else is literal.

Patterns come from administrators and run over source data, so a pattern that backtracks
catastrophically (`^(\\w+\\s?)+$` on a long name) must not stall the service: every match runs
with `regex`'s `timeout=` and stops after `TIME_LIMIT_MS`, raising `RegexTimeoutError`, a
per-object `EvaluationError` (decision 0017). `regex` also reads what .NET has and `re` lacks:
Unicode properties (`\\p{Lu}`, `\\p{IsGreek}`), variable-length lookbehind, atomic groups and
possessive quantifiers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import regex

from enlist.provisioning.mapping.errors import RegexTimeoutError

TIME_LIMIT_MS = 100
"""How long one search, substitution or scan may run. Patterns admins write for names and mail
addresses take microseconds; a thousand times that is a pattern that will never finish."""

_GROUP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SUBSTITUTION = re.compile(r"\$(?:\$|&|\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\}|([0-9]+))")


class RegexError(ValueError):
    """A pattern that neither dialect can compile; the message is Python's reason."""


def translate(pattern: str) -> str:
    """`pattern` with .NET's named-group syntax rewritten to Python's."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            name_end = _named_backreference(pattern, i)
            if name_end is not None and not in_class:
                out.append(f"(?P={pattern[i + 3 : name_end]})")
                i = name_end + 1
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
            # .NET reads `[` and doubled `&&`, `||`, `~~`, `--` in a class as plain characters;
            # Python reserves them for future set operations (and warns), so escape them
            doubled = char in "&|~-" and out[-1] == char
            out.append("\\" + char if char == "[" or doubled else char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            # a `]` straight after `[` or `[^` is a literal member, not the end of the class
            if pattern.startswith("^", i + 1):
                out.append("^")
                i += 1
            if pattern.startswith("]", i + 1):
                out.append("]")
                i += 1
            i += 1
            continue
        if pattern.startswith("(?<", i) or pattern.startswith("(?'", i):
            close = ">" if pattern[i + 2] == "<" else "'"
            match = _GROUP_NAME.match(pattern, i + 3)
            if match and pattern.startswith(close, match.end()):
                out.append(f"(?P<{match.group()}>")
                i = match.end() + 1
                continue
        out.append(char)
        i += 1
    return "".join(out)


def _named_backreference(pattern: str, i: int) -> int | None:
    """The index of the closing `>`/`'` when `\\k<name>` or `\\k'name'` starts at `i`, else None."""
    if not (pattern.startswith("\\k<", i) or pattern.startswith("\\k'", i)):
        return None
    close = ">" if pattern[i + 2] == "<" else "'"
    match = _GROUP_NAME.match(pattern, i + 3)
    if match and pattern.startswith(close, match.end()):
        return match.end()
    return None


Match = regex.Match[str]


@dataclass(frozen=True, slots=True)
class DotnetRegex:
    """A compiled .NET pattern whose every run stops after `TIME_LIMIT_MS` with
    `RegexTimeoutError`; `written` is the pattern as the admin wrote it."""

    written: str
    compiled: regex.Pattern[str]

    @property
    def groupindex(self) -> dict[str, int]:
        """Group names to numbers."""
        return dict(self.compiled.groupindex)

    def search(self, text: str) -> Match | None:
        """The first match in `text`, or None."""
        try:
            return self.compiled.search(text, timeout=_LIMIT_SECONDS)
        except TimeoutError:
            raise self._timed_out(text) from None

    def finditer(self, text: str) -> list[Match]:
        """Every non-overlapping match in `text`, found under one time limit."""
        try:
            return list(self.compiled.finditer(text, timeout=_LIMIT_SECONDS))
        except TimeoutError:
            raise self._timed_out(text) from None

    def sub(self, replace: Callable[[Match], str], text: str) -> str:
        """`text` with every match replaced by `replace(match)`."""
        try:
            return self.compiled.sub(replace, text, timeout=_LIMIT_SECONDS)
        except TimeoutError:
            raise self._timed_out(text) from None

    def _timed_out(self, text: str) -> RegexTimeoutError:
        # The value itself stays out of the message: it is directory data that logs keep
        return RegexTimeoutError(
            f'the regular expression "{self.written}" took longer than {TIME_LIMIT_MS} ms '
            f"on a {len(text)}-character value; simplify it"
        )


_LIMIT_SECONDS = TIME_LIMIT_MS / 1000


@lru_cache(maxsize=256)
def compile_dotnet(pattern: str) -> DotnetRegex:
    """The compiled pattern; raises `RegexError` naming why it does not compile."""
    try:
        return DotnetRegex(pattern, regex.compile(translate(pattern)))
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise RegexError(str(exc)) from None


def expand_replacement(template: str, match: Match) -> str:
    """`template` with .NET substitutions filled from `match`; an unknown group is kept literally."""

    def substitute(sub: re.Match[str]) -> str:
        written = sub.group()
        if written == "$$":
            return "$"
        if written == "$&":
            return match.group()
        reference = sub.group(1) or sub.group(2)
        key: int | str = int(reference) if reference.isdigit() else reference
        try:
            return match.group(key) or ""
        except IndexError:  # no such group number or name
            return written

    return _SUBSTITUTION.sub(substitute, template)
