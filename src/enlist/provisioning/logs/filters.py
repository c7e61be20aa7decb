"""The provisioning logs' filters as query parameters, read once for the pages and the API.

`since`/`until` (ISO 8601, UTC without an offset), `status`, `action` (the log's words),
`identity` (an id or text in a name), `cycle` (a cycle id) and `limit` (1 to 1,000, where a
route takes one). A value outside these raises `ParameterError`, which each route answers in its
own format.
"""

from __future__ import annotations

from collections.abc import Mapping

from enlist.provisioning.logs.records import ACTIONS, STATUSES
from enlist.provisioning.logs.store import LogFilter
from enlist.web import params

FILTERS = ("since", "until", "status", "action", "identity", "cycle")
MAX_LIMIT = 1000
LIMIT = params.Integer(1, MAX_LIMIT)
TIME = params.Timestamp()
STATUS = params.Choice(tuple(STATUSES))
ACTION = params.Choice(tuple(ACTIONS))
IDENTITY = params.Text(256)
CYCLE = params.Text(64)


def log_filter(query: Mapping[str, str], *, limit: int | None = None) -> LogFilter:
    """The filters `query` names; `limit` fixed by the caller, else the query's (default 100)."""
    return LogFilter(
        since=params.read(query, "since", TIME),
        until=params.read(query, "until", TIME),
        status=params.read(query, "status", STATUS),
        action=params.read(query, "action", ACTION),
        identity=params.read(query, "identity", IDENTITY),
        cycle_id=params.read(query, "cycle", CYCLE),
        limit=limit if limit is not None else params.read_or(query, "limit", LIMIT, 100),
    )
