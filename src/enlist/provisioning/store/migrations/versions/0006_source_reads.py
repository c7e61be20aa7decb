"""source_reads: each source's own log, one row per read (start, end, kind, counts, errors)

Revision ID: 0006_source_reads
Revises: 0005_push
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_source_reads"
down_revision = "0005_push"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "source_reads",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("requested", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("records", sa.Integer(), server_default="0", nullable=False),
        sa.Column("counts", JSON, nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("conflicts", JSON, nullable=True),
        sa.Column("warnings", JSON, nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.id"], name=op.f("fk_source_reads_source_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_reads")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_source_reads_source_id"), "source_reads", ["source", "id"])
    op.create_index(op.f("ix_source_reads_source_started_at"), "source_reads", ["source", "started_at"])


def downgrade() -> None:
    op.drop_table("source_reads")
