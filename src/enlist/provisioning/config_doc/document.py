"""An application as a document, and back (pure): the core of `app export` and `app import`.

The document, in key order (docs/reference/application-document.md describes every key):

    version: 1
    name: the application's name
    connection: {tenant_url, secret_token}  # secret_token is always SECRET_PLACEHOLDER
    provisioning_status: "on" | "off"
    settings: {every AppSettings field}
    scoping_filters: [{title, clauses: [{attribute, operator, value}]}]
    mappings: {users: {enabled, attributes: [...]}, groups: {...}}
    assignments: {users: [userPrincipalName...], groups: [displayName...]}

`read_document` checks every key (type, value, unknown and missing keys, expressions, scoping
clauses) and returns an `AppDocument`, or raises `DocumentError` naming the path. `to_data`
writes the same keys in the same order, assignments sorted, so exporting what was imported
gives the same document. Settings are read generically from `AppSettings`' fields, so a setting
added there is exported and imported without a change here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from enlist.document_shape import (
    DocumentError,
    exact_keys,
    join,
    kind_of,
    like,
    setting_text,
    text,
    text_list,
)
from enlist.provisioning.engine.app_settings import AppSettings, SettingError
from enlist.provisioning.mapping.errors import MappingError, ScopingError
from enlist.provisioning.mapping.mappings import (
    AttributeMapping,
    ObjectMapping,
    mapping_to_json,
)
from enlist.provisioning.mapping.scoping import (
    ScopingClause,
    ScopingFilter,
    filters_to_json,
)

VERSION = 1
# What a document carries instead of the Secret token (ADR 0027): the token is given to
# `app import` on its own (`--secret-token -`), never kept in a file that goes into git.
SECRET_PLACEHOLDER = "<given to app import with --secret-token>"  # noqa: S105 (a placeholder)
Status = Literal["on", "off"]

TOP_KEYS = (
    "version",
    "name",
    "connection",
    "provisioning_status",
    "settings",
    "scoping_filters",
    "mappings",
    "assignments",
)
_CONNECTION_KEYS = ("tenant_url", "secret_token")
_MAPPINGS_KEYS = ("users", "groups")
_OBJECT_KEYS = ("enabled", "attributes")
_ATTRIBUTE_KEYS = ("target", "kind", "source", "apply", "matching_precedence", "default_if_null")
_FILTER_KEYS = ("title", "clauses")
_CLAUSE_KEYS = ("attribute", "operator", "value")
_ASSIGNMENT_KEYS = ("users", "groups")


@dataclass(frozen=True, slots=True)
class AppDocument:
    """One application's whole configuration, checked. Assignments are by name: users by
    userPrincipalName, groups by displayName (the directory ids differ between services)."""

    name: str
    tenant_url: str | None
    provisioning_status: Status
    settings: AppSettings
    scoping: tuple[ScopingFilter, ...]
    user_mapping: ObjectMapping
    group_mapping: ObjectMapping
    users: tuple[str, ...]
    groups: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        """The document as plain data, keys in the order of the module docstring."""
        return {
            "version": VERSION,
            "name": self.name,
            "connection": {"tenant_url": self.tenant_url, "secret_token": SECRET_PLACEHOLDER},
            "provisioning_status": self.provisioning_status,
            "settings": self.settings.to_json(),
            "scoping_filters": filters_to_json(self.scoping),
            "mappings": {
                "users": _object_data(self.user_mapping),
                "groups": _object_data(self.group_mapping),
            },
            "assignments": {"users": sorted_names(self.users), "groups": sorted_names(self.groups)},
        }


def sorted_names(names: tuple[str, ...] | list[str]) -> list[str]:
    """Names in a stable order: case-insensitively, then exactly."""
    return sorted(names, key=lambda n: (n.casefold(), n))


def _object_data(mapping: ObjectMapping) -> dict[str, Any]:
    data = mapping_to_json(mapping)
    return {"enabled": data["enabled"], "attributes": data["attributes"]}


def read_document(data: Any) -> AppDocument:
    """The document `data` (parsed JSON or YAML) describes; `DocumentError` naming the first
    key at fault. Checks the version first, so a document from another format version is
    refused as such rather than for its keys."""
    if isinstance(data, dict) and "version" in data:
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise DocumentError("version", f"must be a whole number, not {kind_of(version)}")
        if version != VERSION:
            raise DocumentError("version", f"this enlist reads version {VERSION} documents, not {version}")
    exact_keys(data, TOP_KEYS, "")
    name = text(data["name"], "name")
    if not name.strip() or len(name.strip()) > 200:
        raise DocumentError("name", "must be 1 to 200 characters")
    if "/" in name or any(not c.isprintable() for c in name):
        raise DocumentError("name", f"cannot contain '/' or control characters: {name!r}")
    connection = exact_keys(data["connection"], _CONNECTION_KEYS, "connection")
    tenant_url = _tenant_url(connection["tenant_url"])
    if connection["secret_token"] != SECRET_PLACEHOLDER:
        raise DocumentError(
            "connection.secret_token",
            f"a document never carries the Secret token: keep {SECRET_PLACEHOLDER!r} here and give the "
            "token to `app import` with --secret-token (- reads it from stdin)",
        )
    status = data["provisioning_status"]
    if status not in ("on", "off"):
        hint = ' (in YAML, quote it: "on")' if isinstance(status, bool) else ""
        raise DocumentError("provisioning_status", f'must be "on" or "off", not {status!r}{hint}')
    if status == "on" and tenant_url is None:
        raise DocumentError("provisioning_status", '"on" needs connection.tenant_url')
    mappings = exact_keys(data["mappings"], _MAPPINGS_KEYS, "mappings")
    assignments = exact_keys(data["assignments"], _ASSIGNMENT_KEYS, "assignments")
    return AppDocument(
        name=name.strip(),
        tenant_url=tenant_url,
        provisioning_status=status,
        settings=read_settings(data["settings"]),
        scoping=read_scoping(data["scoping_filters"], "scoping_filters"),
        user_mapping=read_object_mapping(mappings["users"], "user", "mappings.users"),
        group_mapping=read_object_mapping(mappings["groups"], "group", "mappings.groups"),
        users=tuple(text_list(assignments["users"], "assignments.users")),
        groups=tuple(text_list(assignments["groups"], "assignments.groups")),
    )


def _tenant_url(value: Any) -> str | None:
    url = text(value, "connection.tenant_url", nullable=True)
    if url is None:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2048:
        raise DocumentError(
            "connection.tenant_url", f"must be an http(s) URL of at most 2048 characters, not {url!r}"
        )
    return str(url.strip())


def read_settings(data: Any, path: str = "settings") -> AppSettings:
    """Every `AppSettings` field, each checked for its type and then by the same parser as
    `app set` (so the same bounds and choices apply)."""
    fields = dataclasses.fields(AppSettings)
    exact_keys(data, [f.name for f in fields], path)
    defaults = AppSettings()
    settings = defaults
    for f in fields:
        key_path = join(path, f.name)
        value = like(data[f.name], getattr(defaults, f.name), key_path)
        if isinstance(value, bool | int | float | str):
            try:
                settings = settings.with_changes({f.name: setting_text(value)})
            except SettingError as exc:
                raise DocumentError(key_path, str(exc)) from None
        else:
            settings = dataclasses.replace(settings, **{f.name: value})
    return settings


def read_scoping(data: Any, path: str) -> tuple[ScopingFilter, ...]:
    """Scoping filters: a list of `{title, clauses: [{attribute, operator, value}]}`."""
    if not isinstance(data, list):
        raise DocumentError(path, f"must be a list, not {kind_of(data)}")
    filters: list[ScopingFilter] = []
    for index, item in enumerate(data):
        item_path = join(path, index)
        exact_keys(item, _FILTER_KEYS, item_path)
        title = text(item["title"], join(item_path, "title"))
        if not isinstance(item["clauses"], list) or not item["clauses"]:
            raise DocumentError(join(item_path, "clauses"), "must be a list of one clause or more")
        clauses: list[ScopingClause] = []
        for number, clause in enumerate(item["clauses"]):
            clause_path = join(join(item_path, "clauses"), number)
            exact_keys(clause, _CLAUSE_KEYS, clause_path)
            for key in _CLAUSE_KEYS:
                text(clause[key], join(clause_path, key))
            try:
                clauses.append(ScopingClause(clause["attribute"], clause["operator"], clause["value"]))
            except ScopingError as exc:
                raise DocumentError(clause_path, str(exc)) from None
        filters.append(ScopingFilter(tuple(clauses), title))
    return tuple(filters)


def read_object_mapping(data: Any, object_kind: Literal["user", "group"], path: str) -> ObjectMapping:
    """`{enabled, attributes: [...]}`: every row built (its expression parsed) and the whole
    mapping checked (unique targets and precedences, a matching attribute when enabled)."""
    exact_keys(data, _OBJECT_KEYS, path)
    if not isinstance(data["enabled"], bool):
        raise DocumentError(join(path, "enabled"), f"must be true or false, not {kind_of(data['enabled'])}")
    if not isinstance(data["attributes"], list):
        raise DocumentError(join(path, "attributes"), f"must be a list, not {kind_of(data['attributes'])}")
    rows: list[AttributeMapping] = []
    for index, item in enumerate(data["attributes"]):
        row_path = join(join(path, "attributes"), index)
        exact_keys(item, _ATTRIBUTE_KEYS, row_path)
        for key in ("target", "kind", "source", "apply"):
            text(item[key], join(row_path, key))
        text(item["default_if_null"], join(row_path, "default_if_null"), nullable=True)
        precedence = item["matching_precedence"]
        if precedence is not None and (isinstance(precedence, bool) or not isinstance(precedence, int)):
            raise DocumentError(
                join(row_path, "matching_precedence"),
                f"must be a whole number or null, not {kind_of(precedence)}",
            )
        try:
            rows.append(AttributeMapping(**item))
        except MappingError as exc:
            where = join(row_path, "source") if exc.position is not None else row_path
            raise DocumentError(where, str(exc)) from None
    try:
        return ObjectMapping(object_kind, data["enabled"], tuple(rows))
    except MappingError as exc:
        raise DocumentError(path, str(exc)) from None
