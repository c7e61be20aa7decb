"""the client (Entra ID, Okta, enlist provisioning…) that made each sync log entry (issue 14)

Revision ID: 0009_sync_log_client
Revises: 0008

Nullable: entries written before this migration do not know their client; the page shows none
rather than guess. The value is `enlist.lms.domain.clients.client_of(User-Agent)`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_sync_log_client"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_log") as batch:
        batch.add_column(sa.Column("client", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_log") as batch:
        batch.drop_column("client")
