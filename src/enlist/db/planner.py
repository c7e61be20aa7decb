"""`unindexed(column)`: a column the query planner must not pick an index for.

SQLite plans without statistics (the portal never runs ANALYZE: its tables change shape as
tenants grow). It then assumes an equality on the first column of any index matches about ten
rows, and an `IN` of fifty ids on the primary key fifty. So `tenant_id = ? AND id IN (…fifty…)`
walks every user of the tenant through a `(tenant_id, …)` index instead of fetching fifty rows
by key: cheap for a tenant of ten users, a full scan for one of 100,000, on every group PATCH
(docs/performance.md, S4). SQLite's documented way to take a term away from the planner is a
unary `+` in front of the column; the condition still holds, it is only checked on the rows the
key finds. On other databases, whose planners have statistics, the column is written as is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["unindexed"]


class unindexed(ColumnElement[Any]):  # noqa: N801 (reads as a function, like SQLAlchemy's constructs)
    """`column`, which no index may serve in this condition (see the module's text)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 (SQLAlchemy's protocol)

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(unindexed)
def _as_is(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(unindexed, "sqlite")
def _unary_plus(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"
