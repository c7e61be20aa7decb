"""portal roles granted by IdP groups, and smart groups (issue 14)

Revision ID: 0010
Revises: 0009_sync_log_client

Two new tables; nothing existing changes. A user's roles and smart groups are not stored: they
are read from these rules and the current users, groups and memberships (ADR 0037).
"""

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)
ID = sa.String(36)

revision = "0010"
down_revision = "0009_sync_log_client"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "role_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_role_rules_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_rules")),
        sa.Column("group_name", sa.String(512), nullable=False),
        sa.Column("group_name_ci", sa.String(512), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("department_id", ID, nullable=False, server_default=""),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index(
        "ix_role_rules_tenant_id_group_name_ci_role_department_id",
        "role_rules",
        ["tenant_id", "group_name_ci", "role", "department_id"],
        unique=True,
    )
    op.create_index("ix_role_rules_tenant_id_group_name", "role_rules", ["tenant_id", "group_name"])
    op.create_table(
        "smart_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_smart_groups_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_groups")),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("name_ci", sa.String(256), nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index(
        "ix_smart_groups_tenant_id_name_ci", "smart_groups", ["tenant_id", "name_ci"], unique=True
    )


def downgrade() -> None:
    op.drop_table("smart_groups")
    op.drop_table("role_rules")
