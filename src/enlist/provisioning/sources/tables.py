"""The sources' tables: each configured source, and the records of a round being read.

`sources` holds a source's settings, its secrets (sealed with the service's key, as target
Secret tokens are), its state, its cursor (Graph's deltaLink, a file's digest: stored only in the
transaction that applies a round), the last read's outcome and the lease that keeps two
processes from reading it at once. `source_staging` holds the records of a round while it is
read, a page per transaction, so a round's memory is bounded by a page; the round is applied
from there in one transaction, and its rows go in that same transaction (or when the round
fails).
`source_reads` is each source's own log: one row per read, written when the read starts
(`running`) and completed when it ends, whichever process ran it.
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.provisioning.directory.tables import Seq, SourceId
from enlist.provisioning.store.metadata import Json, Timestamp, metadata

KINDS = ("file", "graph", "scim-push", "ldap")

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_ci", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("settings", Json, nullable=False),
    sa.Column("secrets", sa.Text, nullable=True),  # sealed JSON (enlist.secretbox)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("cursor", sa.Text, nullable=True),
    sa.Column("interval_minutes", sa.Integer, nullable=False),
    sa.Column("next_read_at", Timestamp, nullable=True),
    sa.Column("last_started_at", Timestamp, nullable=True),
    sa.Column("last_finished_at", Timestamp, nullable=True),
    sa.Column("last_status", sa.String(16), nullable=True),
    sa.Column("last_counts", Json, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_expires_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint("kind IN ('file', 'graph', 'scim-push', 'ldap')", name="kind"),
    sa.CheckConstraint("state IN ('active', 'paused')", name="state"),
    sa.Index(None, "state", "next_read_at"),
)

source_staging = sa.Table(
    "source_staging",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("source", sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("round_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # user | group
    sa.Column("op", sa.String(8), nullable=False),  # upsert | remove
    sa.Column("object_id", SourceId, nullable=False),  # the source's id of the object
    sa.Column("record", Json, nullable=False),
    # Set once the object's creation or update is counted, so a later pass does not count it again.
    sa.Column("counted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "source", "round_id", "kind", "object_id", "seq"),
    sqlite_autoincrement=True,
)

source_reads = sa.Table(
    "source_reads",
    metadata,
    sa.Column("id", Seq, primary_key=True, autoincrement=True),
    sa.Column("source", sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.Column("trigger", sa.String(16), nullable=False),  # schedule | admin
    sa.Column("requested", sa.String(8), nullable=False),  # full | delta: what was asked for
    sa.Column("kind", sa.String(8), nullable=True),  # full | delta: the round that was read
    sa.Column("status", sa.String(16), nullable=False),  # running | ok | failed | held
    sa.Column("records", sa.Integer, nullable=False, server_default="0"),
    sa.Column("counts", Json, nullable=True),
    sa.Column("duration_s", sa.Float, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("conflicts", Json, nullable=True),
    sa.Column("warnings", Json, nullable=True),
    sa.Column("owner", sa.String(128), nullable=False),  # the lease owner: host:pid:token
    sa.Index(None, "source", "id"),
    sa.Index(None, "source", "started_at"),
    sqlite_autoincrement=True,
)
