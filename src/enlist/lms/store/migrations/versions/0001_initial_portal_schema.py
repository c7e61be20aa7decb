"""initial portal schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:02:30.633910
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
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "policy",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("root_department_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("source_group_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_departments_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
    )
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_departments_tenant_id_parent_id"), ["tenant_id", "parent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_departments_tenant_id_source_group_id"),
            ["tenant_id", "source_group_id"],
            unique=True,
        )

    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=512), nullable=False),
        sa.Column("display_name_ci", sa.String(length=512), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_groups_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_groups_tenant_id_display_name_ci"), ["tenant_id", "display_name_ci"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_groups_tenant_id_external_id"), ["tenant_id", "external_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_groups_tenant_id_updated_at"), ["tenant_id", "updated_at"], unique=False
        )

    op.create_table(
        "secret_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("pepper_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_secret_tokens_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_tokens")),
        sa.UniqueConstraint("key_id", name=op.f("uq_secret_tokens_key_id")),
    )
    with op.batch_alter_table("secret_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_secret_tokens_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "sync_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("resource_type", sa.String(length=16), nullable=True),
        sa.Column("resource_id", sa.String(length=36), nullable=True),
        sa.Column("resource_name", sa.String(length=512), nullable=True),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_log_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_log")),
    )
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_log_tenant_id_at"), ["tenant_id", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sync_log_tenant_id_resource_id_at"),
            ["tenant_id", "resource_id", "at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_sync_log_tenant_id_status_at"), ["tenant_id", "status", "at"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=512), nullable=False),
        sa.Column("user_name_ci", sa.String(length=512), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=True),
        sa.Column("display_name", sa.String(length=512), nullable=True),
        sa.Column("display_name_ci", sa.String(length=512), nullable=True),
        sa.Column("given_name", sa.String(length=256), nullable=True),
        sa.Column("given_name_ci", sa.String(length=256), nullable=True),
        sa.Column("family_name", sa.String(length=256), nullable=True),
        sa.Column("family_name_ci", sa.String(length=256), nullable=True),
        sa.Column("email", sa.String(length=512), nullable=True),
        sa.Column("job_title", sa.String(length=256), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("employee_number", sa.String(length=128), nullable=True),
        sa.Column("manager_id", sa.String(length=36), nullable=True),
        sa.Column("department_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active_shown", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column(
            "doc",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_users_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_department_id"), ["tenant_id", "department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_display_name_ci"), ["tenant_id", "display_name_ci"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_external_id"), ["tenant_id", "external_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_family_name_ci"), ["tenant_id", "family_name_ci"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_manager_id"), ["tenant_id", "manager_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_status_user_name_ci"),
            ["tenant_id", "status", "user_name_ci"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_updated_at"), ["tenant_id", "updated_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_users_tenant_id_user_name_ci"), ["tenant_id", "user_name_ci"], unique=True
        )

    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("display", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_members_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_group_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_emails",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("value_ci", sa.String(length=512), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_emails_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "position", name=op.f("pk_user_emails")),
    )
    with op.batch_alter_table("user_emails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_emails_tenant_id_value_ci"), ["tenant_id", "value_ci"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("user_emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_emails_tenant_id_value_ci"))

    op.drop_table("user_emails")
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_members_user_id"))

    op.drop_table("group_members")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_user_name_ci"))
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_updated_at"))
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_status_user_name_ci"))
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_manager_id"))
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_family_name_ci"))
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_external_id"))
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_display_name_ci"))
        batch_op.drop_index(batch_op.f("ix_users_tenant_id_department_id"))

    op.drop_table("users")
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_log_tenant_id_status_at"))
        batch_op.drop_index(batch_op.f("ix_sync_log_tenant_id_resource_id_at"))
        batch_op.drop_index(batch_op.f("ix_sync_log_tenant_id_at"))

    op.drop_table("sync_log")
    with op.batch_alter_table("secret_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secret_tokens_tenant_id"))

    op.drop_table("secret_tokens")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_groups_tenant_id_updated_at"))
        batch_op.drop_index(batch_op.f("ix_groups_tenant_id_external_id"))
        batch_op.drop_index(batch_op.f("ix_groups_tenant_id_display_name_ci"))

    op.drop_table("groups")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_departments_tenant_id_source_group_id"))
        batch_op.drop_index(batch_op.f("ix_departments_tenant_id_parent_id"))

    op.drop_table("departments")
    op.drop_table("tenants")
