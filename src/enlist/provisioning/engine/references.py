"""The reference passes of a cycle and its removals.

Managers: once both users have target ids, each user's manager is set to the manager's target
id; a user whose manager is not provisioned yet is written without one, and picked up again
the moment the manager gets linked (Entra only fixes that on Restart). Memberships: the group's
wanted members (in-scope, linked users; nested ones too when flattening) against the members
the engine wrote, sent as add/remove deltas in chunks. Removals last, held back as staged
deletions when there are more than the app's threshold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from enlist.db.rows import now
from enlist.provisioning.directory.model import SourceGroup
from enlist.provisioning.engine.cycle_state import PAGE, CycleState, bounded, details
from enlist.provisioning.engine.plan import Change, LinkState, member_delta
from enlist.provisioning.engine.scope import user_scope
from enlist.provisioning.logs.records import LogRecord, Modified
from enlist.provisioning.store import links as link_store
from enlist.provisioning.store.staging import stage
from enlist.provisioning.target.dialect import MANAGER_PATH
from enlist.provisioning.target.errors import TargetError

MANAGER_KEY = "manager"
GROUP_BATCH = 50  # groups whose membership is read and compared together
MEMBER_BATCH = 2000  # about this many members' users and links are held in memory at once


@dataclass(frozen=True, slots=True)
class MemberPlan:
    """One group's membership check: the members to evaluate, the ones written, the ones looked at."""

    group: SourceGroup
    target_id: str
    candidates: set[str]
    written: set[str]
    looked_at: set[str]


class References(CycleState):
    async def _managers(self) -> None:
        """Page by page (memory stays flat however many users the cycle touched): read the
        users, load their links and their managers' links in one query, set what changed."""
        if not self.mappings.maps_manager:
            return
        candidates = set(self.touched_users)
        if self.new_user_links:
            candidates |= await self.source.reports_of(self.new_user_links)
        ordered = sorted(candidates)
        for start in range(0, len(ordered), PAGE):
            users = await self.source.get_users(ordered[start : start + PAGE])
            manager_ids = {u.manager_id for u in users.values() if u.manager_id}
            async with self.db.read() as conn:
                linked = await link_store.load_links(conn, self.app.id, "user", set(users) | manager_ids)
            tasks = []
            for user in users.values():
                link = linked.get(user.id)
                if link is None or link.disabled:
                    continue
                manager_link = linked.get(user.manager_id) if user.manager_id else None
                wanted = manager_link.target_id if manager_link and not manager_link.disabled else None
                written = link.state.get(MANAGER_KEY)
                if wanted == written or (wanted is None and user.manager_id and written is None):
                    continue
                tasks.append(
                    self._set_manager(user.id, user.upn, link.target_id, link.state, written, wanted)
                )
            await bounded(tasks, self.settings.max_concurrency * 2)
            await self._flush()

    async def _set_manager(
        self, user_id: str, upn: str, target_id: str, state: Any, written: str | None, wanted: str | None
    ) -> None:
        record = LogRecord(self.id, "user", user_id, upn, now(), action="update", target_id=target_id)
        began = time.perf_counter()
        record.step(
            "EntryReferenceResolution", "referenceResolution", "success", "Resolved the manager's target id"
        )
        try:
            await self.target.patch_user(
                target_id, self.mappings.wire([Change(MANAGER_PATH, written, wanted)])
            )
            record.modified = [Modified("manager", written, wanted)]
            record.step("EntryExportUpdate", "export", "success", "Manager updated in the target")
            self._count("updated", record)
            await self._linked("user", user_id, target_id, {**state, MANAGER_KEY: wanted}, disabled=False)
        except TargetError as error:
            await self._failed(record, "user", user_id, error, reference=True)
        record.duration_ms = (time.perf_counter() - began) * 1000

    async def _memberships(self, work: Any) -> None:
        """Send membership deltas for the groups and pairs this cycle looks at."""
        async with self.db.read() as conn:
            group_links = (
                await link_store.load_links(
                    conn, self.app.id, "group", await link_store.linked_source_ids(conn, self.app.id, "group")
                )
                if work.everything
                else None
            )
        if work.everything:
            assert group_links is not None
            checks: dict[str, set[str] | None] = dict.fromkeys(group_links, None)
        else:
            checks = {}
            for group_id, user_id in work.pairs:
                checks.setdefault(group_id, set())
                bucket = checks[group_id]
                assert bucket is not None
                bucket.add(user_id)
            for group_id in work.groups:
                checks[group_id] = None
            if self.touched_users:
                member_of = await self.source.groups_containing(self.touched_users)
                async with self.db.read() as conn:
                    written_of = await link_store.written_groups_of(conn, self.app.id, self.touched_users)
                for user_id in self.touched_users:
                    for group_id in member_of.get(user_id, set()) | written_of.get(user_id, set()):
                        bucket = checks.setdefault(group_id, set())
                        if bucket is not None:
                            bucket.add(user_id)
            async with self.db.read() as conn:
                group_links = await link_store.load_links(conn, self.app.id, "group", checks)
        linked = [group_id for group_id in sorted(checks) if group_id in group_links]
        for start in range(0, len(linked), GROUP_BATCH):
            await self._membership_batch(
                {
                    group_id: (group_links[group_id].target_id, checks[group_id])
                    for group_id in linked[start : start + GROUP_BATCH]
                }
            )
        await self._flush()

    async def _membership_batch(self, batch: dict[str, tuple[str, set[str] | None]]) -> None:
        """The membership deltas of a batch of linked groups (`{group: (target id, checked)}`):
        the directory, the written members and the links read once for the whole batch (in
        slices of about MEMBER_BATCH members), then one request set per group that changed."""
        groups = await self.source.get_groups(batch)
        async with self.db.read() as conn:
            written_of = await link_store.written_members(conn, self.app.id, list(groups))
        plans: list[MemberPlan] = []
        for group_id in sorted(groups):
            group = groups[group_id]
            target_id, checked = batch[group_id]
            members = set(group.member_user_ids)
            if self.settings.flatten_nested_groups:
                members |= await self._nested_members(group)
            candidates = members if checked is None else members & checked
            written = written_of.get(group_id, set())
            looked_at = (candidates | written) if checked is None else set(checked)
            plans.append(MemberPlan(group, target_id, candidates, written, looked_at))
        size, part = 0, list[MemberPlan]()
        for plan in plans:
            if part and size + len(plan.looked_at) > MEMBER_BATCH:
                await self._membership_slice(part)
                size, part = 0, []
            part.append(plan)
            size += len(plan.looked_at)
        if part:
            await self._membership_slice(part)

    async def _membership_slice(self, plans: list[MemberPlan]) -> None:
        candidates = set().union(*(p.candidates for p in plans))
        looked_at = set().union(*(p.looked_at for p in plans))
        users = await self.source.get_users(candidates)
        groups_of = await self.source.groups_containing(candidates)
        async with self.db.read() as conn:
            user_links = await link_store.load_links(conn, self.app.id, "user", looked_at)
        # None: the scoping filters could not be evaluated; such a member is neither added nor removed
        in_scope: dict[str, bool | None] = {}
        for user_id in candidates:
            user, link = users.get(user_id), user_links.get(user_id)
            if user is None or link is None or link.disabled:
                continue
            decision = user_scope(
                user,
                sync_all=self.settings.scope == "all",
                assignments=self.assignments,
                effective_groups=self.effective_groups,
                user_groups=groups_of.get(user_id, set()),
                passes_filters=self.mappings.passes_user_filters,
            )
            in_scope[user_id] = None if decision.undecided else decision.in_scope
        tasks = [self._group_members(plan, in_scope, user_links) for plan in plans]
        await bounded(tasks, self.settings.max_concurrency * 2)
        await self._flush()

    async def _group_members(
        self, plan: MemberPlan, in_scope: dict[str, bool | None], user_links: dict[str, LinkState]
    ) -> None:
        group, target_id = plan.group, plan.target_id
        undecided = {u for u in plan.candidates if u in in_scope and in_scope[u] is None}
        wanted = {u for u in plan.candidates if in_scope.get(u, False)} | (undecided & plan.written)
        add, remove = member_delta(wanted, plan.written, checked=plan.looked_at)
        remove = [u for u in remove if u not in self.held]
        add = [u for u in add if u in user_links]
        if not add and not remove:
            return
        record = LogRecord(
            self.id, "group", group.id, group.display_name, now(), action="update", target_id=target_id
        )
        began = time.perf_counter()
        record.step(
            "EntryReferenceResolution",
            "referenceResolution",
            "success",
            f"{len(add)} member(s) to add, {len(remove)} to remove",
        )
        try:
            removed_targets = [user_links[u].target_id for u in remove if u in user_links]
            await self.target.patch_members(
                target_id, [user_links[u].target_id for u in add], removed_targets
            )
            record.modified = [
                Modified(
                    "members",
                    [user_links[u].target_id for u in remove if u in user_links] or None,
                    [user_links[u].target_id for u in add] or None,
                )
            ]
            record.step("EntryExportUpdate", "export", "success", "Group membership updated in the target")
            self._count("updated", record)
            await self._members_written(group.id, add, remove)
        except TargetError as error:
            await self._failed(record, "group", group.id, error, reference=True)
        record.duration_ms = (time.perf_counter() - began) * 1000
        await self._checkpoint()

    async def _nested_members(self, group: Any) -> set[str]:
        users: set[str] = set()
        seen = {group.id}
        frontier = set(group.member_group_ids)
        while frontier:
            found = await self.source.get_groups(frontier - seen)
            seen |= frontier
            frontier = set()
            for child in found.values():
                users |= set(child.member_user_ids)
                frontier |= set(child.member_group_ids) - seen
        return users

    async def _apply_removals(self) -> None:
        """Disables and deletes, or staged deletions past the threshold (never after a source
        read that failed: that raises before this point)."""
        if not self.removals:
            return
        threshold = self.settings.deletion_threshold
        if self.staging:
            async with self.db.write() as conn:
                for removal in self.removals:
                    await stage(
                        conn, self.app.id, removal.kind, removal.source_id, removal.action.kind, self.id
                    )
            for removal in self.removals:
                record = removal.record
                record.action, record.status = "stagedDelete", "skipped"
                record.step(
                    "EntryExportStaged",
                    "export",
                    "skipped",
                    f"{len(self.removals)} disables and deletes in one cycle reach the accidental-deletion "
                    f"threshold ({threshold}): staged, not sent. Review them, then allow the deletions.",
                )
                self._count("staged", record)
            self.summary.too_many_deletes = True
            await self._flush()
            return
        tasks = [self._remove(r) for r in self.removals]
        await bounded(tasks, self.settings.max_concurrency * 2)
        await self._flush()

    async def _remove(self, removal: Any) -> None:
        record, link = removal.record, removal.link
        began = time.perf_counter()
        try:
            if removal.action.kind == "disable":
                await self.target.patch_user(link.target_id, self.mappings.wire(list(removal.action.changes)))
                record.action = "disable"
                record.modified = [Modified("active", True, False)]
                record.step(
                    "EntryExportUpdateSoftDelete",
                    "export",
                    "success",
                    f"Disabled in the target: {removal.action.reason}",
                )
                self._count("disabled", record)
                await self._linked(
                    removal.kind,
                    removal.source_id,
                    link.target_id,
                    {**link.state, "active": False},
                    disabled=True,
                )
            else:
                await self.target.delete("User" if removal.kind == "user" else "Group", link.target_id)
                record.action = "delete"
                record.step(
                    "EntryExportDelete",
                    "export",
                    "success",
                    f"Deleted in the target: {removal.action.reason}",
                )
                self._count("deleted", record)
                await self._unlinked(removal.kind, removal.source_id)
        except TargetError as error:
            await self._failed(record, removal.kind, removal.source_id, error)
        record.duration_ms = (time.perf_counter() - began) * 1000


__all__ = ["References", "details"]
