"""the request id on each sync log entry (structured logs, issue 13)

Revision ID: 0006_request_ids
Revises: 0005_api_tokens

Nullable: entries written before this migration, and by a process outside a request, have none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_request_ids"
down_revision = "0005_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_log") as batch:
        batch.add_column(sa.Column("request_id", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_log") as batch:
        batch.drop_column("request_id")
