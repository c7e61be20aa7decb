"""`event(logger, name, **fields)`: one structured event, through the stdlib logger.

Events go through `logging` like every other line, so a process that has not configured logging
(a CLI command, a test) stays quiet, and a serving one writes them with its one formatter
(`enlist.logs.setup`). The fields must be counts, ids, names of configuration objects, statuses:
never a token, a password, a secret or a value of a user's attribute (docs/reference/logs.md).
"""

from __future__ import annotations

import logging

EVENT_LOGGER = "enlist.events"
_logger = logging.getLogger(EVENT_LOGGER)


def event(name: str, level: int = logging.INFO, **fields: object) -> None:
    """Log the event `name` with `fields` as keys of its line."""
    if _logger.isEnabledFor(level):
        _logger.log(level, name, extra=fields)
