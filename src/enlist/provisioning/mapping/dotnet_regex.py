""".NET regular expressions, as Entra's Replace function and scoping filters write them, run on
Python's `re`.

The two dialects agree on everything admins write in practice except named groups, so
`compile_dotnet` rewrites `(?<name>…)` and `(?'name'…)` to `(?P<name>…)` and `\\k<name>` to
`(?P=name)` (lookbehinds `(?<=`, `(?<!` are left alone) before compiling. Inside a character
class, `[` and doubled `&&`, `||`, `~~`, `--` are escaped, being plain characters in .NET;
.NET's class subtraction (`[a-z-[aeiou]]`) is therefore not supported. Matching is
case-sensitive, as in .NET by default. `expand_replacement` reads .NET's substitutions: `$1`,
`${name}`, `$0`/`$&` (the whole match) and `$$` (a dollar); anything else is literal.

Patterns come from administrators, not from source data; like the SCIM filter parser they are
bounded by the expression's 10,000-character limit, not by a timeout.
"""

from __future__ import annotations

import re
from functools import lru_cache

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


@lru_cache(maxsize=256)
def compile_dotnet(pattern: str) -> re.Pattern[str]:
    """The compiled pattern; raises `RegexError` naming why it does not compile."""
    try:
        return re.compile(translate(pattern))
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise RegexError(str(exc)) from None


def expand_replacement(template: str, match: re.Match[str]) -> str:
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
