"""A directory file's bytes to a checked `DirectoryFile`: the one reader of the CLI and the page.

`enlist provisioning directory import` and the Directory page's Import both hand the file's
bytes and name to `read_directory_file`, so both refuse the same files with the same messages
(an `InvalidFileError`, nothing written):

- a file over `ENLIST_MAX_DIRECTORY_FILE_BYTES` (the page's request limit, `ENLIST_MAX_BODY_BYTES`,
  also holds there);
- text that is not UTF-8 (a byte order mark may say UTF-8, UTF-16 or UTF-32: Excel's "Unicode
  text" is UTF-16), naming the first byte that is not;
- a CSV header of more than `MAX_COLUMNS` columns, JSON nested deeper than `MAX_DEPTH`
  (`files` checks these, and every other rule of the format).

A name ending in `.csv` (any case) is a CSV of users; any other name is JSON.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from enlist.provisioning.directory.errors import InvalidFileError
from enlist.provisioning.directory.files import (
    MAX_COLUMNS,
    MAX_DEPTH,
    DirectoryFile,
    parse_directory_json,
    parse_users_csv,
)

__all__ = ["MAX_COLUMNS", "MAX_DEPTH", "MAX_FILE_BYTES", "read_directory_file", "read_directory_path"]

MAX_FILE_BYTES = 256 * 1024 * 1024
"""The default of `ENLIST_MAX_DIRECTORY_FILE_BYTES`. The import holds the file and its rows in
memory (docs/performance.md), so the limit bounds what one import costs."""

# Longest first: UTF-32-LE's mark starts with UTF-16-LE's.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(raw: bytes, name: str) -> str:
    """The file's text: UTF-8, or what its byte order mark says; `InvalidFileError` otherwise."""
    encoding, body = "utf-8", raw
    for mark, marked in _MARKS:
        if raw.startswith(mark):
            encoding, body = marked, raw[len(mark) :]
            break
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        where = exc.start + len(raw) - len(body) + 1  # counted from 1, as editors do
        message = f"{name} is not {encoding.upper()} text (byte {where:,} cannot be read)"
        raise InvalidFileError([message + "; save it as UTF-8 and import it again"]) from None


def read_directory_file(raw: bytes, name: str, *, max_bytes: int = MAX_FILE_BYTES) -> DirectoryFile:
    """Check and parse a directory file's bytes; `InvalidFileError` lists what is wrong."""
    if len(raw) > max_bytes:
        raise InvalidFileError([_too_large(name, len(raw), max_bytes)])
    if not raw:
        raise InvalidFileError([f"{name} is empty"])
    text = decode(raw, name)
    return parse_users_csv(text) if name.lower().endswith(".csv") else parse_directory_json(text)


def read_directory_path(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> DirectoryFile:
    """`read_directory_file` of a file on disk, never reading more than `max_bytes` + 1 bytes."""
    with path.open("rb") as file:
        raw = file.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InvalidFileError([_too_large(path.name, path.stat().st_size, max_bytes)])
    return read_directory_file(raw, path.name, max_bytes=max_bytes)


def _too_large(name: str, size: int, limit: int) -> str:
    return f"{name} is {size:,} bytes; a directory file may have at most {limit:,}"
