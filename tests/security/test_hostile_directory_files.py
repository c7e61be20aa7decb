"""Hostile directory files get the same refusal, with the same message, from the CLI
(`enlist provisioning directory import`) and from the Directory page's Import, and change
nothing; an upload past the request limit is refused before it is read, whichever way its CSRF
token comes.

Every case runs on both databases: the CLI as a real process, the page through the real app.
"""

from __future__ import annotations

import codecs
import html
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
import sqlalchemy as sa

from enlist.db.database import Database
from enlist.provisioning.directory.files import MAX_COLUMNS, MAX_DEPTH
from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.service import Service
from enlist.web.guard import CSRF_HEADER
from tests.live import ENLIST
from tests.web.session import csrf_of, make_admin, sign_in

ONE_USER_CSV = "userPrincipalName,displayName\nann@contoso.com,Ann Émile\n"
LATIN_JSON = '{"users": [{"userPrincipalName": "ann@contoso.com", "displayName": "Émile"}]}'
WIDE = 100_000  # the header columns that stalled the service for 34 s


@dataclass(frozen=True)
class Hostile:
    name: str  # the file name (its suffix chooses CSV or JSON)
    content: bytes
    message: str  # what both paths must say


HOSTILE = {
    "json nested 100,000 deep": Hostile(
        "deep.json", b"[" * 100_000 + b"]" * 100_000, f"nests values more than {MAX_DEPTH} levels deep"
    ),
    "json nested 40 deep inside a user": Hostile(
        "deep-user.json",
        b'{"users": [{"userPrincipalName": "a@contoso.com", "extra": ' + b"[" * 40 + b"]" * 40 + b"}]}",
        f"nests values more than {MAX_DEPTH} levels deep",
    ),
    "csv with 100,000 header columns": Hostile(
        "wide.csv",
        ("userPrincipalName," + ",".join(f"c{i}" for i in range(WIDE - 1)) + "\n").encode(),
        f"the header has {WIDE:,} columns; a directory file may have {MAX_COLUMNS}",
    ),
    "csv in latin-1": Hostile(
        "latin1.csv",
        ONE_USER_CSV.encode("latin-1"),
        f"latin1.csv is not UTF-8 text (byte {ONE_USER_CSV.index('É') + 1} cannot be read)",
    ),
    "json in latin-1": Hostile(
        "latin1.json",
        LATIN_JSON.encode("latin-1"),
        f"latin1.json is not UTF-8 text (byte {LATIN_JSON.index('É') + 1} cannot be read)",
    ),
    "utf-16 marked but broken": Hostile(
        "broken16.csv", codecs.BOM_UTF16_LE + b"u\x00\x00\xd8", "broken16.csv is not UTF-16-LE text"
    ),
    "empty file": Hostile("empty.json", b"", "Choose a JSON or CSV file"),
}
# The CLI names an empty file so; the page has no file to name (the browser sent none).
CLI_MESSAGE = {"empty file": "empty.json is empty"}

READABLE = {
    "utf-16 with a byte order mark (Excel's Unicode text)": codecs.BOM_UTF16_LE
    + ONE_USER_CSV.encode("utf-16-le"),
    "utf-16 big-endian with a byte order mark": codecs.BOM_UTF16_BE + ONE_USER_CSV.encode("utf-16-be"),
    "utf-8 with a byte order mark": codecs.BOM_UTF8 + ONE_USER_CSV.encode(),
    "utf-8": ONE_USER_CSV.encode(),
}


@pytest.fixture
async def page(service: Service) -> AsyncIterator[Page]:
    from enlist.provisioning.api.app import create_app  # noqa: PLC0415

    app = create_app(service.settings, scheduler=False, service=service)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://provisioning.test"
    ) as client:
        await make_admin(service.db)
        await sign_in(client)
        csrf = csrf_of(await client.get("/admin/directory/users"))
        yield Page(app, client, csrf, service)


@dataclass
class Page:
    app: Any
    client: httpx2.AsyncClient
    csrf: str
    service: Service

    async def upload(self, name: str, content: bytes, *, header_token: bool = False) -> httpx2.Response:
        headers = {CSRF_HEADER: self.csrf} if header_token else {}
        data = {} if header_token else {"csrf_token": self.csrf}
        return await self.client.post(
            "/admin/directory/import", data=data, headers=headers, files={"file": (name, content)}
        )


def run_cli(
    service: Service, tmp_path: Path, name: str, content: bytes, **env: str
) -> subprocess.CompletedProcess[str]:
    file = tmp_path / name
    file.write_bytes(content)
    environment = {
        **os.environ,
        "ENLIST_DATA_DIR": str(tmp_path / "var"),
        "ENLIST_PROVISIONING_DATABASE_URL": service.settings.provisioning_url(),
        **env,
    }
    return subprocess.run(
        [ENLIST, "provisioning", "directory", "import", str(file), "--json"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def user_count(db: Database) -> int:
    async with db.read() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(dir_users)) or 0)


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_a_hostile_file_is_refused_by_the_cli_with_its_message_and_no_traceback(
    service: Service, tmp_path: Path, case: str
) -> None:
    hostile = HOSTILE[case]
    done = run_cli(service, tmp_path, hostile.name, hostile.content)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert CLI_MESSAGE.get(case, hostile.message) in done.stderr
    assert done.stdout == ""
    assert await user_count(service.db) == 0


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_a_hostile_file_is_refused_by_the_page_with_the_same_message(page: Page, case: str) -> None:
    hostile = HOSTILE[case]
    answer = await page.upload(hostile.name, hostile.content)
    assert answer.status_code == 400
    assert html.escape(hostile.message) in answer.text
    assert await user_count(page.service.db) == 0


@pytest.mark.parametrize("encoding", list(READABLE))
async def test_a_file_the_byte_order_mark_names_imports_on_both_paths(
    page: Page, tmp_path: Path, encoding: str
) -> None:
    done = run_cli(page.service, tmp_path, "users.csv", READABLE[encoding])
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["users_created"] == 1
    answer = await page.upload("users.csv", READABLE[encoding])
    assert answer.status_code == 200
    assert "users unchanged: 1" in answer.text  # the same user, read the same way
    async with page.service.db.read() as conn:
        stored = (await conn.execute(sa.select(dir_users.c.attributes))).scalars().all()
    assert [attributes["displayName"] for attributes in stored] == ["Ann Émile"]


async def test_a_file_past_the_directory_file_limit_is_refused_by_the_cli_before_reading_it(
    service: Service, tmp_path: Path
) -> None:
    big = b'{"users": []}' + b" " * 2_000_000
    done = run_cli(service, tmp_path, "big.json", big, ENLIST_MAX_DIRECTORY_FILE_BYTES="1000000")
    assert done.returncode == 1, done.stderr
    assert "big.json is 2,000,013 bytes; a directory file may have at most 1,000,000" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("header_token", [False, True], ids=["token-in-form", "token-in-header"])
async def test_an_upload_past_the_request_limit_is_refused_whichever_way_the_token_comes(
    page: Page, header_token: bool
) -> None:
    limit = page.service.settings.max_body_bytes
    answer = await page.upload("big.json", b'{"users": []}' + b" " * (2 * limit), header_token=header_token)
    assert answer.status_code == 413
    assert await user_count(page.service.db) == 0


async def test_an_endless_upload_with_a_header_token_is_read_only_up_to_the_limit(page: Page) -> None:
    """A 200 MiB multipart body, without Content-Length, given to the real app chunk by chunk:
    the app stops asking for the body a chunk past the limit (it was read whole: +1.3 GiB)."""
    limit = page.service.settings.max_body_bytes
    chunk = 64 * 1024
    total = 200 * 1024 * 1024
    boundary = b"hostile"
    head = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.json"\r\n'
        b"Content-Type: application/json\r\n\r\n"
    )
    pulled = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled == 0:
            pulled += len(head)
            return {"type": "http.request", "body": head, "more_body": True}
        if pulled >= total:
            return {"type": "http.request", "body": b"\r\n--" + boundary + b"--\r\n", "more_body": False}
        pulled += chunk
        return {"type": "http.request", "body": b" " * chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    cookie = "; ".join(f"{k}={v}" for k, v in page.client.cookies.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/admin/directory/import",
        "raw_path": b"/admin/directory/import",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"provisioning.test"),
            (b"cookie", cookie.encode()),
            (CSRF_HEADER.encode(), page.csrf.encode()),
            (b"content-type", b"multipart/form-data; boundary=" + boundary),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("provisioning.test", 80),
    }
    await page.app(scope, receive, send)
    assert messages[0]["status"] == 413
    assert pulled <= limit + chunk
    assert await user_count(page.service.db) == 0
