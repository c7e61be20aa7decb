"""The engine's tables: applications, assignments, links, escrows, cycles, provisioning logs.

A *link* ties a source object to the target object the engine made or adopted for it, with the
target attributes it last wrote (`state`): the next cycle diffs against that, so an update sends
only what changed and an unchanged object sends nothing. `link_members` holds the memberships the
engine wrote to each target group, so membership changes go out as deltas. `app_pending` queues
objects an admin action (assign, unassign) put up for re-evaluation by the next incremental cycle.
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.provisioning.store.metadata import Json, Timestamp, metadata

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_ci", sa.String(200), nullable=False, unique=True),
    sa.Column("tenant_url", sa.String(2048), nullable=True),
    sa.Column("secret_token", sa.Text, nullable=True),  # encrypted (enlist.secretbox)
    sa.Column("settings", Json, nullable=False),
    sa.Column("user_mapping", Json, nullable=False),
    sa.Column("group_mapping", Json, nullable=False),
    sa.Column("scoping", Json, nullable=False),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("quarantine", Json, nullable=True),
    sa.Column("watermark", sa.BigInteger, nullable=True),
    sa.Column("next_run_at", Timestamp, nullable=True),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", Timestamp, nullable=True),
    sa.Column("allow_deletes", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "state", "next_run_at"),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("app_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("assigned_at", Timestamp, nullable=False),
    sa.Index(None, "app_id", "kind"),
)

app_pending = sa.Table(
    "app_pending",
    metadata,
    sa.Column("app_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("source_id", sa.String(64), primary_key=True),
)

links = sa.Table(
    "links",
    metadata,
    sa.Column("app_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("target_id", sa.String(256), nullable=False),
    sa.Column("state", Json, nullable=False),
    sa.Column("state_hash", sa.String(64), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "app_id", "kind", "target_id"),
)

link_members = sa.Table(
    "link_members",
    metadata,
    sa.Column("app_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("group_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Index(None, "app_id", "user_id"),
)

escrows = sa.Table(
    "escrows",
    metadata,
    sa.Column("app_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("error_code", sa.String(96), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("is_reference", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "app_id", "next_attempt_at"),
)

staged_deletions = sa.Table(
    "staged_deletions",
    metadata,
    sa.Column("app_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False),
    sa.Column("staged_at", Timestamp, nullable=False),
)

cycles = sa.Table(
    "cycles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("app_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.Column("counts", Json, nullable=False),
    sa.Column("progress_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("progress_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index(None, "app_id", "started_at"),
)

provisioning_log = sa.Table(
    "provisioning_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("app_id", sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False),
    sa.Column("change_id", sa.String(36), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("object_kind", sa.String(8), nullable=False),
    sa.Column("source_id", sa.String(64), nullable=True),
    sa.Column("source_name", sa.String(512), nullable=True),
    sa.Column("target_id", sa.String(256), nullable=True),
    sa.Column("steps", Json, nullable=False),
    sa.Column("modified", Json, nullable=False),
    sa.Column("error_code", sa.String(96), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("recommendation", sa.Text, nullable=True),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=True),  # migration 0011; enlist.logs.context
    sa.Index(None, "app_id", "at"),
    sa.Index(None, "app_id", "cycle_id"),
    sa.Index(None, "app_id", "status", "at"),
    sa.Index(None, "app_id", "source_id", "at"),
    # The Provisioning logs page, newest first by id, with and without a filter (migration 0003).
    sa.Index(None, "app_id", "id"),
    sa.Index(None, "app_id", "status", "id"),
    sa.Index(None, "app_id", "action", "id"),
)
