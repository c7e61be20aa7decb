"""portal notifications: per-tenant settings, the outbox, its attempts, the alert conditions
(issue 13: the seat limit reached)

Revision ID: 0007
Revises: 0006_request_ids
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006_request_ids"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "portal_notification_settings",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.Column("webhook_url", sa.String(length=2048), nullable=True),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("kinds_off", JSON, nullable=False),
        sa.Column("quiet_minutes", sa.Float(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _tenant_fk("portal_notification_settings"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_portal_notification_settings")),
    )
    op.create_table(
        "portal_notification_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=2048), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook')", name=op.f("ck_portal_notification_outbox_channel")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_portal_notification_outbox_status")
        ),
        _tenant_fk("portal_notification_outbox"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_notification_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_portal_notification_outbox_message_id")),
    )
    op.create_index(
        op.f("ix_portal_notification_outbox_status_next_attempt_at"),
        "portal_notification_outbox",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        op.f("ix_portal_notification_outbox_tenant_id_created_at"),
        "portal_notification_outbox",
        ["tenant_id", "created_at"],
    )
    op.create_table(
        "portal_notification_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["portal_notification_outbox.id"],
            name=op.f("fk_portal_notification_attempts_outbox_id_portal_notification_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_notification_attempts")),
    )
    op.create_index(
        op.f("ix_portal_notification_attempts_outbox_id_number"),
        "portal_notification_attempts",
        ["outbox_id", "number"],
    )
    op.create_table(
        "portal_notification_conditions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("last_notified_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _tenant_fk("portal_notification_conditions"),
        sa.PrimaryKeyConstraint("tenant_id", "kind", name=op.f("pk_portal_notification_conditions")),
    )


def downgrade() -> None:
    op.drop_table("portal_notification_conditions")
    op.drop_index(
        op.f("ix_portal_notification_attempts_outbox_id_number"), table_name="portal_notification_attempts"
    )
    op.drop_table("portal_notification_attempts")
    op.drop_index(
        op.f("ix_portal_notification_outbox_tenant_id_created_at"), table_name="portal_notification_outbox"
    )
    op.drop_index(
        op.f("ix_portal_notification_outbox_status_next_attempt_at"), table_name="portal_notification_outbox"
    )
    op.drop_table("portal_notification_outbox")
    op.drop_table("portal_notification_settings")
