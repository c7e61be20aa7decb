"""A half-sent admin form holds nothing (issue #10): its body is read before any transaction.

A real `enlist lms serve` on loopback, on SQLite and PostgreSQL. A signed-in admin's form POST
(with its `X-CSRF-Token` header, as htmx sends it) stops half way through its body and stays
open. Meanwhile another tenant's SCIM writes must all succeed: before the fix the page had
already opened its write transaction, and on SQLite that is the one writer of every tenant. The
half-sent form itself is ended by the request deadline, with a page-shaped 503.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx2

from enlist.db.database import Database
from tests.reliability.rig import Scim, Server, user_body
from tests.web.session import csrf_of, make_admin, sign_in

DEADLINE_S = 5.0
WRITES = 20
FORM = b"name=Research&parent="


async def half_sent_form(
    server: Server, slug: str, cookie: str, csrf: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A department form POST whose headers are complete and whose body is not; open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = (
        f"POST /admin/tenants/{slug}/departments HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Cookie: {cookie}\r\n"
        f"X-CSRF-Token: {csrf}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(FORM) + 100}\r\n\r\n"
    )
    writer.write(head.encode() + FORM)
    await writer.drain()
    return reader, writer


async def test_a_half_sent_admin_form_does_not_hold_other_tenants_scim_writes(
    lms_database_url: str, tmp_path: Path
) -> None:
    server = Server(
        tmp_path / "portal", lms_database_url, extra_env={"ENLIST_REQUEST_TIMEOUT_SECONDS": str(DEADLINE_S)}
    ).start()
    try:
        server.tenant("admins")
        other_url, other_token = server.tenant("other")
        db = Database(lms_database_url)
        try:
            await make_admin(db)
        finally:
            await db.dispose()
        async with httpx2.AsyncClient(base_url=server.url) as browser:
            await sign_in(browser)
            page = await browser.get("/admin/tenants/admins/departments")
            cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
            reader, writer = await half_sent_form(server, "admins", cookie, csrf_of(page))

        async with Scim(other_url, other_token) as other:
            statuses = [
                (await other.once("POST", "/Users", user_body(f"w{n}@contoso.com")))[0] for n in range(WRITES)
            ]
            answered_meanwhile = reader.at_eof() or len(reader._buffer) > 0
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=4 * DEADLINE_S)
        finally:
            writer.close()
            await writer.wait_closed()
    finally:
        server.stop()

    assert statuses == [201] * WRITES, f"other tenant's writes: {statuses}"
    assert not answered_meanwhile, "the half-sent form was answered before its deadline"
    status = int(head.split(b" ", 2)[1])
    assert status == 503, head
    assert re.search(rb"content-type: text/html", head, re.IGNORECASE), head
