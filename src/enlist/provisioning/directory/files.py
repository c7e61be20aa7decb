"""Directory files, parsed and checked: pure functions from text to a `DirectoryFile`.

JSON: `{"users": [{…Graph attributes…, "manager": "<upn>"}], "groups": [{"displayName": …,
"members": ["<upn>", …], "groupMembers": ["<group displayName>", …]}]}`. CSV: users only, a
header row of Graph attribute names, `accountEnabled` as `true`/`false`, list attributes such as
`businessPhones` separated by `;`; the column headers of Entra's "Download users" export (`User
principal name`, `Display name`, `Object Id`, `State or province`, …) are read as the Graph
attributes they hold, and its read-only columns (`Creation type`, `Directory synced`, …) are
ignored.

Rules:

- A manager, a member or a nested group may be in the file or already in the directory: the
  importer resolves references (`importer`), the parser only checks their form.
- An entry records the attributes it carries (`carried`): an import merges them into an
  existing object, keeping the ones it does not carry; one carried empty clears.
- `users` is required; a file without `groups` (every CSV) says nothing about groups, so an
  import leaves them alone, even with `--replace`. Unknown top-level keys are refused: a typo
  such as `"user"` must not turn a `--replace` into deleting everyone.
- Known attribute names are matched case-insensitively and written in Graph's spelling; other
  attributes are kept as given. Empty values (null, `""`, `[]`) mean unset. Strings are stripped.
- A user without `accountEnabled` is enabled; without `mailNickname` it gets its UPN's alias
  (Graph requires one). A group without `securityEnabled`/`mailEnabled` is a security group.
- Managers may form a cycle (real directories have none, but nothing here depends on it).
- Every problem is reported, each naming its line: `line 57: users[12].userPrincipalName is
  missing`, `line 7: accountEnabled must be true or false, not 'maybe'`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from enlist.csv_cells import FORMULA_STARTS
from enlist.provisioning.directory.errors import InvalidFileError
from enlist.provisioning.directory.positions import json_lines

Path = tuple[str | int, ...]

USER_STRINGS = (
    "userPrincipalName",
    "mail",
    "mailNickname",
    "givenName",
    "surname",
    "displayName",
    "jobTitle",
    "department",
    "employeeId",
    "employeeType",
    "companyName",
    "mobilePhone",
    "faxNumber",
    "officeLocation",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "usageLocation",
    "preferredLanguage",
    "userType",
)
USER_LISTS = ("businessPhones", "otherMails")
GROUP_STRINGS = ("displayName", "description", "mail", "mailNickname")
GROUP_LISTS = ("groupTypes",)
_USER_REFS = ("id", "objectId", "manager")
_GROUP_REFS = ("id", "objectId", "members", "groupMembers")
_USER_NAMES = {n.casefold(): n for n in (*USER_STRINGS, *USER_LISTS, "accountEnabled", *_USER_REFS)}
_GROUP_NAMES = {
    n.casefold(): n for n in (*GROUP_STRINGS, *GROUP_LISTS, "securityEnabled", "mailEnabled", *_GROUP_REFS)
}
_UPN = re.compile(r"[^@\s]+@[^@\s]+")
MAX_COLUMNS = 1000
"""The most columns a CSV header may have (Graph's user attributes are about 30)."""
MAX_DEPTH = 32
"""The deepest a JSON file may nest (a directory file needs 4: users, a user, a list, a value)."""


@dataclass(frozen=True, slots=True)
class UserEntry:
    """One user of a file: Graph attributes (without `manager` and the id) and references."""

    attributes: Mapping[str, Any]
    id: str | None = None
    manager: str | None = None  # the manager's userPrincipalName
    where: str = ""  # `users[3]` or `line 7`, for messages
    # The attribute names the entry gave (`manager` included), empty ones too; None: all of them.
    # Not part of equality: two entries that set the same values are the same entry.
    carried: frozenset[str] | None = field(default=None, compare=False)

    @property
    def upn(self) -> str:
        return str(self.attributes["userPrincipalName"])


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """One group of a file: Graph attributes and its direct members, by UPN and by group name."""

    attributes: Mapping[str, Any]
    id: str | None = None
    members: tuple[str, ...] = ()
    group_members: tuple[str, ...] = ()
    where: str = ""
    carried: frozenset[str] | None = field(default=None, compare=False)  # as `UserEntry.carried`

    @property
    def display_name(self) -> str:
        return str(self.attributes["displayName"])


@dataclass(frozen=True, slots=True)
class DirectoryFile:
    """A parsed, checked directory file. `groups is None`: the file says nothing about groups."""

    users: tuple[UserEntry, ...]
    groups: tuple[GroupEntry, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The file in the JSON import format (`parse_directory_json` reads it back)."""
        users = [
            {
                **({"id": u.id} if u.id else {}),
                **u.attributes,
                **({"manager": u.manager} if u.manager else {}),
            }
            for u in self.users
        ]
        document: dict[str, Any] = {"users": users}
        if self.groups is not None:
            document["groups"] = [
                {
                    **({"id": g.id} if g.id else {}),
                    **g.attributes,
                    "members": list(g.members),
                    "groupMembers": list(g.group_members),
                }
                for g in self.groups
            ]
        return document


@dataclass
class _Problems:
    found: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, path: Path, message: str) -> None:
        self.found.append((path, message))


def parse_directory_json(text: str) -> DirectoryFile:
    """Parse and check a JSON directory file; raises `InvalidFileError` listing every problem."""
    text = text.removeprefix("\ufeff")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidFileError([f"line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    except RecursionError:  # the parser's own bound, far past MAX_DEPTH
        raise InvalidFileError([_too_deep()]) from None
    if _depth(document) > MAX_DEPTH:  # before `json_lines`, which walks the text recursively
        raise InvalidFileError([_too_deep()])
    problems = _Problems()
    data = _document(document, problems)
    if problems.found:
        lines = json_lines(text)

        def line_of(path: Path) -> int:
            while path not in lines and path:
                path = path[:-1]
            return lines.get(path, 1)

        located = sorted(((line_of(p), _dotted(p), m) for p, m in problems.found), key=lambda x: x[0])
        raise InvalidFileError([f"line {line}: {where} {m}" for line, where, m in located])
    return data


def _too_deep() -> str:
    return f"line 1: the file nests values more than {MAX_DEPTH} levels deep (a directory file needs 4)"


def _depth(document: Any) -> int:
    """How deep arrays and objects nest in `document` (a scalar is 0), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            break
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the file"


def _document(document: Any, problems: _Problems) -> DirectoryFile:
    if not isinstance(document, dict):
        problems.add((), "must be an object with `users` (and `groups`)")
        return DirectoryFile(())
    for key in document:
        if key not in {"users", "groups"}:
            problems.add((key,), "is not a key of a directory file (expected users, groups)")
    users = _list(document, "users", problems, required=True)
    groups = _list(document, "groups", problems, required=False)
    user_entries: list[tuple[UserEntry, Path]] = []
    for i, item in enumerate(users or []):
        path: Path = ("users", i)
        if (user := _user(item, path, problems, _dotted(path))) is not None:
            user_entries.append((user, path))
    group_entries: list[tuple[GroupEntry, Path]] = []
    for i, item in enumerate(groups or []):
        path = ("groups", i)
        if (group := _group(item, path, problems, _dotted(path))) is not None:
            group_entries.append((group, path))
    return _checked(user_entries, group_entries if groups is not None else None, problems)


def _list(document: dict[str, Any], key: str, problems: _Problems, *, required: bool) -> list[Any] | None:
    if key not in document:
        if required:
            problems.add((key,), "is missing (an empty list is fine)")
        return None
    value = document[key]
    if not isinstance(value, list):
        problems.add((key,), "must be a list")
        return None
    return value


def _canonical(
    item: Mapping[str, Any], names: Mapping[str, str], path: Path, problems: _Problems
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in item.items():
        name = names.get(key.casefold(), key)
        if name in result:
            problems.add((*path, key), f"is given twice (as {name})")
        result[name] = value.strip() if isinstance(value, str) else value
    return result


def _attributes(
    item: dict[str, Any],
    path: Path,
    problems: _Problems,
    strings: tuple[str, ...],
    lists: tuple[str, ...],
    bools: tuple[str, ...],
    refs: tuple[str, ...],
) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for name, value in item.items():
        if name in refs or value is None or value in ("", []):
            continue
        if name in strings and not isinstance(value, str):
            problems.add((*path, name), f"must be a string, not {_shown(value)}")
        elif name in bools and not isinstance(value, bool):
            problems.add((*path, name), f"must be true or false, not {_shown(value)}")
        elif name in lists and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problems.add((*path, name), f"must be a list of strings, not {_shown(value)}")
        else:
            attributes[name] = [v.strip() for v in value if v.strip()] if name in lists else value
    return attributes


def _shown(value: Any) -> str:
    shown = json.dumps(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _object_id(item: dict[str, Any], path: Path, problems: _Problems) -> str | None:
    """The object id the file gives (`id` or `objectId`, a GUID), canonical; None if none."""
    found: str | None = None
    for key in ("id", "objectId"):
        value = item.get(key)
        if value in (None, ""):
            continue
        try:
            canonical = str(uuid.UUID(value)) if isinstance(value, str) else None
        except ValueError:
            canonical = None
        if canonical is None:
            problems.add((*path, key), f"must be a GUID, not {_shown(value)}")
            return None
        if found is not None and canonical != found:
            problems.add((*path, key), "differs from id")
            return None
        found = canonical
    return found


def _user(item: Any, path: Path, problems: _Problems, where: str) -> UserEntry | None:
    if not isinstance(item, dict):
        problems.add(path, "must be an object")
        return None
    item = _canonical(item, _USER_NAMES, path, problems)
    attributes = _attributes(item, path, problems, USER_STRINGS, USER_LISTS, ("accountEnabled",), _USER_REFS)
    upn = attributes.get("userPrincipalName")
    if upn is None:
        if "userPrincipalName" not in item or item["userPrincipalName"] in (None, ""):
            problems.add((*path, "userPrincipalName"), "is missing")
        return None
    if not _UPN.fullmatch(upn):
        problems.add((*path, "userPrincipalName"), f"{_shown(upn)} is not of the form alias@domain")
        return None
    attributes.setdefault("accountEnabled", True)
    attributes.setdefault("mailNickname", upn.split("@", 1)[0])
    manager = item.get("manager")
    if manager is not None and not isinstance(manager, str):
        problems.add((*path, "manager"), f"must be a userPrincipalName, not {_shown(manager)}")
        manager = None
    carried = frozenset(item) - {"id", "objectId"}
    return UserEntry(attributes, _object_id(item, path, problems), manager or None, where, carried)


def _group(item: Any, path: Path, problems: _Problems, where: str) -> GroupEntry | None:
    if not isinstance(item, dict):
        problems.add(path, "must be an object")
        return None
    item = _canonical(item, _GROUP_NAMES, path, problems)
    attributes = _attributes(
        item, path, problems, GROUP_STRINGS, GROUP_LISTS, ("securityEnabled", "mailEnabled"), _GROUP_REFS
    )
    if "displayName" not in attributes:
        if item.get("displayName") in (None, ""):
            problems.add((*path, "displayName"), "is missing")
        return None
    attributes.setdefault("securityEnabled", True)
    attributes.setdefault("mailEnabled", False)
    members: list[tuple[str, ...]] = []
    for key in ("members", "groupMembers"):
        value = item.get(key)
        if value is None:
            members.append(())
        elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.add((*path, key), f"must be a list of strings, not {_shown(value)}")
            members.append(())
        else:
            members.append(tuple(v.strip() for v in value))
    carried = frozenset(item) - {"id", "objectId"}
    return GroupEntry(attributes, _object_id(item, path, problems), members[0], members[1], where, carried)


def _checked(
    users: list[tuple[UserEntry, Path]],
    groups: list[tuple[GroupEntry, Path]] | None,
    problems: _Problems,
) -> DirectoryFile:
    """Check what spans entries: duplicates and references."""
    upns: dict[str, str] = {}
    ids: dict[str, str] = {}
    for user, path in users:
        _unique(upns, user.upn, user.where, (*path, "userPrincipalName"), problems)
        if user.id is not None:
            _unique(ids, user.id, user.where, (*path, "id"), problems)
    names: dict[str, str] = {}
    ids = {}
    for group, path in groups or []:
        _unique(names, group.display_name, group.where, (*path, "displayName"), problems)
        if group.id is not None:
            _unique(ids, group.id, group.where, (*path, "id"), problems)
    for group, path in groups or []:
        for i, name in enumerate(group.group_members):
            if name.casefold() == group.display_name.casefold():
                problems.add((*path, "groupMembers", i), f"{name!r} is the group itself")
    return DirectoryFile(tuple(u for u, _ in users), None if groups is None else tuple(g for g, _ in groups))


def _unique(seen: dict[str, str], value: str, where: str, path: Path, problems: _Problems) -> None:
    key = value.casefold()
    if key in seen:
        problems.add(path, f"{value!r} is already {seen[key]}'s")
    else:
        seen[key] = where


# CSV --------------------------------------------------------------------------------------------


def parse_users_csv(text: str) -> DirectoryFile:
    """Parse and check a CSV of users (first row: Graph attribute names, `manager`, `id`); raises
    `InvalidFileError` listing every problem. The result has no groups (`groups is None`)."""
    problems = _Problems()
    entries: list[tuple[UserEntry, Path]] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    header: list[str] | None = None
    line = 1
    try:
        for row in reader:
            # A record starts on the line after the previous one ended (blank lines are records).
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _header([entra_column(cell) for cell in row], start, problems)
                if header is None:
                    break
            elif len(row) != len(header):
                problems.add((start,), f"has {len(row)} fields, the header has {len(header)}")
            else:
                item = _csv_values(dict(zip(header, row, strict=True)))
                if (entry := _user(item, (start,), problems, f"line {start}")) is not None:
                    entries.append((entry, (start,)))
    except csv.Error as exc:
        problems.add((line,), f"is not valid CSV: {exc}")
    if header is None and not problems.found:
        problems.add((1,), "has no header row (Graph attribute names, with userPrincipalName)")
    data = _checked(entries, None, problems)
    if problems.found:
        located = sorted(problems.found, key=lambda found: found[0][0])
        raise InvalidFileError(
            [f"line {p[0]}: " + (f"{_dotted(p[1:])} " if p[1:] else "") + m for p, m in located]
        )
    return data


def _header(row: list[str], line: int, problems: _Problems) -> list[str] | None:
    if len(row) > MAX_COLUMNS:
        problems.add((line,), f"the header has {len(row):,} columns; a directory file may have {MAX_COLUMNS}")
        return None
    header = [_USER_NAMES.get(cell.strip().casefold(), cell.strip()) for cell in row]
    fine = True
    seen: set[str] = set()  # a set, not header.index(): 100,000 columns once took 34 s
    for position, name in enumerate(header, start=1):
        if not name:
            problems.add((line,), f"column {position} of the header has no name")
            fine = False
        elif name in seen:
            problems.add((line,), f"column {name} is in the header twice")
            fine = False
        seen.add(name)
    if "userPrincipalName" not in header:
        problems.add((line,), "the header has no userPrincipalName column")
        fine = False
    return header if fine else None


_IGNORED = "#ignored:"
# Entra's "Download users" headers whose words do not spell the Graph attribute (the others, such
# as `User principal name` or `Job title`, do once the spaces go).
ENTRA_HEADERS = {
    "objectid": "id",
    "stateorprovince": "state",
    "countryorregion": "country",
    "office": "officeLocation",
    "physicaldeliveryofficename": "officeLocation",
    "ziporpostalcode": "postalCode",
    "officephone": "businessPhones",
    "telephonenumber": "businessPhones",
    "mobile": "mobilePhone",
    "firstname": "givenName",
    "lastname": "surname",
    "alternateemailaddress": "otherMails",
}


def entra_column(cell: str) -> str:
    """A CSV header cell as the importer reads it: a Graph attribute name as given, or one of
    Entra's export headers as the attribute it holds. A header with spaces that names no
    attribute (Entra's read-only `Creation type`, `Directory synced`, …) is ignored."""
    name = cell.strip()
    if " " not in name:
        return name
    squashed = name.replace(" ", "").casefold()
    if squashed in ENTRA_HEADERS:
        return ENTRA_HEADERS[squashed]
    if squashed in _USER_NAMES:
        return _USER_NAMES[squashed]
    return f"{_IGNORED}{name}"


def _csv_values(cells: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, cell in cells.items():
        if name.startswith(_IGNORED):
            continue
        value = cell.strip()
        if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
            value = value[1:]  # the quote a CSV export puts before a formula character (csv_cells)
        if name == "accountEnabled" and value.casefold() in {"true", "false"}:
            item[name] = value.casefold() == "true"
        elif name in USER_LISTS:
            item[name] = [part for part in value.split(";") if part.strip()]
        else:
            item[name] = value
    return item
