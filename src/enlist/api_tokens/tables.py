"""The `api_tokens` table, declared on each service's own MetaData by `define`."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.types import Timestamp


def define(metadata: sa.MetaData, *, tenants: sa.Table | None = None) -> sa.Table:
    """The table on `metadata`; with `tenants` (the portal) a token may be limited to one tenant
    (`tenant_id`, NULL for the whole portal), and goes with its tenant."""
    tenant_column: list[sa.Column[int]] = (
        [sa.Column("tenant_id", sa.ForeignKey(tenants.c.id, ondelete="CASCADE"), nullable=True, index=True)]
        if tenants is not None
        else []
    )
    return sa.Table(
        "api_tokens",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        *tenant_column,
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("pepper_id", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=True),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.Column("last_used_at", Timestamp, nullable=True),
        sa.CheckConstraint("scope IN ('read', 'write')", name="scope"),
    )
