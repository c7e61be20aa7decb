"""Query parameters outside their bounds get a 400 in the route's own format that says what is
allowed: a SCIM Error under /scim and on the portal's sync-log API, `{"error": …}` on the
provisioning API, a page on the admin pages. The values are the ones outside testing sent
(each was a 500, or `limit=-1` answered 1,101 records past the 1,000 cap); both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx2
import pytest

from enlist.lms.api.runtime import Portal
from enlist.provisioning.logs import store as log_store
from enlist.provisioning.logs.records import LogRecord
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.web import params
from tests.helpers import ScimTenant, assert_api_error, make_tenant
from tests.web.provisioning_fixtures import APP
from tests.web.session import csrf_of, make_admin, sign_in

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
HUGE = str(2**63)


@pytest.fixture
async def acme(portal: Portal, http: httpx2.AsyncClient) -> ScimTenant:
    tenant = await make_tenant(portal, http)
    await tenant.create_user("ann@example.com")
    return tenant


def assert_scim_400(response: httpx2.Response, allowed: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["scimType"] == "invalidValue"
    assert allowed in body["detail"]


@pytest.mark.parametrize("endpoint", ["/Users", "/Groups"])
@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("startIndex", HUGE, "startIndex must be an integer from"),
        ("startIndex", "1e3", "startIndex must be an integer from"),
        ("startIndex", "\u0661", "startIndex must be an integer from"),
        ("count", "9" * 30, "count must be an integer from"),
        ("count", "abc", "count must be an integer from"),
    ],
)
async def test_a_list_parameter_out_of_bounds_is_a_scim_400(
    acme: ScimTenant, endpoint: str, name: str, value: str, allowed: str
) -> None:
    assert_scim_400(await acme.get(endpoint, **{name: value}), allowed)


@pytest.mark.parametrize("endpoint", ["/.search", "/Users/.search", "/Groups/.search"])
@pytest.mark.parametrize(
    "body", [{"startIndex": 2**63}, {"count": 2**64 - 1}, {"startIndex": 1.5}, {"startIndex": True}]
)
async def test_a_search_body_number_out_of_bounds_is_a_scim_400(
    acme: ScimTenant, endpoint: str, body: dict[str, object]
) -> None:
    response = await acme.post(
        endpoint, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], **body}
    )
    assert_scim_400(response, f"{next(iter(body))} must be an integer from")


async def test_rfc_leniency_within_the_bounds_is_kept(acme: ScimTenant) -> None:
    """RFC 7644 §3.4.2.4: a startIndex below 1 is 1; a negative count is 0."""
    below = await acme.get("/Users", startIndex="-5")
    assert below.status_code == 200
    assert below.json()["startIndex"] == 1
    assert below.json()["totalResults"] == 1
    none = await acme.get("/Users", count="-1")
    assert none.status_code == 200
    assert none.json()["Resources"] == []
    past = await acme.get("/Users", startIndex=str(2**31 - 1))
    assert past.status_code == 200
    assert past.json()["Resources"] == []


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("before", HUGE, "before must be an integer from 1 to 9223372036854775807"),
        ("before", "abc", "before must be an integer from 1"),
        ("status", "²", "status must be success, failure or an HTTP status code from 100 to 599"),
        ("status", "9" * 30, "status must be success, failure or an HTTP status code"),
        ("limit", "1e3", "limit must be an integer from 1 to 1000"),
        ("limit", "-1", "limit must be an integer from 1 to 1000"),
        ("since", "9999-12-31T23:59:59-23:59", "since must be an ISO 8601 date and time"),
        ("q", "a\x00b", "q must be text of at most 256 characters, without NUL"),
        ("format", "xml", "format must be one of csv, jsonl"),
    ],
)
async def test_a_sync_log_api_parameter_out_of_bounds_is_a_400_naming_what_is_allowed(
    acme: ScimTenant, http: httpx2.AsyncClient, name: str, value: str, allowed: str
) -> None:
    response = await http.get(
        f"/api/v1/tenants/{acme.tenant.slug}/sync-log", params={name: value}, headers=acme.headers()
    )
    assert_api_error(response, 400, allowed)


@pytest.mark.parametrize("value", ["²", HUGE, "teapot"])
async def test_the_sync_log_page_answers_a_bad_status_with_a_page_saying_what_is_allowed(
    portal: Portal, acme: ScimTenant, http: httpx2.AsyncClient, value: str
) -> None:
    await make_admin(portal.db)
    await sign_in(http)
    page = await http.get(f"/admin/tenants/{acme.tenant.slug}/log", params={"status": value})
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "status must be success, failure or an HTTP status code from 100 to 599" in page.text


@pytest.fixture
async def provisioning(service: Service) -> AsyncIterator[httpx2.AsyncClient]:
    from enlist.provisioning.api.app import create_app  # noqa: PLC0415

    app = create_app(service.settings, scheduler=False, service=service)
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://provisioning.test"
    ) as client:
        await seed(service, client)
        yield client


async def seed(service: Service, client: httpx2.AsyncClient) -> None:
    """An admin signed in, an application, and 1,101 provisioning log records."""
    await make_admin(service.db)
    await sign_in(client)
    csrf = csrf_of(await client.get("/admin/apps"))
    await client.post("/admin/apps", data={"name": APP, "kind": "non-gallery", "csrf_token": csrf})
    async with service.db.write() as conn:
        app_row = await app_store.get_app(conn, APP)
        at = datetime(2026, 11, 1, tzinfo=UTC)
        records = [
            LogRecord(cycle_id="c1", object_kind="user", source_id=f"s{i}", source_name=f"u{i}", at=at)
            for i in range(1101)
        ]
        await log_store.write(conn, app_row.id, records)


@pytest.mark.parametrize("value", ["abc", "1e3", "-1", "0", "1001", HUGE, " "])
async def test_the_provisioning_api_refuses_a_limit_outside_1_to_1000_with_json(
    provisioning: httpx2.AsyncClient, value: str
) -> None:
    response = await provisioning.get(f"/api/v1/apps/{APP}/logs", params={"limit": value})
    if value == " ":  # blank is the default
        assert response.status_code == 200
        assert len(response.json()) == 100
        return
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BadParameter"
    assert error["message"] == f"limit must be an integer from 1 to 1000, not {value!r}"
    assert error["hint"]


async def test_the_provisioning_api_answers_at_most_1000_records(provisioning: httpx2.AsyncClient) -> None:
    response = await provisioning.get(f"/api/v1/apps/{APP}/logs", params={"limit": "1000"})
    assert response.status_code == 200
    assert len(response.json()) == 1000
    bad = await provisioning.get(f"/api/v1/apps/{APP}/logs", params={"status": "nope"})
    assert bad.status_code == 400
    assert (
        bad.json()["error"]["message"]
        == "status must be one of success, failure, skipped, warning, not 'nope'"
    )


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (params.Integer(1, 10), "1e3"),
        (params.Integer(1, 10), "1_0"),
        (params.Integer(1, 10), "\u0661"),
        (params.Integer(1, 10), "11"),
        (params.Integer(1, 10), "0"),
        (params.Integer(-5, 5), "9" * 5000),
        (params.Choice(("a", "b")), "A"),
        (params.Timestamp(), "9999-12-31T23:59:59-23:59"),
        (params.Timestamp(), "yesterday"),
        (params.Text(3), "abcd"),
        (params.Text(10), "a\x00"),
        (params.Text(10), "\ud800"),
    ],
)
def test_every_kind_refuses_what_it_does_not_allow_and_says_what_it_allows(
    kind: params.Kind[object], text: str
) -> None:
    with pytest.raises(params.ParameterError) as refused:
        params.read({"p": text}, "p", kind)
    assert str(refused.value).startswith("p must be ")
    assert len(str(refused.value)) < 200  # a 5,000-digit value is not echoed whole


def test_a_timestamp_is_returned_in_utc() -> None:
    moment = params.read({"t": "2026-11-27T09:00+02:00"}, "t", params.Timestamp())
    assert moment == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert params.read({"t": "2026-11-27"}, "t", params.Timestamp()) == datetime(2026, 11, 27, tzinfo=UTC)
    assert params.read({}, "t", params.Timestamp()) is None
