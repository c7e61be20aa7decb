"""The Sources page: beside Directory in the menu; every route refused without a session or a
CSRF token (changing nothing), a 404 for an unknown source; the list with each source's kind,
state, last read and next read; and Add source validating as `source add` does, storing nothing
on bad input. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.model import SourceUnavailableError
from enlist.provisioning.web import sources as sources_page
from tests.databases import recorded_statements
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import signed_in
from tests.web.sources_page import (
    SECRET,
    database_kind,  # noqa: F401 - both databases for every test here
    drop_folder,
    file_source,
    graph_source,
    said,
    settled,
    snapshot,
)

ROUTES = [
    (m, r.path)
    for r in sources_page.routes()
    if isinstance(r, Route)
    for m in sorted(r.methods or ())
    if m != "HEAD"
]
GETS = [p for m, p in ROUTES if m == "GET"]
POSTS = [p for m, p in ROUTES if m == "POST"]
# Fields that would change something, were the request accepted.
PAYLOAD = {
    "name": "forged",
    "kind": "file",
    "path": "/tmp",
    "full": "1",
    "interval_minutes": "9",
    "confirm": "hr",
}


def concrete(path: str, name: str = "hr") -> str:
    return path.replace("{source}", name)


def test_the_route_lists_cover_every_sources_page_and_form() -> None:
    assert set(GETS) >= {"/admin/sources", "/admin/sources/new", "/admin/sources/{source}"}
    assert len(POSTS) == 7  # add, test, sync, settings, pause, resume, remove


@pytest.mark.parametrize("path", GETS)
async def test_every_sources_page_sends_a_visitor_without_a_session_to_sign_in(
    provisioning_site: Site, path: str
) -> None:
    answer = await provisioning_site.client.get(concrete(path))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("path", POSTS)
async def test_every_sources_form_without_a_session_or_its_csrf_token_is_refused_and_changes_nothing(
    provisioning_site: Site, service: Service, tmp_path: Path, path: str
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path)
    before = await snapshot(site.db)
    cookies = dict(site.client.cookies)
    site.client.cookies.clear()
    anonymous = await site.client.post(concrete(path), data={**PAYLOAD, "csrf_token": csrf})
    assert anonymous.status_code == 401
    site.client.cookies.update(cookies)
    for token in (None, "", "forged-" + csrf[:10]):
        data = PAYLOAD if token is None else {**PAYLOAD, "csrf_token": token}
        refused = await site.client.post(concrete(path), data=data)
        assert refused.status_code == 403, (path, token)
    htmx = await site.client.post(
        concrete(path), data=PAYLOAD, headers={"X-CSRF-Token": "forged", "HX-Request": "true"}
    )
    assert htmx.status_code == 403
    assert await snapshot(site.db) == before


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in ROUTES if "{source}" in p])
async def test_every_page_and_form_of_an_unknown_source_is_a_404_and_changes_nothing(
    provisioning_site: Site, service: Service, tmp_path: Path, method: str, path: str
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path)
    before = await snapshot(site.db)
    answer = await site.client.request(
        method, concrete(path, "nobody"), data={**PAYLOAD, "csrf_token": csrf} if method == "POST" else None
    )
    assert answer.status_code == 404
    assert "no source named" in said(answer)
    assert await snapshot(site.db) == before


async def test_sources_sits_beside_directory_in_the_menu(provisioning_site: Site) -> None:
    site = provisioning_site
    await signed_in(site)
    page = await site.client.get("/admin/apps")
    menu = re.findall(r'<li><a href="([^"]+)"', page.text)
    assert menu[menu.index("/admin/directory") + 1] == "/admin/sources"
    sources = await site.client.get("/admin/sources")
    assert sources.status_code == 200
    assert 'href="/admin/sources" aria-current="page"' in sources.text
    assert "No sources yet" in said(sources)


async def test_the_list_shows_kind_state_last_read_and_next_read_of_each_source(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    await signed_in(site)
    await file_source(service, tmp_path, "hr")
    await operations.sync(service, "hr", full=False)
    await file_source(service, tmp_path, "paused")
    await operations.change_state(service, "paused", "pause")
    await operations.add(service, "gone", "file", {"path": str(tmp_path / "missing")}, {})
    with pytest.raises(SourceUnavailableError, match="is not a folder"):
        await operations.sync(service, "gone", full=False)
    await operations.add(
        service, "okta", "scim-push", {"base_url": "http://provisioning.test/scim/v2/sources/okta"}, {}
    )
    page = said(await site.client.get("/admin/sources"))
    rows = {line.split()[0]: " ".join(line.split()) for line in _rows(page)}
    assert "file" in rows["hr"]
    assert "Active" in rows["hr"]
    assert "· full" in rows["hr"]
    assert "2 / 0 / 0" in rows["hr"]  # users created / updated / deleted
    assert "1 / 0 / 0" in rows["hr"]  # groups
    assert "+1 -0" in rows["hr"]  # memberships
    assert re.search(r"in [45] min", rows["hr"])
    assert "Paused: not read on its interval" in rows["paused"]
    assert "Never" in rows["paused"]
    assert "Failing" in rows["gone"]
    assert "is not a folder" in rows["gone"]
    assert "Fix what the error names" in rows["gone"]
    assert "http://provisioning.test/scim/v2/sources/okta" in rows["okta"]
    assert "scim-push" in rows["okta"]


def _rows(page: str) -> list[str]:
    """The table's rows as text, one line each (after the header)."""
    body = page.split("Next read", 1)[1]
    names = ("hr", "paused", "gone", "okta")
    found: list[str] = []
    for name in names:
        start = body.index(f"\n    {name}") if f"\n    {name}" in body else body.index(name)
        ends = [body.index(f"\n    {n}", start + 1) for n in names if f"\n    {n}" in body[start + 1 :]]
        found.append(body[start : min(ends) if ends else len(body)].strip())
    return found


GOOD_GRAPH = {
    "kind": "graph",
    "name": "entra",
    "tenant_id": "contoso.onmicrosoft.com",
    "client_id": "11111111-2222-3333-4444-555555555555",
    "credential": "secret",
    "client_secret": SECRET,
}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"kind": "file", "name": "hr"}, "a file source needs --path DIR"),
        ({"kind": "file", "name": "file", "path": "/tmp"}, "is the owner of objects imported by hand"),
        ({"kind": "file", "name": "h/r", "path": "/tmp"}, "cannot contain '/'"),
        ({"kind": "file", "name": " ", "path": "/tmp"}, "a source needs a name of 1 to 200 characters"),
        ({"kind": "file", "name": "taken", "path": "/tmp"}, "a source named 'taken' exists already"),
        ({"kind": "ldap", "name": "x"}, "choose the kind of source"),
        ({**GOOD_GRAPH, "tenant_id": ""}, "a graph source needs --tenant-id and --client-id"),
        ({**GOOD_GRAPH, "client_secret": ""}, "the client secret is empty"),
        (
            {**GOOD_GRAPH, "credential": "certificate"},
            "must hold the PEM certificate and its PEM private key",
        ),
    ],
)
async def test_add_source_refuses_bad_input_with_the_clis_message_and_stores_nothing(
    provisioning_site: Site, service: Service, tmp_path: Path, form: dict[str, Any], message: str
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await file_source(service, tmp_path, "taken")
    before = await snapshot(site.db)
    answer = await site.client.post("/admin/sources", data={**form, "csrf_token": csrf})
    assert answer.status_code == 400
    assert message in said(answer)
    assert "Nothing was added." in said(answer)
    assert SECRET not in answer.text  # a refused form never echoes the secret back
    assert await snapshot(site.db) == before


async def test_add_source_refuses_a_certificate_without_its_private_key(
    provisioning_site: Site, service: Service
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    before = await snapshot(site.db)
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    answer = await site.client.post(
        "/admin/sources",
        data={**GOOD_GRAPH, "credential": "certificate", "csrf_token": csrf},
        files={"certificate": ("app.pem", pem, "application/x-pem-file")},
    )
    assert answer.status_code == 400
    assert "PEM private key" in said(answer)
    assert await snapshot(site.db) == before


async def test_add_source_stores_a_file_and_a_graph_source_as_the_cli_does(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    for kind in ("file", "graph"):
        form = await site.client.get("/admin/sources/new", params={"kind": kind})
        assert form.status_code == 200
    folder = drop_folder(tmp_path)
    added = await site.client.post(
        "/admin/sources", data={"kind": "file", "name": "hr", "path": str(folder), "csrf_token": csrf}
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/sources/hr?done=added"
    graph = await site.client.post("/admin/sources", data={**GOOD_GRAPH, "csrf_token": csrf})
    assert graph.status_code == 303
    hr = await operations.describe(service, "hr")
    assert (hr["kind"], hr["settings"], hr["state"]) == ("file", {"path": str(folder.resolve())}, "active")
    entra = await operations.describe(service, "entra")
    assert entra["settings"] == {
        "tenant_id": GOOD_GRAPH["tenant_id"],
        "client_id": GOOD_GRAPH["client_id"],
        "graph_url": "https://graph.microsoft.com",
        "login_url": "https://login.microsoftonline.com",
    }
    assert entra["has_secrets"] is True
    for path in ("/admin/sources", "/admin/sources/entra", "/admin/sources/hr"):
        page = await site.client.get(path)
        assert page.status_code == 200
        assert SECRET not in page.text
    assert "Set. Typing one replaces" in said(await site.client.get("/admin/sources/entra"))


async def test_a_graph_source_added_by_the_page_opens_with_its_secret(
    provisioning_site: Site, service: Service
) -> None:
    await signed_in(provisioning_site)
    await graph_source(service)
    async with service.db.read() as conn:
        stored = await source_store.get_source(conn, "entra")
    assert stored.sealed_secrets is not None
    assert SECRET not in stored.sealed_secrets
    assert SECRET in service.secrets.open(stored.sealed_secrets)
    described = await settled(service, "entra")
    assert described["last_read"]["status"] is None


async def test_the_list_reads_as_many_statements_for_twenty_sources_as_for_one(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    await signed_in(site)
    counted = []
    for total in (1, 20):
        while len(await operations.list_all(service)) < total:
            name = f"s{len(await operations.list_all(service))}"
            await file_source(service, tmp_path, name)
            await operations.sync(service, name, full=False)
        with recorded_statements(site.db, lambda sql, _params: sql) as seen:
            page = await site.client.get("/admin/sources")
        assert page.status_code == 200
        assert said(page).count("Active") == total
        counted.append(len(seen))
    assert counted[0] == counted[1]
