"""Admin accounts and their sessions: the same two tables in the portal's database and in the
provisioning service's, each created by that service's own migration."""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.types import Timestamp, naming_convention

metadata = sa.MetaData(naming_convention=naming_convention)

admins = sa.Table(
    "admins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),  # stored case-folded
    sa.Column("password_hash", sa.String(200), nullable=False),
    # The portal's tenant this admin may see; None: every tenant (and the provisioning service).
    sa.Column("tenant", sa.String(64), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
)

admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    # SHA-256 of the cookie's random value: a copy of the database opens no session.
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("admin_id", sa.ForeignKey("admins.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False, index=True),
)
