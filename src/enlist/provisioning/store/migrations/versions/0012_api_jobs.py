"""api jobs: the API's long operations stored in the database, not in one process (ADR 0030)

Revision ID: 0012
Revises: 0011_request_ids

A `202 Accepted` status URL answers from any web process and after a restart; a job whose
process died is reported as interrupted.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011_request_ids"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name=op.f("ck_api_jobs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_jobs")),
    )
    with op.batch_alter_table("api_jobs") as batch:
        batch.create_index(batch.f("ix_api_jobs_finished_at"), ["finished_at"], unique=False)


def downgrade() -> None:
    op.drop_table("api_jobs")
