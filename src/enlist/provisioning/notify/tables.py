"""The notification tables: the outbox, each delivery attempt, and each alert condition's state.

`notification_outbox` holds one row per notification and channel (an email address or a webhook
URL), written in the transaction of the state change that caused it; the sender claims a row under
a lease, delivers it and marks it. `notification_attempts` records every delivery attempt, so an
admin sees what was tried and what the other end answered. `notification_conditions` is the state
the quiet-period rule reads: one row per application, kind and subject (a source's name, or '').
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.notify.tables import outbox_columns
from enlist.provisioning.store.metadata import Timestamp, metadata

notification_outbox = sa.Table(
    "notification_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("app_id", sa.Integer, sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=True),
    *outbox_columns(),
    sa.Index(None, "app_id", "created_at"),
)

notification_attempts = sa.Table(
    "notification_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "outbox_id", sa.Integer, sa.ForeignKey("notification_outbox.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index(None, "outbox_id", "number"),
)

notification_conditions = sa.Table(
    "notification_conditions",
    metadata,
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("app_id", sa.Integer, sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("notified", sa.Boolean, nullable=False),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_notified_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
)
