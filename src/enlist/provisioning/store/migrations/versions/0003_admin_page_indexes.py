"""indexes for the admin pages: the provisioning logs, newest first, with and without filters

The Provisioning logs page reads `WHERE app_id = ? [AND status = ? | AND action = ?] ORDER BY id
DESC LIMIT n` (keyset paging by id): these indexes answer it in index order, so the first page and
page 20,000 of 1,000,000 records cost the same few index steps and never sort.

Revision ID: 0003_admin_pages
Revises: 0002_admins
"""

from alembic import op

revision = "0003_admin_pages"
down_revision = "0002_admins"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_provisioning_log_app_id_id": ["app_id", "id"],
    "ix_provisioning_log_app_id_status_id": ["app_id", "status", "id"],
    "ix_provisioning_log_app_id_action_id": ["app_id", "action", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "provisioning_log", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="provisioning_log")
