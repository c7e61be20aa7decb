"""sources: configured sources, a round's staged records, and each directory object's owner

Every user and group gets `source` (its owner: a source's name, or `file` for objects imported by
hand, which every existing object becomes) and `source_id` (that source's immutable id; NULL for
hand-imported objects), unique together. Group names become unique among hand-imported groups
only: Graph allows two groups with one name (ADR 0018).

Revision ID: 0004_sources
Revises: 0003_admin_pages
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_sources"
down_revision = "0003_admin_pages"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
BUILTIN = sa.text("source = 'file'")


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_ci", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("next_read_at", TIMESTAMP, nullable=True),
        sa.Column("last_started_at", TIMESTAMP, nullable=True),
        sa.Column("last_finished_at", TIMESTAMP, nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("last_counts", JSON, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('file', 'graph', 'scim-push', 'ldap')", name=op.f("ck_sources_kind")),
        sa.CheckConstraint("state IN ('active', 'paused')", name=op.f("ck_sources_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name_ci", name=op.f("uq_sources_name_ci")),
    )
    op.create_index(op.f("ix_sources_state_next_read_at"), "sources", ["state", "next_read_at"])
    op.create_table(
        "source_staging",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("object_id", sa.String(length=256), nullable=False),
        sa.Column("record", JSON, nullable=False),
        sa.Column("counted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.id"], name=op.f("fk_source_staging_source_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_source_staging")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_source_staging_source_round_id_kind_object_id_seq"),
        "source_staging",
        ["source", "round_id", "kind", "object_id", "seq"],
    )
    for table in ("dir_users", "dir_groups"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("source", sa.String(length=200), nullable=False, server_default="file")
            )
            batch.add_column(sa.Column("source_id", sa.String(length=256), nullable=True))
            batch.create_index(op.f(f"ix_{table}_source_source_id"), ["source", "source_id"], unique=True)
    with op.batch_alter_table("dir_groups") as batch:
        batch.drop_index("ix_dir_groups_display_name_ci")
        batch.create_index("ix_dir_groups_display_name_ci", ["display_name_ci"], unique=False)
        batch.create_index(
            "uq_dir_groups_builtin_display_name_ci",
            ["display_name_ci"],
            unique=True,
            sqlite_where=BUILTIN,
            postgresql_where=BUILTIN,
        )


def downgrade() -> None:
    with op.batch_alter_table("dir_groups") as batch:
        batch.drop_index("uq_dir_groups_builtin_display_name_ci")
        batch.drop_index("ix_dir_groups_display_name_ci")
        batch.create_index("ix_dir_groups_display_name_ci", ["display_name_ci"], unique=True)
    for table in ("dir_users", "dir_groups"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(op.f(f"ix_{table}_source_source_id"))
            batch.drop_column("source_id")
            batch.drop_column("source")
    op.drop_table("source_staging")
    op.drop_table("sources")
