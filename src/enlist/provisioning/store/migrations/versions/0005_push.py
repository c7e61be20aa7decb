"""push: a push source's external ids and its bulk uploads (jobs and their operations)

Revision ID: 0005_push
Revises: 0004_sources
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_push"
down_revision = "0004_sources"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_external_ids",
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("external_id_ci", sa.String(length=512), nullable=False),
        sa.Column("source_id", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.id"], name=op.f("fk_push_external_ids_source_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("source", "kind", "external_id_ci", name=op.f("pk_push_external_ids")),
    )
    op.create_index(
        op.f("ix_push_external_ids_source_kind_source_id"),
        "push_external_ids",
        ["source", "kind", "source_id"],
        unique=True,
    )
    op.create_table(
        "push_bulk_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("operations", sa.Integer(), nullable=False),
        sa.Column("fail_on_errors", sa.Integer(), nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done')", name=op.f("ck_push_bulk_jobs_state")),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.id"], name=op.f("fk_push_bulk_jobs_source_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_bulk_jobs")),
    )
    op.create_index(op.f("ix_push_bulk_jobs_state_received_at"), "push_bulk_jobs", ["state", "received_at"])
    op.create_index(op.f("ix_push_bulk_jobs_source_received_at"), "push_bulk_jobs", ["source", "received_at"])
    op.create_table(
        "push_bulk_operations",
        sa.Column("job", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("response", JSON, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["job"],
            ["push_bulk_jobs.id"],
            name=op.f("fk_push_bulk_operations_job_push_bulk_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job", "position", name=op.f("pk_push_bulk_operations")),
    )
    op.create_index(
        op.f("ix_push_bulk_operations_job_state_position"),
        "push_bulk_operations",
        ["job", "state", "position"],
    )


def downgrade() -> None:
    op.drop_table("push_bulk_operations")
    op.drop_table("push_bulk_jobs")
    op.drop_table("push_external_ids")
