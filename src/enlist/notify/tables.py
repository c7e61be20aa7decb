"""The columns both services' notification outboxes share, so that `enlist.notify.sender` reads
either: each service's outbox is its own table (keyed by application or by tenant) made of its
owner column, then `outbox_columns()`, then its own owner index. The migrations keep their own
copies: a migration is a snapshot, never rebuilt from today's code."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.schema import SchemaItem

from enlist.db.types import Json, Timestamp


def outbox_columns() -> list[SchemaItem]:
    """New column, constraint and index objects (a SQLAlchemy column belongs to one table) for
    one notification per channel: what, where, its delivery state and its lease."""
    return [
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("destination", sa.String(2048), nullable=False),
        sa.Column("sealed_secret", sa.Text, nullable=True),  # the webhook's, encrypted
        sa.Column("message_id", sa.String(128), nullable=False, unique=True),
        sa.Column("payload", Json, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", Timestamp, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("sent_at", Timestamp, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.CheckConstraint("channel IN ('email', 'webhook')", name="channel"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        sa.Index(None, "status", "next_attempt_at"),
    ]
