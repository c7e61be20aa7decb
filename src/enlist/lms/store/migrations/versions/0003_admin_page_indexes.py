"""indexes the admin pages page through: department members and group members in order

Revision ID: 0003_admin_pages
Revises: 0002_admins

The Users page filtered by department reads `(tenant_id, department_id, user_name_ci)` in login
order, so its pages stay one index range however large the department; a group's member list
reads `(group_id, added_at, user_id)` in the order members joined (keyset paging by that pair).
"""

from alembic import op

revision = "0003_admin_pages"
down_revision = "0002_admins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_users_tenant_id_department_id_user_name_ci",
        "users",
        ["tenant_id", "department_id", "user_name_ci"],
    )
    op.create_index(
        "ix_group_members_group_id_added_at_user_id",
        "group_members",
        ["group_id", "added_at", "user_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_group_members_group_id_added_at_user_id", table_name="group_members")
    op.drop_index("ix_users_tenant_id_department_id_user_name_ci", table_name="users")
