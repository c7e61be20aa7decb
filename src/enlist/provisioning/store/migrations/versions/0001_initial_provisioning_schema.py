"""initial provisioning schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:38:22.573673
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_ci", sa.String(length=200), nullable=False),
        sa.Column("tenant_url", sa.String(length=2048), nullable=True),
        sa.Column("secret_token", sa.Text(), nullable=True),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "user_mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "group_mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "scoping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column(
            "quarantine",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("watermark", sa.BigInteger(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("allow_deletes", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("name_ci", name=op.f("uq_applications_name_ci")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_applications_state_next_run_at"), ["state", "next_run_at"], unique=False
        )

    op.create_table(
        "dir_changes",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('user', 'group', 'membership')", name=op.f("ck_dir_changes_kind")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_dir_changes")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "dir_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=512), nullable=False),
        sa.Column("display_name_ci", sa.String(length=512), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dir_groups")),
    )
    with op.batch_alter_table("dir_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dir_groups_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dir_groups_display_name_ci"), ["display_name_ci"], unique=True)

    op.create_table(
        "dir_users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("upn", sa.String(length=512), nullable=False),
        sa.Column("upn_ci", sa.String(length=512), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("manager_id", sa.String(length=36), nullable=True),
        sa.Column("account_enabled", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dir_users")),
    )
    with op.batch_alter_table("dir_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dir_users_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dir_users_manager_id"), ["manager_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dir_users_upn_ci"), ["upn_ci"], unique=True)

    op.create_table(
        "app_pending",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["applications.id"],
            name=op.f("fk_app_pending_app_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_id", "kind", "source_id", name=op.f("pk_app_pending")),
    )
    op.create_table(
        "assignments",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["applications.id"],
            name=op.f("fk_assignments_app_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_id", "kind", "source_id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_app_id_kind"), ["app_id", "kind"], unique=False)

    op.create_table(
        "cycles",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("progress_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("progress_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["applications.id"], name=op.f("fk_cycles_app_id_applications"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
    )
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cycles_app_id_started_at"), ["app_id", "started_at"], unique=False
        )

    op.create_table(
        "dir_group_members",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("member_type", sa.String(length=8), nullable=False),
        sa.CheckConstraint("member_type IN ('user', 'group')", name=op.f("ck_dir_group_members_member_type")),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["dir_groups.id"],
            name=op.f("fk_dir_group_members_group_id_dir_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "member_id", name=op.f("pk_dir_group_members")),
    )
    with op.batch_alter_table("dir_group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dir_group_members_member_id"), ["member_id"], unique=False)

    op.create_table(
        "escrows",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_code", sa.String(length=96), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("is_reference", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["applications.id"], name=op.f("fk_escrows_app_id_applications"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("app_id", "kind", "source_id", name=op.f("pk_escrows")),
    )
    with op.batch_alter_table("escrows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escrows_app_id_next_attempt_at"), ["app_id", "next_attempt_at"], unique=False
        )

    op.create_table(
        "link_members",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["applications.id"],
            name=op.f("fk_link_members_app_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_id", "group_id", "user_id", name=op.f("pk_link_members")),
    )
    with op.batch_alter_table("link_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_link_members_app_id_user_id"), ["app_id", "user_id"], unique=False
        )

    op.create_table(
        "links",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=256), nullable=False),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["applications.id"], name=op.f("fk_links_app_id_applications"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("app_id", "kind", "source_id", name=op.f("pk_links")),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_links_app_id_kind_target_id"), ["app_id", "kind", "target_id"], unique=False
        )

    op.create_table(
        "provisioning_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.String(length=36), nullable=False),
        sa.Column("change_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("object_kind", sa.String(length=8), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("source_name", sa.String(length=512), nullable=True),
        sa.Column("target_id", sa.String(length=256), nullable=True),
        sa.Column(
            "steps",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "modified",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error_code", sa.String(length=96), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recommendation", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["applications.id"],
            name=op.f("fk_provisioning_log_app_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioning_log")),
    )
    with op.batch_alter_table("provisioning_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provisioning_log_app_id_at"), ["app_id", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_provisioning_log_app_id_cycle_id"), ["app_id", "cycle_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_provisioning_log_app_id_source_id_at"), ["app_id", "source_id", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_provisioning_log_app_id_status_at"), ["app_id", "status", "at"], unique=False
        )

    op.create_table(
        "staged_deletions",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("cycle_id", sa.String(length=36), nullable=False),
        sa.Column("staged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["applications.id"],
            name=op.f("fk_staged_deletions_app_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_id", "kind", "source_id", name=op.f("pk_staged_deletions")),
    )


def downgrade() -> None:

    op.drop_table("staged_deletions")
    with op.batch_alter_table("provisioning_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provisioning_log_app_id_status_at"))
        batch_op.drop_index(batch_op.f("ix_provisioning_log_app_id_source_id_at"))
        batch_op.drop_index(batch_op.f("ix_provisioning_log_app_id_cycle_id"))
        batch_op.drop_index(batch_op.f("ix_provisioning_log_app_id_at"))

    op.drop_table("provisioning_log")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_app_id_kind_target_id"))

    op.drop_table("links")
    with op.batch_alter_table("link_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_members_app_id_user_id"))

    op.drop_table("link_members")
    with op.batch_alter_table("escrows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escrows_app_id_next_attempt_at"))

    op.drop_table("escrows")
    with op.batch_alter_table("dir_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dir_group_members_member_id"))

    op.drop_table("dir_group_members")
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cycles_app_id_started_at"))

    op.drop_table("cycles")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_app_id_kind"))

    op.drop_table("assignments")
    op.drop_table("app_pending")
    with op.batch_alter_table("dir_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dir_users_upn_ci"))
        batch_op.drop_index(batch_op.f("ix_dir_users_manager_id"))
        batch_op.drop_index(batch_op.f("ix_dir_users_deleted_at"))

    op.drop_table("dir_users")
    with op.batch_alter_table("dir_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dir_groups_display_name_ci"))
        batch_op.drop_index(batch_op.f("ix_dir_groups_deleted_at"))

    op.drop_table("dir_groups")
    op.drop_table("dir_changes")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_state_next_run_at"))

    op.drop_table("applications")
