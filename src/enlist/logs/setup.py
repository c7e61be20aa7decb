"""How every log line of a serving process is written: one formatter for all of them.

`configure(log_format)` puts one handler on the root logger, on stderr, whose formatter is
structlog's `ProcessorFormatter`: enlist's own events (`event(...)`), every other stdlib logger
and uvicorn's error log (uvicorn's own configuration is switched off, `enlist.web.server`) go
through the same processors, so each line is one JSON object with the same keys (`json`), or one
readable line with the same keys (`text`). Exceptions are rendered as their traceback text
(`format_exc_info`), never with local variables, which could hold a token.

Only the commands that serve import this module (structlog costs ~35 ms to import).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal

import orjson
import structlog
from structlog.typing import EventDict, WrappedLogger

from enlist.logs.context import current_fields

LogFormat = Literal["json", "text"]
FORMATS: tuple[str, ...] = ("json", "text")


def default_format(setting: str) -> LogFormat:
    """`json` or `text` as set; `auto` (the default): text on a terminal, JSON otherwise."""
    if setting in FORMATS:
        return setting  # type: ignore[return-value]
    return "text" if sys.stderr.isatty() else "json"


def _add_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The request id and fields bound for the current request or cycle (`enlist.logs.context`)."""
    for key, value in current_fields().items():
        event_dict.setdefault(key, value)
    return event_dict


def _json(value: Any, **_kw: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of every line, in `log_format`."""
    pre_chain: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _add_context,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: list[Any]
    if log_format == "json":
        renderer = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer(serializer=_json)]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=False)]
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        foreign_pre_chain=pre_chain,
    )


def configure(log_format: LogFormat, level: int = logging.INFO) -> None:
    """Send every log line of this process to stderr in `log_format` (replacing any handler)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl." at every start
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
