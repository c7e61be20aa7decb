"""One provisioning cycle, initial or incremental, as Entra runs it (and a little better).

Order: probe the target (Test connection), read what changed in the source, users (scope →
match → create, adopt, update, disable, delete), groups (create, update, delete), references
(managers, then group memberships as deltas), and last the removals, held back as staged
deletions when they pass the app's accidental-deletion threshold. Each object gets one
provisioning log record; an object that fails is escrowed for a later cycle and never blocks the
others. A source read that fails sends no disable and no delete. Pausing stops the cycle at the
next object boundary; the watermark only moves when a cycle completes, and links make a re-run
converge, so a cycle killed mid-way is simply run again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from enlist.db.rows import now
from enlist.provisioning.directory.model import SourceGroup, SourceUser
from enlist.provisioning.engine.cycle_state import (
    PAGE,
    CycleStopped,
    Removal,
    bounded,
    details,
    imported,
    scoped,
)
from enlist.provisioning.engine.plan import Action, LinkState, decide_group, decide_user, unmappable
from enlist.provisioning.engine.references import References
from enlist.provisioning.engine.scope import ScopeDecision, expand_assigned_groups, group_scope, user_scope
from enlist.provisioning.engine.summary import CycleSummary
from enlist.provisioning.logs.records import LogRecord, Modified
from enlist.provisioning.mapping.errors import MappingError
from enlist.provisioning.store import links as link_store
from enlist.provisioning.target.errors import TargetError

__all__ = ["PAGE", "Cycle", "Work"]


@dataclass(frozen=True, slots=True)
class UserPlan:
    """What the cycle decided for one user of a page, before any request: its action and record."""

    user_id: str
    user: SourceUser | None
    action: Action
    link: LinkState | None
    record: LogRecord


@dataclass
class Work:
    """What this cycle looks at: the users and groups to evaluate and the membership pairs."""

    users: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)  # (group, user) memberships to check
    everything: bool = False


class Cycle(References):
    """Run with `await Cycle(...).run(work, seq_end)`; see the module docstring for the order."""

    # -- the cycle -------------------------------------------------------------------------

    async def run(self, work: Work, seq_end: int) -> CycleSummary:
        started = time.perf_counter()
        self.effective_groups = await self._effective_groups()
        self.total = len(work.users) + len(work.groups) if not work.everything else 0
        try:
            await self._users(work)
            if self.settings.provision_groups:
                await self._groups(work)
                await self._members_of_removed_groups()
            await self._managers()
            self._check_threshold()
            if self.settings.provision_groups:
                await self._memberships(work)
            await self._apply_removals()
            self.summary.completed = True
            self.summary.watermark = seq_end
        except CycleStopped:
            self.summary.stopped = True
        finally:
            await self._flush()
            self.summary.duration_s = round(time.perf_counter() - started, 3)
        return self.summary

    async def _effective_groups(self) -> frozenset[str]:
        """The groups whose members are assigned: the assigned groups that still exist (a
        soft-deleted group assigns nobody), and with flattening every group nested in them."""
        existing = await self.source.get_groups(self.assignments.groups)
        assigned = frozenset(g.id for g in existing.values() if g.deleted_at is None)
        if not self.settings.flatten_nested_groups:
            return assigned
        parents: dict[str, frozenset[str]] = {}
        frontier, seen = set(assigned), set(assigned)
        while frontier:
            groups = await self.source.get_groups(frontier)
            frontier = set()
            for group in groups.values():
                for child in group.member_group_ids:
                    parents[child] = parents.get(child, frozenset()) | {group.id}
                    if child not in seen:
                        seen.add(child)
                        frontier.add(child)
        return expand_assigned_groups(assigned, parents, flatten=True)

    # -- users ------------------------------------------------------------------------------

    async def _users(self, work: Work) -> None:
        if work.everything:
            seen: set[str] = set()
            async for page in self.source.iter_users(PAGE):
                seen.update(u.id for u in page)
                await self._user_page({u.id: u for u in page}, set())
            # Linked users the source no longer has at all were hard-deleted.
            async with self.db.read() as conn:
                gone = await link_store.linked_source_ids(conn, self.app.id, "user") - seen
            if gone:
                await self._user_page({}, gone)
            return
        ids = sorted(work.users)
        for start in range(0, len(ids), PAGE):
            part = ids[start : start + PAGE]
            found = await self.source.get_users(part)
            await self._user_page(found, set(part) - set(found))

    async def _user_page(self, users: dict[str, SourceUser], missing: set[str]) -> None:
        self.evaluated_users |= set(users) | missing
        groups_of = await self.source.groups_containing(list(users))
        async with self.db.read() as conn:
            linked = await link_store.load_links(conn, self.app.id, "user", set(users) | missing)
        planned = []
        for user_id in sorted(set(users) | missing):
            user = users.get(user_id)
            scope = None
            if user is not None:
                scope = user_scope(
                    user,
                    sync_all=self.settings.scope == "all",
                    assignments=self.assignments,
                    effective_groups=self.effective_groups,
                    user_groups=groups_of.get(user_id, set()),
                    passes_filters=self.mappings.passes_user_filters,
                )
            planned.append(self._plan_user(user_id, user, scope, linked.get(user_id)))
        await bounded([self._user(p) for p in planned], self.settings.max_concurrency * 2)
        await self._flush()

    def _plan_user(
        self, user_id: str, user: SourceUser | None, scope: ScopeDecision | None, link: LinkState | None
    ) -> UserPlan:
        record = LogRecord(self.id, "user", user_id, user.upn if user else None, now())
        record.step("EntryImport", "import", "success", imported(user, "User"))
        if scope is not None:
            record.step("EntrySynchronizationScoping", "scoping", "success", scoped(scope), **details(scope))
        desired: dict[str, Any] = {}
        unmapped = None
        if user is not None and scope is not None and scope.in_scope:
            try:
                desired = self.mappings.user_values(user, creating=link is None)
            except MappingError as error:  # one object's failure (a regex past its time limit…)
                unmapped = unmappable(error)
        action = unmapped or decide_user(
            exists_in_source=user is not None,
            scope=scope,
            link=link,
            desired=desired,
            skip_out_of_scope_deletions=self.settings.skip_out_of_scope_deletions,
            has_active_mapping=self.mappings.has_active,
        )
        if user is not None and scope is not None and (scope.in_scope or link is not None):
            self.touched_users.add(user_id)
        return UserPlan(user_id, user, action, link, record)

    async def _user(self, plan: UserPlan) -> None:
        began = time.perf_counter()
        try:
            await self._user_action(plan.user_id, plan.user, plan.action, plan.link, plan.record)
        except TargetError as error:
            await self._failed(plan.record, "user", plan.user_id, error)
        finally:
            plan.record.duration_ms = (time.perf_counter() - began) * 1000
        await self._checkpoint()

    async def _user_action(
        self, user_id: str, user: SourceUser | None, action: Action, link: LinkState | None, record: LogRecord
    ) -> None:
        if await self._held_or_skipped("user", user_id, action, link, record):
            return
        assert user is not None
        if action.kind == "create":
            target_id, current = await self._match_user(action.desired, record)
            if target_id is None:
                created = await self.target.create("User", self.mappings.user_document(action.desired))
                target_id = str(created["id"])
                record.action = "create"
                record.modified = [Modified(p, None, v) for p, v in sorted(action.desired.items())]
                record.step(
                    "EntryExportAdd", "export", "success", f"User '{user.upn}' was created in the target"
                )
                self.new_user_links.add(user_id)
                self._count("created", record)
            else:
                changes = self.mappings.changes_against(current, action.desired)
                if changes:
                    await self.target.patch_user(target_id, self.mappings.wire(changes))
                record.action = "update" if changes else "other"
                record.modified = [Modified(c.path, c.old, c.new) for c in changes]
                record.step(
                    "EntryExportUpdate",
                    "export",
                    "success",
                    f"User '{user.upn}' matched target object {target_id} and was linked"
                    + (f"; {len(changes)} attribute(s) updated" if changes else "; nothing to change"),
                )
                self.new_user_links.add(user_id)
                self._count("updated" if changes else "skipped", record)
            record.target_id = target_id
            await self._linked("user", user_id, target_id, dict(action.desired), disabled=False)
            return
        assert link is not None
        assert action.kind == "update"
        await self.target.patch_user(link.target_id, self.mappings.wire(list(action.changes)))
        record.action, record.target_id = "update", link.target_id
        record.modified = [Modified(c.path, c.old, c.new) for c in action.changes]
        record.step(
            "EntryExportUpdate",
            "export",
            "success",
            f"{len(action.changes)} attribute(s) updated in the target",
        )
        self._count("updated", record)
        state = {**link.state, **action.desired}
        await self._linked("user", user_id, link.target_id, state, disabled=False)

    async def _held_or_skipped(
        self, kind: str, source_id: str, action: Action, link: LinkState | None, record: LogRecord
    ) -> bool:
        """Removals wait for the threshold check at the end; skips are logged. True when the
        action needs nothing more now."""
        if action.is_removal:
            assert link is not None
            record.target_id = link.target_id
            self.removals.append(
                Removal(kind, source_id, record.source_name or source_id, action, link, record)
            )
            return True
        if action.kind != "skip":
            return False
        record.action, record.status = "other", "skipped"
        record.target_id = link.target_id if link else None
        record.step(
            "EntrySynchronizationSkip", "processing", "skipped", action.reason, SkipReason=action.skip_reason
        )
        self._count("skipped", record)
        if link is not None:
            await self._cleared(kind, source_id)
        return True

    async def _match_user(
        self, desired: Mapping[str, Any], record: LogRecord
    ) -> tuple[str | None, dict[str, Any]]:
        """Entra's matching: query the target by each matching attribute in precedence order."""
        for path in self.mappings.user_matching:
            value = desired.get(path)
            if value in (None, ""):
                continue
            found = await self.target.find_users(path, str(value))
            if len(found) > 1:
                raise TargetError(
                    "DuplicateTargetEntries",
                    f"{len(found)} target users have {path} {value!r}",
                    "Remove or merge the duplicates in the target application, then retry.",
                )
            if found:
                record.step(
                    "EntryImport",
                    "matching",
                    "success",
                    f"Matched target user {found[0].get('id')} by {path}",
                )
                return str(found[0]["id"]), found[0]
        record.step(
            "EntrySynchronizationAdd",
            "matching",
            "success",
            "No matching user in the target: it will be created",
        )
        return None, {}

    async def _members_of_removed_groups(self) -> None:
        """A group that left scope or the directory takes its members' assignment with it:
        evaluate the users the engine wrote into it, unless this cycle already did."""
        removed = [r.source_id for r in self.removals if r.kind == "group"]
        if not removed:
            return
        async with self.db.read() as conn:
            written = await link_store.written_members(conn, self.app.id, removed)
        users = sorted(set().union(*written.values()) - self.evaluated_users) if written else []
        for start in range(0, len(users), PAGE):
            part = users[start : start + PAGE]
            found = await self.source.get_users(part)
            await self._user_page(found, set(part) - set(found))

    # -- groups -----------------------------------------------------------------------------

    async def _groups(self, work: Work) -> None:
        if work.everything:
            seen: set[str] = set()
            async for page in self.source.iter_groups(PAGE):
                seen.update(g.id for g in page)
                await self._group_page({g.id: g for g in page}, set())
            async with self.db.read() as conn:
                gone = await link_store.linked_source_ids(conn, self.app.id, "group") - seen
            if gone:
                await self._group_page({}, gone)
            return
        ids = sorted(work.groups)
        for start in range(0, len(ids), PAGE):
            part = ids[start : start + PAGE]
            found = await self.source.get_groups(part)
            await self._group_page(found, set(part) - set(found))

    async def _group_page(self, groups: dict[str, SourceGroup], missing: set[str]) -> None:
        async with self.db.read() as conn:
            linked = await link_store.load_links(conn, self.app.id, "group", set(groups) | missing)
        tasks = [self._group(gid, groups.get(gid), linked.get(gid)) for gid in sorted(set(groups) | missing)]
        await bounded(tasks, self.settings.max_concurrency * 2)
        await self._flush()

    async def _group(self, group_id: str, group: SourceGroup | None, link: LinkState | None) -> None:
        scope = None
        if group is not None:
            scope = group_scope(
                group, sync_all=self.settings.scope == "all", effective_groups=self.effective_groups
            )
            if not scope.in_scope and link is None and self.settings.scope == "assigned":
                return  # not assigned, never provisioned: nothing to say
        record = LogRecord(self.id, "group", group_id, group.display_name if group else None, now())
        began = time.perf_counter()
        record.step("EntryImport", "import", "success", imported(group, "Group"))
        if scope is not None:
            record.step("EntrySynchronizationScoping", "scoping", "success", scoped(scope), **details(scope))
        try:
            desired = (
                self.mappings.group_values(group, creating=link is None)
                if group and scope and scope.in_scope
                else {}
            )
            action = decide_group(exists_in_source=group is not None, scope=scope, link=link, desired=desired)
        except MappingError as error:
            action = unmappable(error)
        try:
            await self._group_action(group_id, group, action, link, record)
        except TargetError as error:
            await self._failed(record, "group", group_id, error)
        finally:
            record.duration_ms = (time.perf_counter() - began) * 1000
        await self._checkpoint()

    async def _group_action(
        self,
        group_id: str,
        group: SourceGroup | None,
        action: Action,
        link: LinkState | None,
        record: LogRecord,
    ) -> None:
        if await self._held_or_skipped("group", group_id, action, link, record):
            return
        assert group is not None
        if action.kind == "create":
            found = await self.target.find_groups(group.display_name)
            if len(found) > 1:
                raise TargetError(
                    "DuplicateTargetEntries",
                    f"{len(found)} target groups are named {group.display_name!r}",
                    "Make group names unique in the target application, then retry.",
                )
            if found:
                target_id = str(found[0]["id"])
                changes = self.mappings.changes_against(found[0], action.desired)
                if changes:
                    await self.target.patch_group(target_id, self.mappings.wire(changes))
                record.action = "update" if changes else "other"
                record.step(
                    "EntryExportUpdate",
                    "export",
                    "success",
                    f"Matched target group {target_id} by displayName",
                )
                self._count("updated" if changes else "skipped", record)
            else:
                created = await self.target.create("Group", self.mappings.group_document(action.desired))
                target_id = str(created["id"])
                record.action = "create"
                record.modified = [Modified(p, None, v) for p, v in sorted(action.desired.items())]
                record.step(
                    "EntryExportAdd", "export", "success", f"Group '{group.display_name}' was created"
                )
                self._count("created", record)
            record.target_id = target_id
            await self._linked("group", group_id, target_id, dict(action.desired), disabled=False)
            return
        assert link is not None
        await self.target.patch_group(link.target_id, self.mappings.wire(list(action.changes)))
        record.action, record.target_id = "update", link.target_id
        record.modified = [Modified(c.path, c.old, c.new) for c in action.changes]
        record.step("EntryExportUpdate", "export", "success", f"{len(action.changes)} attribute(s) updated")
        self._count("updated", record)
        await self._linked(
            "group", group_id, link.target_id, {**link.state, **action.desired}, disabled=False
        )
