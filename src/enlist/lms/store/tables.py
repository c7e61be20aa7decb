"""The portal's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Every row that belongs to a customer carries `tenant_id`, and every query filters on it: nothing
crosses tenants. A SCIM resource is stored as its document (`doc`, exactly what the client sent,
canonicalised) plus extracted, indexed columns that filters and uniqueness use; `_ci` columns hold
the case-folded value for attributes SCIM compares case-insensitively. Group membership is a table
of its own, so that adding one member to a group of 100,000 touches one row.
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.types import Id, Json, Timestamp, naming_convention

metadata = sa.MetaData(naming_convention=naming_convention)

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("policy", Json, nullable=False),
    sa.Column("root_department_id", Id, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
)

secret_tokens = sa.Table(
    "secret_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("key_id", sa.String(32), nullable=False, unique=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("pepper_id", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=True),
    sa.Column("revoked_at", Timestamp, nullable=True),
)

departments = sa.Table(
    "departments",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("parent_id", Id, nullable=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("source_group_id", Id, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    # True for a department the tree rule made (migration 0008, ADR 0034); hand-made: False.
    sa.Column("rule_made", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "tenant_id", "parent_id"),
    sa.Index(None, "tenant_id", "source_group_id", unique=True),
)

department_rule_values = sa.Table(
    # Scratch rows of one re-placement (its `batch_id`), deleted before it commits: which
    # department each value the identity provider sent stands for, so that one UPDATE places
    # every user however many there are (migration 0008, ADR 0034).
    "department_rule_values",
    metadata,
    sa.Column("batch_id", Id, primary_key=True),
    sa.Column("value", sa.String(600), primary_key=True),  # ≤ 2,400 bytes: a PostgreSQL index entry
    sa.Column("department_id", Id, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_name", sa.String(512), nullable=False),
    sa.Column("user_name_ci", sa.String(512), nullable=False),
    sa.Column("external_id", sa.String(512), nullable=True),
    sa.Column("display_name", sa.String(512), nullable=True),
    sa.Column("display_name_ci", sa.String(512), nullable=True),
    sa.Column("given_name", sa.String(256), nullable=True),
    sa.Column("given_name_ci", sa.String(256), nullable=True),
    sa.Column("family_name", sa.String(256), nullable=True),
    sa.Column("family_name_ci", sa.String(256), nullable=True),
    sa.Column("email", sa.String(512), nullable=True),
    sa.Column("job_title", sa.String(256), nullable=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("employee_number", sa.String(128), nullable=True),
    sa.Column("manager_id", Id, nullable=True),
    sa.Column("department_id", Id, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    # False after a client removed `active` (PATCH remove): the user is inactive and SCIM shows no
    # `active` until a value is set again.
    sa.Column("active_shown", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("doc", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("status_changed_at", Timestamp, nullable=False),
    sa.Index(None, "tenant_id", "user_name_ci", unique=True),
    sa.Index(None, "tenant_id", "external_id"),
    sa.Index(None, "tenant_id", "display_name_ci"),
    sa.Index(None, "tenant_id", "family_name_ci"),
    sa.Index(None, "tenant_id", "manager_id"),
    sa.Index(None, "tenant_id", "department_id"),
    sa.Index(None, "tenant_id", "status", "user_name_ci"),
    sa.Index(None, "tenant_id", "updated_at"),
)

user_emails = sa.Table(
    "user_emails",
    metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Integer, nullable=False),
    sa.Column("value_ci", sa.String(512), nullable=False),
    sa.Column("type", sa.String(64), nullable=True),
    sa.Column("is_primary", sa.Boolean, nullable=False),
    sa.Index(None, "tenant_id", "value_ci"),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("display_name", sa.String(512), nullable=False),
    sa.Column("display_name_ci", sa.String(512), nullable=False),
    sa.Column("external_id", sa.String(512), nullable=True),
    sa.Column("doc", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "tenant_id", "display_name_ci", unique=True),
    sa.Index(None, "tenant_id", "external_id"),
    sa.Index(None, "tenant_id", "updated_at"),
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("group_id", sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant_id", sa.Integer, nullable=False),
    sa.Column("added_at", Timestamp, nullable=False),
    # The member's `display` as the client sent it, returned as sent (else the user's name).
    sa.Column("display", sa.String(512), nullable=True),
    sa.Index(None, "user_id"),
)

sync_log = sa.Table(
    "sync_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(1024), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("resource_type", sa.String(16), nullable=True),
    sa.Column("resource_id", Id, nullable=True),
    sa.Column("resource_name", sa.String(512), nullable=True),
    sa.Column("changes", Json, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("request_id", sa.String(128), nullable=True),  # migration 0006; enlist.logs.context
    sa.Column("client", sa.String(64), nullable=True),  # migration 0009; enlist.lms.domain.clients
    sa.Index(None, "tenant_id", "at"),
    sa.Index(None, "tenant_id", "resource_id", "at"),
    sa.Index(None, "tenant_id", "status", "at"),
)

# Migration 0010 (issue 14): which IdP group grants which portal role. `group_name_ci` is the
# group named as the client sends it, case-folded: it is compared with a group's display_name_ci,
# and `group_name` with its external_id, so a rule may come before its group.
role_rules = sa.Table(
    "role_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("group_name", sa.String(512), nullable=False),
    sa.Column("group_name_ci", sa.String(512), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    # "" for the roles that are not per department, so the unique index below sees every rule.
    sa.Column("department_id", Id, nullable=False, server_default=""),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(None, "tenant_id", "group_name_ci", "role", "department_id", unique=True),
    sa.Index(None, "tenant_id", "group_name"),
)

# Migration 0010: a smart group is a SCIM filter on users, stored as its text; its members are
# the users the filter selects now (enlist.lms.store.smart_groups).
smart_groups = sa.Table(
    "smart_groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("name_ci", sa.String(256), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(None, "tenant_id", "name_ci", unique=True),
)
