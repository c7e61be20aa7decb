"""The `api_jobs` table: the long operations the API started (ADR 0030).

A job is written when its route answers `202`, and its outcome when it ends, so its status URL
answers from any web process and after a restart. `holder` is the lease owner (`host:pid:token`,
`enlist.db.leases`) of the process that runs it and `heartbeat_at` the last time that
process said it still does: a `running` job whose holder is gone is reported as interrupted.
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.provisioning.store.metadata import Json, Timestamp, metadata

api_jobs = sa.Table(
    "api_jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("holder", sa.String(255), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("heartbeat_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True, index=True),
    sa.Column("result", Json, nullable=True),
    sa.Column("error", Json, nullable=True),
    sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
)
