"""The two formats of the one formatter, and database errors that carry no value."""

from __future__ import annotations

import io
import json
import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from enlist.db.database import Database
from enlist.logs.context import bound
from enlist.logs.events import event
from enlist.logs.setup import configure, default_format, formatter

MARKER = "zq-parameter-marker-5521@markers.example"


def written(log_format: str, emit: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format))  # type: ignore[arg-type]
    logger = logging.getLogger("enlist.events")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with bound("req-77", tenant="acme"):
            assert callable(emit)
            emit()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    return stream.getvalue()


def test_json_and_text_lines_carry_the_same_keys() -> None:
    def emit() -> None:
        event("cycle", application="App", outcome="succeeded", counts={"created": 2})

    (line,) = written("json", emit).splitlines()
    parsed = json.loads(line)
    assert parsed["event"] == "cycle"
    assert parsed["request_id"] == "req-77"
    assert parsed["tenant"] == "acme"
    assert parsed["counts"] == {"created": 2}
    assert {"timestamp", "level", "logger"} <= set(parsed)
    (text,) = written("text", emit).splitlines()
    for key in ("request_id=req-77", "tenant=acme", "application=App", "outcome=succeeded", "cycle"):
        assert key in text


def fail() -> None:
    raise ValueError("boom")


def test_an_exception_is_one_json_line_with_its_traceback_and_no_local_variable() -> None:
    def emit() -> None:
        token = "enl_local-variable-secret-31"
        try:
            fail()
        except ValueError:
            logging.getLogger("enlist.events").exception("failed")
        assert token

    (line,) = written("json", emit).splitlines()
    parsed = json.loads(line)
    assert "ValueError: boom" in parsed["exception"]
    assert "local-variable-secret" not in line


def test_auto_is_json_off_a_terminal_and_a_set_format_wins() -> None:
    assert default_format("auto") == "json"  # pytest's stderr is not a terminal
    assert default_format("text") == "text"
    assert default_format("json") == "json"


def test_configure_puts_one_handler_on_the_root_and_uvicorns_loggers_propagate() -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        configure("json")
        assert len(root.handlers) == 1
        assert logging.getLogger("uvicorn.error").propagate
        assert logging.getLogger("uvicorn.error").handlers == []
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])


async def test_a_database_error_carries_no_statement_parameter(lms_database_url: str) -> None:
    db = Database(lms_database_url)
    try:
        with pytest.raises(DBAPIError) as raised:
            async with db.write() as conn:
                await conn.execute(sa.text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": MARKER})
        assert MARKER not in str(raised.value)
    finally:
        await db.dispose()
