"""The file source: a drop folder where an HR system delivers directory files.

Each round reads the newest file of the folder (`*.csv`, `*.json`; newest by modification time,
then by name), in the same formats as `enlist provisioning directory import`. The cursor names
the file and its SHA-256 digest, so a file is imported once: while the newest file is the one
already imported, a round is an empty delta (and changes nothing). A new file is a full round:
what the directory holds from this source and the file lacks is soft-deleted.

Source ids: a user's `id` column when the file has one, else its `employeeId`, else its
userPrincipalName (case-folded: then a new UPN is a new person, so give HR files an id or an
employeeId); a group's `id`, else its displayName. A CSV column that is in the header but empty
on a row clears that attribute; a column the file does not have keeps what the directory has.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enlist.provisioning.directory.errors import InvalidFileError
from enlist.provisioning.directory.files import (
    USER_LISTS,
    USER_STRINGS,
    DirectoryFile,
    parse_directory_json,
    parse_users_csv,
)
from enlist.provisioning.sources.model import (
    CheckResult,
    GroupRecord,
    Page,
    RoundKind,
    SourceUnavailableError,
    UserRecord,
)

PAGE = 500
PATTERNS = ("*.csv", "*.json")
_CLEARABLE = {n.casefold(): n for n in (*USER_STRINGS, *USER_LISTS)}


def newest_file(folder: Path) -> Path | None:
    files = [p for pattern in PATTERNS for p in folder.glob(pattern) if p.is_file()]
    return max(files, key=lambda p: (p.stat().st_mtime_ns, p.name), default=None)


def user_source_id(attributes: dict[str, Any], given: str | None) -> str:
    return given or str(attributes.get("employeeId") or "") or str(attributes["userPrincipalName"]).casefold()


def records(data: DirectoryFile, cleared: tuple[str, ...] = ()) -> tuple[list[UserRecord], list[GroupRecord]]:
    """The file's objects as a full round's records (every group's member list complete)."""
    sids = {u.upn.casefold(): user_source_id(dict(u.attributes), u.id) for u in data.users}
    users = []
    for entry in data.users:
        attributes: dict[str, Any] = dict.fromkeys(cleared)
        attributes.update(entry.attributes)
        # A reference outside the file names no object of this source: the read reports it.
        manager = sids.get(entry.manager.casefold(), entry.manager) if entry.manager else None
        users.append(UserRecord(sids[entry.upn.casefold()], attributes, manager))
    group_sids = {g.display_name.casefold(): g.id or g.display_name.casefold() for g in data.groups or ()}
    groups = [
        GroupRecord(
            group_sids[g.display_name.casefold()],
            dict(g.attributes),
            frozenset(sids.get(m.casefold(), m) for m in g.members),
            frozenset(group_sids.get(n.casefold(), n) for n in g.group_members),
            members_complete=True,
        )
        for g in data.groups or ()
    ]
    return users, groups


def csv_columns(text: str) -> tuple[str, ...]:
    """The clearable attributes a CSV's header names (in Graph's spelling)."""
    header = next(csv.reader(io.StringIO(text.removeprefix("\ufeff"))), [])
    return tuple(_CLEARABLE[c.strip().casefold()] for c in header if c.strip().casefold() in _CLEARABLE)


@dataclass
class _FileRound:
    kind: RoundKind
    _pages: list[Page]
    _cursor: str | None

    async def pages(self) -> AsyncIterator[Page]:
        for page in self._pages:
            yield page

    @property
    def cursor(self) -> str | None:
        return self._cursor


class FileSourceReader:
    """Reads the newest file of `folder`."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder) if folder else None

    def _folder(self) -> Path:
        if self.folder is None:
            raise SourceUnavailableError("the source has no path: `source set NAME path=DIR`")
        try:
            is_folder = self.folder.is_dir()
        except OSError:  # a name too long for the system: not a folder either
            is_folder = False
        if not is_folder:
            raise SourceUnavailableError(f"{self.folder} is not a folder this process can read")
        return self.folder

    async def check(self) -> CheckResult:
        try:
            folder = self._folder()
        except SourceUnavailableError as exc:
            return CheckResult(ok=False, message=str(exc))
        newest = newest_file(folder)
        if newest is None:
            return CheckResult(
                ok=True, message=f"{folder} is readable; no file delivered yet", details={"file": None}
            )
        return CheckResult(
            ok=True, message=f"{folder} is readable; newest file {newest.name}", details={"file": newest.name}
        )

    async def start_round(self, cursor: str | None, *, full: bool = False) -> _FileRound:
        folder = self._folder()
        newest = newest_file(folder)
        if newest is None:
            # An empty folder is not an empty directory: nothing to read, nothing removed.
            return _FileRound("delta", [], cursor)
        raw = newest.read_bytes()
        new_cursor = f"{newest.name}@{hashlib.sha256(raw).hexdigest()}"
        if cursor == new_cursor and not full:
            return _FileRound("delta", [], cursor)
        text = raw.decode("utf-8-sig")
        try:
            if newest.suffix.lower() == ".csv":
                users, groups = records(parse_users_csv(text), csv_columns(text))
            else:
                users, groups = records(parse_directory_json(text))
        except InvalidFileError as exc:
            raise SourceUnavailableError(f"{newest.name}: {exc}") from None
        pages = [Page(users=tuple(users[i : i + PAGE])) for i in range(0, len(users), PAGE)]
        pages += [Page(groups=tuple(groups[i : i + PAGE])) for i in range(0, len(groups), PAGE)]
        return _FileRound("full", pages, new_cursor)
