"""Where each value of a JSON document starts, so that a message can name its line.

Python's `json` keeps no positions, so this walks the text once more, only when a file was found
wrong (a valid file never pays for it). The text must already have parsed with `json.loads`.
"""

from __future__ import annotations

import bisect
import json
import re

_SPACE = re.compile(r"[ \t\n\r]*")

Path = tuple[str | int, ...]


def json_lines(text: str) -> dict[Path, int]:
    """`{path: line}` for every value of the document; a path is its keys and indices, so
    `("users", 12, "manager")` is the manager of the thirteenth user. Later duplicate keys win,
    as in `json.loads`."""
    offsets: dict[Path, int] = {}
    _value(text, 0, (), offsets)
    newlines = [match.start() for match in re.finditer("\n", text)]
    return {path: bisect.bisect_left(newlines, offset) + 1 for path, offset in offsets.items()}


def _skip(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    assert match is not None  # the pattern matches the empty string
    return match.end()


_DECODER = json.JSONDecoder()


def _value(text: str, index: int, path: Path, offsets: dict[Path, int]) -> int:
    """Record where the value at `index` starts (and its children); where it ends."""
    index = _skip(text, index)
    offsets[path] = index
    opening = text[index]
    if opening == "{":
        index = _skip(text, index + 1)
        if text[index] == "}":
            return index + 1
        while True:
            key, index = _DECODER.raw_decode(text, index)
            index = _skip(text, index)  # at ':'
            index = _skip(text, _value(text, index + 1, (*path, key), offsets))
            if text[index] == "}":
                return index + 1
            index = _skip(text, index + 1)  # past ','
    if opening == "[":
        index = _skip(text, index + 1)
        if text[index] == "]":
            return index + 1
        position = 0
        while True:
            index = _skip(text, _value(text, index, (*path, position), offsets))
            if text[index] == "]":
                return index + 1
            index += 1  # past ','
            position += 1
    _, end = _DECODER.raw_decode(text, index)
    return end
