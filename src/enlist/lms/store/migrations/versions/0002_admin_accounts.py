"""admin accounts and sessions for the portal's admin pages

Revision ID: 0002_admins
Revises: 0001
"""

from alembic import op

from enlist.web.migration import create_admin_tables, drop_admin_tables

revision = "0002_admins"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_admin_tables(op)


def downgrade() -> None:
    drop_admin_tables(op)
