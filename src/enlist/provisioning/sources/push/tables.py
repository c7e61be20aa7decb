"""A push source's own tables: its clients' external ids, and its bulk uploads.

`push_external_ids` finds a pushed object by the `externalId` its client sent (an HR system's
employee number, Okta's user id): a bulk upload's every operation is an upsert matched on it, as
in Entra's API-driven inbound provisioning. It is kept in the transaction that writes the
object. `push_bulk_jobs` and `push_bulk_operations` hold a bulk upload from its `202 Accepted`
until its last operation is done: each operation is marked and applied in ONE transaction, so
a process killed part-way neither loses nor repeats an operation (ADR 0020).
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.provisioning.directory.tables import SourceId
from enlist.provisioning.store.metadata import Json, Timestamp, metadata

push_external_ids = sa.Table(
    "push_external_ids",
    metadata,
    sa.Column("source", sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),  # user | group
    sa.Column("external_id_ci", sa.String(512), primary_key=True),
    sa.Column("source_id", SourceId, nullable=False),
    sa.Index(None, "source", "kind", "source_id", unique=True),
)

push_bulk_jobs = sa.Table(
    "push_bulk_jobs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("source", sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # queued | running | done
    sa.Column("operations", sa.Integer, nullable=False),
    sa.Column("fail_on_errors", sa.Integer, nullable=True),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_expires_at", Timestamp, nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done')", name="state"),
    sa.Index(None, "state", "received_at"),
    sa.Index(None, "source", "received_at"),
)

push_bulk_operations = sa.Table(
    "push_bulk_operations",
    metadata,
    sa.Column("job", sa.ForeignKey("push_bulk_jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("request", Json, nullable=False),  # the operation as the client sent it
    # pending | applied | failed | skipped (after failOnErrors was reached)
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("response", Json, nullable=True),  # its BulkResponse operation, once done
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.Index(None, "job", "state", "position"),
)
