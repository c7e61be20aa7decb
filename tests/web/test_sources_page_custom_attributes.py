"""An LDAP source's custom attributes on its Sources page: listed one field each, added in the
free row, edited, removed by emptying the field; a bad name, a bad LDAP attribute or a key the
kind does not take is refused with its message and changes nothing, as is a form without a
session or its CSRF token. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import signed_in
from tests.web.sources_page import (
    database_kind,  # noqa: F401 - both databases for every test here
    file_source,
    said,
    snapshot,
)

SETTINGS = "/admin/sources/corp/settings"


async def ldap_source(service: Service) -> None:
    secrets = {"bind_password": "pw"}
    settings = operations.ldap_settings(("ldap://127.0.0.1:9",), "cn=r", ("dc=example",), {}, secrets)
    await operations.add(service, "corp", "ldap", settings, secrets)


async def custom(service: Service) -> object:
    return (await operations.get(service, "corp")).settings.get("attributes")


async def test_custom_attributes_are_added_listed_edited_and_removed_on_the_page(
    provisioning_site: Site, service: Service
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await ldap_source(service)
    added = await site.client.post(
        SETTINGS,
        data={"other_key": "attributes.costType", "other_value": "employeeType", "csrf_token": csrf},
    )
    assert added.status_code == 303
    assert await custom(service) == {"extension_costType": "employeeType"}
    page = await site.client.get("/admin/sources/corp")
    assert 'name="attributes.extension_costType" value="employeeType"' in page.text
    assert "reads as [extension_NAME]" in said(page)
    edited = await site.client.post(
        SETTINGS, data={"attributes.extension_costType": "departmentNumber", "csrf_token": csrf}
    )
    assert edited.status_code == 303
    assert await custom(service) == {"extension_costType": "departmentNumber"}
    removed = await site.client.post(SETTINGS, data={"attributes.extension_costType": "", "csrf_token": csrf})
    assert removed.status_code == 303
    assert await custom(service) is None
    assert 'name="attributes.' not in (await site.client.get("/admin/sources/corp")).text


async def test_a_bad_custom_attribute_or_an_unknown_key_is_refused_and_changes_nothing(
    provisioning_site: Site, service: Service, tmp_path: Path
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await ldap_source(service)
    await file_source(service, tmp_path)
    await operations.configure(service, "corp", {"attributes.kind": "employeeType"})
    before = await snapshot(site.db)
    for source, form, message in (
        ("corp", {"other_key": "attributes.cost type", "other_value": "title"}, "not a usable name"),
        ("corp", {"attributes.extension_kind": "employee type"}, "must name one LDAP attribute"),
        (
            "corp",
            {"other_key": "page_sise", "other_value": "5"},
            "unknown setting 'page_sise': a source of kind ldap takes",
        ),
        ("hr", {"other_key": "attributes.kind", "other_value": "title"}, "unknown setting 'attributes.kind'"),
    ):
        answer = await site.client.post(
            f"/admin/sources/{source}/settings", data={**form, "csrf_token": csrf}
        )
        assert answer.status_code == 400, form
        assert message in said(answer), said(answer)
        assert "Nothing was saved." in said(answer)
    form = {"other_key": "attributes.x", "other_value": "title"}
    for token in (None, "forged"):
        refused = await site.client.post(
            SETTINGS, data=form if token is None else {**form, "csrf_token": token}
        )
        assert refused.status_code == 403
    site.client.cookies.clear()
    assert (await site.client.post(SETTINGS, data={**form, "csrf_token": csrf})).status_code == 401
    assert await snapshot(site.db) == before
