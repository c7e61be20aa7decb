"""An application's mappings and scoping filters, as the cycle uses them.

Wraps `enlist.provisioning.mapping` for one app: the values a source object maps to, the
document a create sends, the changes an adopted target object needs, the matching attributes in
precedence order, and the wire form of changes. References (`manager`, `members`) never travel
with the object: their own passes resolve them to target ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from enlist.provisioning.directory.model import SourceGroup, SourceUser
from enlist.provisioning.engine.plan import Change, is_reference
from enlist.provisioning.engine.target_values import read_path
from enlist.provisioning.mapping.mappings import ObjectMapping, map_object, mapping_from_json, to_document
from enlist.provisioning.mapping.scoping import ScopingFilter, filters_from_json, in_scope
from enlist.provisioning.mapping.source import group_source, user_source
from enlist.provisioning.store.apps import App
from enlist.provisioning.target.dialect import MANAGER_PATH, AttributeChange
from enlist.scim.schema import GROUP_SCHEMA_ID


@dataclass(frozen=True, slots=True)
class Mappings:
    user: ObjectMapping
    group: ObjectMapping
    filters: tuple[ScopingFilter, ...]
    dialect: str = "rfc"

    @classmethod
    def from_app(cls, app: App) -> Mappings:
        return cls(
            mapping_from_json(app.user_mapping),
            mapping_from_json(app.group_mapping),
            tuple(filters_from_json(app.scoping)),
            app.settings.dialect,
        )

    @property
    def has_active(self) -> bool:
        return any(m.target.lower() == "active" for m in self.user.attributes)

    @property
    def maps_manager(self) -> bool:
        return any(m.target.lower() in ("manager", MANAGER_PATH.lower()) for m in self.user.attributes)

    @property
    def user_matching(self) -> list[str]:
        return [m.target for m in self.user.matching()]

    def passes_user_filters(self, user: SourceUser) -> bool:
        return in_scope(list(self.filters), user_source(user))

    def user_values(self, user: SourceUser, *, creating: bool) -> dict[str, Any]:
        values = map_object(self.user, user_source(user), creating=creating)
        return {path: value for path, value in values.items() if not is_reference(path)}

    def group_values(self, group: SourceGroup, *, creating: bool) -> dict[str, Any]:
        values = map_object(self.group, group_source(group), creating=creating)
        return {path: value for path, value in values.items() if not is_reference(path)}

    def user_document(self, desired: Mapping[str, Any]) -> dict[str, Any]:
        return to_document(desired, object_kind="user")

    def group_document(self, desired: Mapping[str, Any]) -> dict[str, Any]:
        """Entra's dialect names its own group schema URI too; an RFC server may refuse an
        extension it does not know (scim2-server does), so the RFC dialect sends the core only."""
        document = to_document(desired, object_kind="group")
        if self.dialect == "rfc":
            document["schemas"] = [GROUP_SCHEMA_ID]
        return document

    def changes_against(self, resource: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Change]:
        """What an existing target object needs to look like the source (adoption)."""
        changes = []
        for path, value in sorted(desired.items()):
            current = read_path(resource, path)
            if current != value:
                changes.append(Change(path, current, value))
        return changes

    @staticmethod
    def wire(changes: list[Change]) -> list[AttributeChange]:
        return [AttributeChange(c.path, c.new, old_present=c.old is not None) for c in changes]
