"""the request id on each provisioning log record (structured logs, issue 13)

Revision ID: 0011_request_ids
Revises: 0009_api_tokens

The id of the request that started the work (Provision on demand, Sync now) or of the scheduler's
cycle, also sent to the target as `X-Request-Id`. Nullable: older records have none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_request_ids"
down_revision = "0009_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("provisioning_log") as batch:
        batch.add_column(sa.Column("request_id", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provisioning_log") as batch:
        batch.drop_column("request_id")
