"""What can go wrong in the directory, as one small taxonomy.

`InvalidFileError` is the user's file; the others are the state of the directory. The CLI and
the admin API map these to messages and statuses in one place each.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_SHOWN = 20
"""How many problems an `InvalidFileError` message lists (all are in `problems`)."""


class DirectoryError(Exception):
    """Base of every error the directory raises on purpose."""


class InvalidFileError(DirectoryError, ValueError):
    """An import file that cannot be applied; nothing was written.

    `problems` holds one message per problem, each starting with where it is
    (`line 7: …`, or `line 3, column 5: …` for JSON syntax)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(self.problems[:MAX_SHOWN])
        more = len(self.problems) - MAX_SHOWN
        super().__init__(shown + (f"\n… and {more} more" if more > 0 else ""))


class ObjectNotFoundError(DirectoryError, LookupError):
    """No user or group with that id (it never existed, or it was hard-deleted)."""


class NotRestorableError(DirectoryError):
    """The object was soft-deleted longer ago than the retention (it awaits its purge)."""


class ConflictError(DirectoryError):
    """A write would give two objects the same userPrincipalName or group displayName."""
