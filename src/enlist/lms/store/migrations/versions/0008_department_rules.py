"""department tree rules: rule-made departments and the values a re-placement maps (ADR 0034)

Revision ID: 0008
Revises: 0007 (portal notifications)
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("rule_made", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "department_rule_values",
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("department_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "value", name=op.f("pk_department_rule_values")),
    )


def downgrade() -> None:
    op.drop_table("department_rule_values")
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("rule_made")
