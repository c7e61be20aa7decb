"""The portal's notification tables (migration 0007), prefixed `portal_` so that a database
shared with the provisioning service keeps both services' outboxes apart.

`portal_notification_settings` holds one row per tenant that set any: where to send (an email
address, a webhook URL and its secret, sealed), which kinds are on and the quiet period.
`portal_notification_outbox` and `portal_notification_attempts` have the provisioning outbox's
columns (`enlist.notify.sender` reads either), keyed by tenant. `portal_notification_conditions`
is the state the quiet-period rule reads, one row per tenant and kind.
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.types import Json, Timestamp
from enlist.lms.store.tables import metadata
from enlist.notify.tables import outbox_columns

settings = sa.Table(
    "portal_notification_settings",
    metadata,
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("email", sa.String(512), nullable=True),
    sa.Column("webhook_url", sa.String(2048), nullable=True),
    sa.Column("webhook_secret", sa.Text, nullable=True),  # sealed (enlist.secretbox)
    sa.Column("kinds_off", Json, nullable=False),  # the kinds turned off; a new kind starts on
    sa.Column("quiet_minutes", sa.Float, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

outbox = sa.Table(
    "portal_notification_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    *outbox_columns(),
    sa.Index(None, "tenant_id", "created_at"),
)

attempts = sa.Table(
    "portal_notification_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "outbox_id",
        sa.Integer,
        sa.ForeignKey("portal_notification_outbox.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index(None, "outbox_id", "number"),
)

conditions = sa.Table(
    "portal_notification_conditions",
    metadata,
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("notified", sa.Boolean, nullable=False),
    sa.Column("last_notified_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
)
