"""The directory's tables (SQLAlchemy Core), on the provisioning database's one `metadata`.

A user or group is its Graph attributes as a JSON document plus the columns that lookups and
uniqueness need; `_ci` columns hold the case-folded value, because Entra compares
`userPrincipalName` and group names case-insensitively. Membership is a table of its own, so that
one member more costs one row. `dir_changes` is the change feed: every write appends to it in the
same transaction, and an incremental cycle reads only the entries after its watermark.

Every user and group records its owner (`source`: a source's name, or `file` for objects
imported by hand, `BUILTIN_OWNER`) and that source's immutable id (`source_id`, NULL for the
built-in owner, whose objects are known by their own id). Group names are unique only among the
built-in owner's groups: Graph allows two groups with one name (ADR 0018).
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.provisioning.store.metadata import Json, Timestamp, metadata

Id = sa.String(36)
# A rowid alias on SQLite (AUTOINCREMENT: a seq is never reused), a bigint on PostgreSQL.
Seq = sa.BigInteger().with_variant(sa.Integer, "sqlite")
BUILTIN_OWNER = "file"
SourceId = sa.String(256)

dir_users = sa.Table(
    "dir_users",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("upn", sa.String(512), nullable=False),
    sa.Column("upn_ci", sa.String(512), nullable=False),
    # Graph attributes without `manager` (a reference, in `manager_id`) and without the id.
    sa.Column("attributes", Json, nullable=False),
    sa.Column("manager_id", Id, nullable=True),
    sa.Column("account_enabled", sa.Boolean, nullable=False),
    sa.Column("deleted_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    # The seq of the last change entry that concerned this user.
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(200), nullable=False, server_default=BUILTIN_OWNER),
    sa.Column("source_id", SourceId, nullable=True),
    sa.Index(None, "upn_ci", unique=True),
    sa.Index(None, "source", "source_id", unique=True),
    sa.Index(None, "manager_id"),
    sa.Index(None, "deleted_at"),
)

dir_groups = sa.Table(
    "dir_groups",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("display_name", sa.String(512), nullable=False),
    sa.Column("display_name_ci", sa.String(512), nullable=False),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("deleted_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(200), nullable=False, server_default=BUILTIN_OWNER),
    sa.Column("source_id", SourceId, nullable=True),
    # Unique among hand-imported groups only (ADR 0018); `ix_…_display_name_ci` serves lookups.
    sa.Index(
        "uq_dir_groups_builtin_display_name_ci",
        "display_name_ci",
        unique=True,
        sqlite_where=sa.text("source = 'file'"),
        postgresql_where=sa.text("source = 'file'"),
    ),
    sa.Index(None, "display_name_ci"),
    sa.Index(None, "source", "source_id", unique=True),
    sa.Index(None, "deleted_at"),
)

dir_group_members = sa.Table(
    "dir_group_members",
    metadata,
    sa.Column("group_id", sa.ForeignKey("dir_groups.id", ondelete="CASCADE"), primary_key=True),
    # A user's or a group's id (no foreign key: it points into one of two tables).
    sa.Column("member_id", Id, primary_key=True),
    sa.Column("member_type", sa.String(8), nullable=False),
    sa.CheckConstraint("member_type IN ('user', 'group')", name="member_type"),
    sa.Index(None, "member_id"),
)

dir_changes = sa.Table(
    "dir_changes",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("object_id", Id, nullable=False),
    sa.Column("member_id", Id, nullable=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.CheckConstraint("kind IN ('user', 'group', 'membership')", name="kind"),
    sqlite_autoincrement=True,
)
