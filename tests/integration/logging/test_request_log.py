"""The `http.request` event and the request id, for every route of both apps (in process)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from enlist.lms.api.app import create_app as create_portal_app
from enlist.lms.api.runtime import Portal
from enlist.logs.context import MAX_REQUEST_ID_LENGTH, current_request_id, sane_request_id
from enlist.logs.events import EVENT_LOGGER
from enlist.logs.setup import formatter
from tests.integration.logging.keys import BASE_KEYS, EVENT_KEYS


def concrete(template: str) -> str:
    """A path the template matches: each parameter replaced by a value of its type."""
    path = template.replace("{tenant}", "acme").replace("{rest:path}", "x/y").replace("{id:path}", "x")
    path = re.sub(r"\{[a-z_]+:int\}", "7", path)  # every integer parameter, whatever its name
    while "{" in path:
        start = path.index("{")
        path = path[:start] + "v" + path[path.index("}", start) + 1 :]
    return path


def templates(app: Starlette) -> list[str]:
    return sorted({r.path for r in app.routes if isinstance(r, Route | Mount) and r.path})


def mounts(app: Starlette) -> set[str]:
    return {r.path for r in app.routes if isinstance(r, Mount)}


@contextmanager
def json_lines() -> Iterator[list[dict[str, Any]]]:
    """The lines the events logger writes inside the block, through the serving formatter (JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger(EVENT_LOGGER)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


async def logged_requests(app: Starlette) -> dict[str, tuple[dict[str, Any], str]]:
    """GET every route of `app` (a query string with a value in it); each route's `http.request`
    line and the raw line, by template."""
    seen: dict[str, tuple[dict[str, Any], str]] = {}
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as http:
        for template in templates(app):
            with json_lines() as lines:
                path = concrete(template) + ("/missing.css" if template in mounts(app) else "")
                answer = await http.get(path + "?filter=secret-value-in-query")
            (line,) = [o for o in lines if o["event"] == "http.request"]
            assert answer.headers["x-request-id"] == line["request_id"], template
            seen[template] = (line, json.dumps(lines))
    return seen


def check(seen: dict[str, tuple[dict[str, Any], str]]) -> None:
    for template, (line, raw) in seen.items():
        assert set(line) >= EVENT_KEYS["http.request"] | BASE_KEYS, template
        assert line["route"] == template
        assert "secret-value-in-query" not in raw
        if "{tenant}" in template:
            assert line["tenant"] == "acme"


async def test_every_portal_route_logs_its_template_and_returns_the_request_id(
    portal: Portal,
) -> None:
    seen = await logged_requests(create_portal_app(portal.settings, portal))
    assert len(seen) > 20
    check(seen)


async def test_every_provisioning_route_logs_its_template_and_returns_the_request_id(
    service: object,
) -> None:
    from enlist.provisioning.api.app import create_app  # noqa: PLC0415
    from enlist.provisioning.service import Service  # noqa: PLC0415

    assert isinstance(service, Service)
    seen = await logged_requests(create_app(service.settings, scheduler=False, service=service))
    assert len(seen) > 10
    check(seen)


async def test_a_scim_endpoint_in_another_case_still_logs_the_route_template(
    portal: Portal,
) -> None:
    app = create_portal_app(portal.settings, portal)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test") as http:
        with json_lines() as lines:
            await http.get("/scim/v2/acme/users")
    (line,) = [o for o in lines if o["event"] == "http.request"]
    assert line["route"] == "/scim/v2/{tenant}/Users"


async def test_a_sane_request_id_is_kept_and_any_other_replaced(
    portal: Portal,
) -> None:
    app = create_portal_app(portal.settings, portal)
    sent = {
        "abc-DEF_1.2:3": True,
        "a" * MAX_REQUEST_ID_LENGTH: True,
        "a" * (MAX_REQUEST_ID_LENGTH + 1): False,
        "has space": False,
        'quote"': False,
        "semi;colon": False,
        "é": False,
        "": False,
    }
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://test") as http:
        for value, kept in sent.items():
            answer = await http.get("/healthz", headers={"X-Request-Id": value.encode("utf-8")})
            returned = answer.headers["x-request-id"]
            assert (returned == value) is kept, value
            assert sane_request_id(returned) == returned
    assert current_request_id() is None  # nothing leaks out of a request


def test_sane_request_ids_are_bounded_and_of_a_safe_charset() -> None:
    assert sane_request_id("0f2c9a7b1e3d4c5a8b6e7f9012345678") == "0f2c9a7b1e3d4c5a8b6e7f9012345678"
    assert sane_request_id("x\n") is None
    assert sane_request_id("x\r\nSet-Cookie: a=b") is None
    assert sane_request_id(None) is None
