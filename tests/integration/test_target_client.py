"""The SCIM client against real targets: the portal in process, and a target that misbehaves on cue.

Against the portal (both PATCH dialects) every write is read back over SCIM with the test
helpers, not with the client under test. The fault-injecting target is a small Starlette app that
answers each request with the next reply of a script (500, 503, 429 with and without Retry-After,
garbage, a hang, 404 for the probe…); waits are recorded by a fake clock instead of slept.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote_plus

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from enlist.lms.api.app import create_app
from enlist.provisioning.target.client import ScimTarget
from enlist.provisioning.target.connection import UNREACHABLE
from enlist.provisioning.target.dialect import MANAGER_PATH, AttributeChange
from enlist.provisioning.target.errors import (
    MULTIPLE_ENTRIES,
    SERVICE_INCOMPATIBLE,
    ConflictError,
    CredentialsError,
    IncompatibleError,
    NotFoundError,
    RequestRejectedError,
    TargetError,
    TransientError,
)
from tests.helpers import ENTERPRISE, GROUP, USER, ScimTenant, make_tenant

if TYPE_CHECKING:
    from enlist.lms.api.runtime import Portal

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
WORK_EMAIL = 'emails[type eq "work"].value'
SECRET = "fault-target-secret-token"

each_dialect = pytest.mark.parametrize("dialect", ["entra", "rfc"])


# -- (a) the portal, in process ------------------------------------------------------------------


def portal_target(
    portal: Portal, t: ScimTenant, dialect: str, token: str | None = None, **options: Any
) -> ScimTarget:
    """The client on the tenant's Tenant URL; the RFC dialect comes from the flag, as in Entra."""
    flag = "?aadOptscim062020" if dialect == "rfc" else ""
    return ScimTarget(
        f"http://portal.test/scim/v2/{t.tenant.slug}{flag}",
        t.token if token is None else token,
        transport=httpx2.ASGITransport(app=create_app(portal.settings, portal)),
        **options,
    )


def user_body(user_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER, ENTERPRISE],
        "externalId": str(uuid.uuid4()),
        "userName": user_name,
        "active": True,
        "displayName": user_name.partition("@")[0],
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "name": {"givenName": "Given", "familyName": "Family"},
        **extra,
    }


async def read(t: ScimTenant, path: str) -> dict[str, Any] | None:
    response = await t.get(path)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return dict(response.json())


@each_dialect
async def test_connection_to_the_portal_passes_for_users_and_groups(
    portal: Portal, http: httpx2.AsyncClient, dialect: str
) -> None:
    t = await make_tenant(portal, http)
    async with portal_target(portal, t, dialect) as target:
        check = await target.test_connection(groups=True)
    assert check.ok, check.message
    assert check.code is None
    assert target.dialect == dialect
    assert target.requests_by_method == {"GET": 2}


async def test_connection_with_a_wrong_token_fails_as_unauthorized(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    async with portal_target(portal, t, "entra", token="not-the-token") as target:
        check = await target.test_connection()
    assert not check.ok
    assert check.code == "Unauthorized"
    assert "refused the Secret token (401 Unauthorized)" in check.message
    assert "not-the-token" not in check.message
    assert target.requests_sent == 1


@each_dialect
async def test_user_create_patch_and_delete_reach_the_portal(
    portal: Portal, http: httpx2.AsyncClient, dialect: str
) -> None:
    t = await make_tenant(portal, http)
    async with portal_target(portal, t, dialect) as target:
        boss = await target.create("User", user_body("boss@contoso.com"))
        created = await target.create("User", user_body("jdoe@contoso.com", nickName="JD"))
        [found] = await target.find_users("userName", "jdoe@contoso.com")
        assert found["id"] == created["id"]
        assert await target.find_users("userName", "nobody@contoso.com") == []

        await target.patch_user(
            created["id"],
            [
                AttributeChange("displayName", "Jane Doe"),
                AttributeChange(WORK_EMAIL, "jane@contoso.com"),
                AttributeChange("title", "Engineer", old_present=False),
                AttributeChange(f"{ENTERPRISE}:employeeNumber", "42", old_present=False),
                AttributeChange("nickName", None),
                AttributeChange("active", False),
                AttributeChange(MANAGER_PATH, boss["id"], old_present=False),
            ],
        )
        user = await read(t, f"/Users/{created['id']}")
        assert user is not None
        assert user["displayName"] == "Jane Doe"
        assert [e["value"] for e in user["emails"] if e["type"] == "work"] == ["jane@contoso.com"]
        assert user["title"] == "Engineer"
        assert "nickName" not in user
        assert user["active"] is False
        assert user[ENTERPRISE]["employeeNumber"] == "42"
        assert user[ENTERPRISE]["manager"]["value"] == boss["id"]

        await target.patch_user(
            created["id"], [AttributeChange(MANAGER_PATH, None), AttributeChange("active", True)]
        )
        user = await read(t, f"/Users/{created['id']}")
        assert user is not None
        assert "manager" not in user.get(ENTERPRISE, {})
        assert user["active"] is True

        assert (await target.get("User", created["id"]) or {}).get("userName") == "jdoe@contoso.com"
        await target.delete("User", created["id"])
        assert await read(t, f"/Users/{created['id']}") is None
        assert await target.get("User", created["id"]) is None
        await target.delete("User", created["id"])  # already gone: not an error
    assert target.requests_by_method["PATCH"] == 2
    assert target.retries == 0


@each_dialect
async def test_group_create_members_rename_and_delete_reach_the_portal(
    portal: Portal, http: httpx2.AsyncClient, dialect: str
) -> None:
    t = await make_tenant(portal, http)
    async with portal_target(portal, t, dialect, member_chunk=2) as target:
        ids = [(await target.create("User", user_body(f"m{i}@contoso.com")))["id"] for i in range(4)]
        group = await target.create(
            "Group", {"schemas": [GROUP], "displayName": "Sales", "externalId": "g-1"}
        )
        [found] = await target.find_groups("Sales")
        assert found["id"] == group["id"]
        assert "members" not in found

        assert await target.patch_members(group["id"], ids[:3], []) == 2
        assert await t.members(group["id"]) == set(ids[:3])

        assert await target.patch_members(group["id"], [ids[3]], ids[:2]) == 2
        assert await t.members(group["id"]) == {ids[2], ids[3]}
        assert await target.patch_members(group["id"], [], []) == 0

        await target.patch_group(group["id"], [AttributeChange("displayName", "Sales EMEA")])
        assert await target.find_groups("Sales") == []
        [renamed] = await target.find_groups("Sales EMEA")
        assert renamed["id"] == group["id"]
        fetched = await target.get("Group", group["id"], excluded="members")
        assert fetched is not None
        assert "members" not in fetched

        await target.delete("Group", group["id"])
        assert await read(t, f"/Groups/{group['id']}") is None


async def test_a_second_user_with_the_same_user_name_is_an_entry_conflict(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    async with portal_target(portal, t, "entra") as target:
        await target.create("User", user_body("jdoe@contoso.com"))
        with pytest.raises(ConflictError) as caught:
            await target.create("User", user_body("jdoe@contoso.com"))
    assert caught.value.code == "EntryConflict"
    assert caught.value.status == 409
    assert "scimType uniqueness" in caught.value.reason
    assert target.requests_by_method["POST"] == 2


async def test_patching_a_user_deleted_in_the_portal_is_not_found(
    portal: Portal, http: httpx2.AsyncClient
) -> None:
    t = await make_tenant(portal, http)
    async with portal_target(portal, t, "entra") as target:
        user = await target.create("User", user_body("gone@contoso.com"))
        assert (await t.delete(f"/Users/{user['id']}")).status_code == 204
        with pytest.raises(NotFoundError) as caught:
            await target.patch_user(user["id"], [AttributeChange("displayName", "x")])
    assert caught.value.code == "NotFound"


# -- (b) a target that fails on cue ---------------------------------------------------------------


class FakeClock:
    """Monotonic time that moves only when the client sleeps; every wait is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        await asyncio.sleep(0)  # let other requests run, as a real sleep would
        self.now += seconds


Reply = Response | Callable[[Request], Awaitable[Response]]


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float


class FaultyTarget:
    """A SCIM target answering each request with the next scripted reply; the last one repeats."""

    def __init__(self, clock: FakeClock, *replies: Reply) -> None:
        self.clock = clock
        self.replies = list(replies)
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.peak = 0

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                request.url.query,
                dict(request.headers),
                body,
                self.clock.now,
            )
        )
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return reply if isinstance(reply, Response) else await reply(request)
        finally:
            self.in_flight -= 1

    def app(self) -> Starlette:
        methods = ["GET", "POST", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/scim/{rest:path}", self.endpoint, methods=methods)])


def scim(status: int, body: Any = None, **headers: str) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/scim+json")


def error(status: int, detail: str, **headers: str) -> Response:
    return scim(status, {"schemas": [SCIM_ERROR], "status": str(status), "detail": detail}, **headers)


def listing(*resources: dict[str, Any]) -> Response:
    body = {"schemas": [LIST_RESPONSE], "totalResults": len(resources), "Resources": list(resources)}
    return scim(200, body)


async def hang(_request: Request) -> Response:
    await asyncio.sleep(3600)
    return Response(status_code=200)


USER_1 = {"id": "u1", "userName": "jdoe@contoso.com"}


@dataclass
class Rig:
    clock: FakeClock
    fault: FaultyTarget

    def target(
        self, tenant_url: str = "http://faulty.test/scim/v2?aadOptscim062020", **options: Any
    ) -> ScimTarget:
        return ScimTarget(
            tenant_url,
            SECRET,
            transport=httpx2.ASGITransport(app=self.fault.app()),
            sleep=self.clock.sleep,
            clock=self.clock,
            **options,
        )


def rig(*replies: Reply) -> Rig:
    clock = FakeClock()
    return Rig(clock, FaultyTarget(clock, *replies))


async def test_requests_keep_the_tenant_urls_query_string_and_speak_entras_wire_format() -> None:
    r = rig(listing(USER_1), scim(204))
    async with r.target() as target:
        await target.find_users("userName", "jdoe@contoso.com")
        await target.patch_user("u1", [AttributeChange("active", False)])
    query, patch = r.fault.seen
    assert query.path == "/scim/v2/Users"
    assert query.query == "aadOptscim062020&filter=userName+eq+%22jdoe%40contoso.com%22"
    assert query.headers["authorization"] == f"Bearer {SECRET}"
    assert patch.path == "/scim/v2/Users/u1"
    assert patch.query == "aadOptscim062020"
    assert patch.headers["content-type"] == "application/scim+json"
    assert (
        patch.body
        == b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}'
    )
    assert target.dialect == "rfc"


async def test_without_the_flag_the_client_speaks_entras_default_dialect() -> None:
    r = rig(scim(204))
    async with r.target("http://faulty.test/scim/v2/") as target:
        await target.patch_user("u/1", [AttributeChange("active", False)])
    [patch] = r.fault.seen
    assert patch.path == "/scim/v2/Users/u/1"  # sent as u%2F1: the id stays one path segment
    assert patch.query == ""
    assert b'"op":"Replace","path":"active","value":"False"' in patch.body
    assert target.dialect == "entra"


async def test_the_probe_asks_for_a_fresh_random_id_each_time() -> None:
    r = rig(listing())
    async with r.target() as target:
        assert (await target.test_connection()).ok
        assert (await target.test_connection(matching_attribute="externalId")).ok
    first, second = (parse_qs(seen.query)["filter"][0] for seen in r.fault.seen)
    assert first.startswith('userName eq "')
    assert second.startswith('externalId eq "')
    assert uuid.UUID(first.split('"')[1]) != uuid.UUID(second.split('"')[1])


async def test_server_errors_are_retried_with_exponential_backoff() -> None:
    r = rig(error(500, "boom"), error(502, "bad gateway"), scim(200, USER_1))
    async with r.target() as target:
        assert await target.get("User", "u1") == USER_1
    assert r.clock.waits == [0.5, 1.0]
    assert (target.requests_sent, target.retries) == (3, 2)
    assert target.requests_by_method == {"GET": 3}


async def test_a_target_that_keeps_failing_raises_after_max_attempts() -> None:
    r = rig(error(503, "down for maintenance"))
    async with r.target(max_attempts=4) as target:
        with pytest.raises(TransientError) as caught:
            await target.patch_user("u1", [AttributeChange("title", "x")])
    assert caught.value.code == "InternalServerError"
    assert caught.value.status == 503
    assert "down for maintenance" in caught.value.reason
    assert r.clock.waits == [0.5, 1.0, 2.0]
    assert len(r.fault.seen) == 4


async def test_backoff_doubles_up_to_thirty_seconds() -> None:
    r = rig(error(500, "boom"))
    async with r.target(max_attempts=10) as target:
        with pytest.raises(TransientError):
            await target.delete("User", "u1")
    assert r.clock.waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


async def test_429_with_retry_after_waits_what_the_target_asked() -> None:
    r = rig(error(429, "slow down", **{"Retry-After": "7"}), scim(204))
    async with r.target() as target:
        await target.patch_members("g1", ["u1"], [])
    assert r.clock.waits == [7.0]
    assert target.retries == 1


async def test_429_with_retry_after_as_an_http_date_waits_until_then() -> None:
    """The fake clock does not move the wall clock, so the date is read against real time."""
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    r = rig(error(429, "slow down", **{"Retry-After": when}), scim(204))
    async with r.target() as target:
        await target.patch_members("g1", ["u1"], [])
    [wait] = r.clock.waits
    assert 55 <= wait <= 60


async def test_429_without_retry_after_backs_off() -> None:
    r = rig(error(429, "slow down"), scim(201, {"id": "u1", "userName": "a"}))
    async with r.target() as target:
        assert (await target.create("User", {"userName": "a"}))["id"] == "u1"
    assert r.clock.waits == [0.5]
    assert target.requests_by_method == {"POST": 2}


@pytest.mark.parametrize("retry_after", ["300", "http-date"])
async def test_a_retry_after_beyond_two_minutes_is_raised_at_once_for_escrow(retry_after: str) -> None:
    if retry_after == "http-date":
        retry_after = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    r = rig(error(429, "quota exhausted", **{"Retry-After": retry_after}), scim(204))
    async with r.target() as target:
        with pytest.raises(TransientError) as caught:
            await target.patch_user("u1", [AttributeChange("title", "x")])
    assert caught.value.code == "TooManyRequests"
    assert caught.value.retry_after == pytest.approx(300 if retry_after == "300" else 3600, abs=5)
    assert r.clock.waits == []
    assert target.requests_sent == 1


async def test_a_retry_after_holds_back_the_other_requests_too() -> None:
    r = rig(error(429, "slow down", **{"Retry-After": "5"}), scim(200, USER_1))
    async with r.target(max_concurrency=1) as target:
        await asyncio.gather(target.get("User", "u1"), target.get("User", "u2"))
    assert r.clock.waits == [5.0, 5.0]
    first, second, third = r.fault.seen
    assert first.at == 0.0
    assert second.at >= 5.0
    assert third.at >= 5.0


async def test_a_hang_beyond_the_timeout_is_a_retried_timeout() -> None:
    r = rig(hang)
    async with r.target(timeout_s=0.05, max_attempts=2) as target:
        with pytest.raises(TransientError) as caught:
            await target.get("User", "u1")
    assert caught.value.code == "Timeout"
    assert caught.value.status is None
    assert caught.value.reason == "GET /Users/u1: the application did not answer within 0.05 s"
    assert r.clock.waits == [0.5]
    assert target.requests_sent == 2


@pytest.mark.parametrize("failure", [error(500, "boom"), hang])
async def test_a_create_that_may_have_been_applied_is_not_sent_again(failure: Reply) -> None:
    """A resent POST could meet the user its first attempt created; the engine re-matches instead."""
    r = rig(failure, scim(201, {"id": "u1"}))
    async with r.target(timeout_s=0.05) as target:
        with pytest.raises(TransientError):
            await target.create("User", {"userName": "a"})
    assert target.requests_sent == 1


async def test_a_create_the_target_refused_to_start_is_sent_again() -> None:
    r = rig(error(503, "starting up", **{"Retry-After": "2"}), scim(201, {"id": "u1"}))
    async with r.target() as target:
        assert (await target.create("User", {"userName": "a"}))["id"] == "u1"
    assert r.clock.waits == [2.0]


@pytest.mark.parametrize(
    ("reply", "kind", "code"),
    [
        (error(400, "userName is required"), RequestRejectedError, "BadRequest"),
        (error(401, "token expired"), CredentialsError, "Unauthorized"),
        (error(403, "seat limit reached"), CredentialsError, "InsufficientRights"),
        (error(405, "PATCH not supported"), RequestRejectedError, "MethodNotAllowed"),
        (error(409, "userName taken"), ConflictError, "EntryConflict"),
        (error(422, "bad department"), RequestRejectedError, "UnprocessableEntity"),
        (error(501, "not implemented"), RequestRejectedError, "NotImplemented"),
    ],
)
async def test_errors_that_retrying_cannot_fix_are_raised_at_once(
    reply: Response, kind: type[TargetError], code: str
) -> None:
    r = rig(reply, scim(204))
    async with r.target() as target:
        with pytest.raises(kind) as caught:
            await target.patch_user("u1", [AttributeChange("title", "x")])
    assert type(caught.value) is kind
    assert caught.value.code == code
    assert target.requests_sent == 1
    assert r.clock.waits == []


async def test_the_token_never_appears_in_an_error_even_when_the_target_echoes_it() -> None:
    async def echo(request: Request) -> Response:
        return error(400, f"unexpected header: {request.headers['authorization']}")

    r = rig(echo)
    async with r.target() as target:
        with pytest.raises(RequestRejectedError) as caught:
            await target.patch_user("u1", [AttributeChange("title", "x")])
    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.reason
    assert SECRET not in repr(target)


@pytest.mark.parametrize(
    ("reply", "what"),
    [
        (scim(200, None), "not a SCIM response"),
        (Response("{garbage", status_code=200, media_type="application/json"), "not a SCIM response"),
        (
            Response("<html>login</html>", status_code=200, media_type="text/html"),
            "answered 200 with text/html, not a SCIM response",
        ),
        (scim(200, ["not", "an", "object"]), "not a ListResponse object"),
        (scim(200, {"status": "ok"}), "a JSON object but not a SCIM ListResponse"),
        (scim(200, {}), "a JSON object but not a SCIM ListResponse"),
        (scim(200, {"totalResults": 1, "Resources": {"id": "u1"}}), "Resources is not a list"),
        (scim(200, {"totalResults": 2}), "totalResults 2 but no Resources"),
        (scim(200, {"totalResults": 1, "Resources": [{"userName": "jdoe@contoso.com"}]}), "has no id"),
    ],
)
async def test_a_list_answer_of_the_wrong_shape_is_incompatible_and_not_retried(
    reply: Response, what: str
) -> None:
    r = rig(reply)
    async with r.target() as target:
        with pytest.raises(IncompatibleError) as caught:
            await target.find_users("userName", "jdoe@contoso.com")
    assert caught.value.code == SERVICE_INCOMPATIBLE
    assert what in caught.value.reason
    assert target.requests_sent == 1


async def test_an_empty_list_without_resources_is_an_empty_result() -> None:
    r = rig(scim(200, {"schemas": [LIST_RESPONSE], "totalResults": 0}))
    async with r.target() as target:
        assert await target.find_groups("Sales") == []
    assert parse_qs(r.fault.seen[0].query)["excludedAttributes"] == ["members"]


async def test_a_target_that_ignores_the_filter_is_caught() -> None:
    r = rig(listing({"id": "u9", "userName": "someone.else@contoso.com"}))
    async with r.target() as target:
        with pytest.raises(IncompatibleError) as caught:
            await target.find_users("userName", "jdoe@contoso.com")
    assert caught.value.code == MULTIPLE_ENTRIES
    assert "u9" in caught.value.reason


@pytest.mark.parametrize(
    ("reply", "what"),
    [
        (scim(201, {"userName": "a"}), "the created resource has no id"),
        (scim(201, None), "not a SCIM response"),
        (scim(201, {"id": ""}), "the created resource has no id"),
    ],
)
async def test_a_created_resource_without_an_id_is_incompatible(reply: Response, what: str) -> None:
    r = rig(reply)
    async with r.target() as target:
        with pytest.raises(IncompatibleError) as caught:
            await target.create("User", {"userName": "a"})
    assert what in caught.value.reason


async def test_a_redirect_is_not_followed() -> None:
    r = rig(Response(status_code=302, headers={"Location": "https://login.example/"}))
    async with r.target() as target:
        with pytest.raises(IncompatibleError) as caught:
            await target.get("User", "u1")
    assert "redirect to https://login.example/" in caught.value.reason


async def test_the_probe_fails_clearly_on_404() -> None:
    r = rig(error(404, "no such route"))
    async with r.target() as target:
        check = await target.test_connection()
    assert not check.ok
    assert check.code == "NotFound"
    assert "is not a SCIM endpoint, or answered 404 instead of 200 with an empty list" in check.message
    assert check.message.startswith("http://faulty.test/scim/v2/Users ")


async def test_the_probe_fails_when_a_random_id_finds_something() -> None:
    r = rig(listing(USER_1))
    async with r.target() as target:
        check = await target.test_connection()
    assert not check.ok
    assert check.code == MULTIPLE_ENTRIES
    assert "ignores the filter" in check.message


async def test_the_probe_fails_on_an_answer_that_is_not_json() -> None:
    r = rig(Response("<html>Welcome</html>", status_code=200, media_type="text/html"))
    async with r.target() as target:
        check = await target.test_connection()
    assert (check.ok, check.code) == (False, SERVICE_INCOMPATIBLE)
    assert "did not answer with a SCIM ListResponse" in check.message


async def test_the_probe_is_sent_once_not_retried() -> None:
    r = rig(error(500, "boom"), listing())
    async with r.target() as target:
        check = await target.test_connection()
    assert (check.ok, check.code) == (False, "InternalServerError")
    assert "boom" in check.message
    assert target.requests_sent == 1


async def test_the_probe_of_groups_runs_after_users_and_reports_its_own_failure() -> None:
    r = rig(listing(), error(403, "groups are not enabled"))
    async with r.target() as target:
        check = await target.test_connection(groups=True)
    assert (check.ok, check.code) == (False, "InsufficientRights")
    assert "/Groups accepted the Secret token but refused to list groups" in check.message
    groups = r.fault.seen[1]
    assert groups.path == "/scim/v2/Groups"
    assert unquote_plus(groups.query).startswith(
        'aadOptscim062020&excludedAttributes=members&filter=displayName eq "'
    )


async def test_the_probe_of_a_host_that_refuses_connections_says_check_the_tenant_url() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ScimTarget(f"http://127.0.0.1:{port}/scim", SECRET, timeout_s=5) as target:
        check = await target.test_connection()
    assert not check.ok
    assert check.code == UNREACHABLE
    assert check.message.startswith(
        f"Could not reach http://127.0.0.1:{port}/scim/Users (GET /Users: could not connect"
    )
    assert "Check the Tenant URL" in check.message


async def test_the_rate_limit_spaces_requests_out() -> None:
    r = rig(scim(204))
    async with r.target(max_requests_per_second=2) as target:
        for _ in range(3):
            await target.delete("Group", "g1")
    assert r.clock.waits == [0.5, 0.5]
    assert [seen.at for seen in r.fault.seen] == [0.0, 0.5, 1.0]


async def test_no_more_than_max_concurrency_requests_reach_the_target_at_once() -> None:
    async def slow(_request: Request) -> Response:
        await asyncio.sleep(0.01)
        return scim(204)

    r = rig(slow)
    async with r.target(max_concurrency=2) as target:
        await asyncio.gather(*(target.delete("User", f"u{i}") for i in range(6)))
    assert r.fault.peak == 2
    assert target.requests_sent == 6


async def test_the_client_must_be_opened_before_use() -> None:
    target = ScimTarget("http://faulty.test/scim", SECRET)
    with pytest.raises(RuntimeError, match="async with"):
        await target.get("User", "u1")


@pytest.mark.parametrize(
    ("url", "token", "message"),
    [
        ("faulty.test/scim", SECRET, "absolute"),
        ("ftp://faulty.test/scim", SECRET, "absolute"),
        ("http://faulty.test/scim", "  ", "Secret token"),
    ],
)
def test_a_tenant_url_or_token_that_cannot_work_is_refused(url: str, token: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScimTarget(url, token)
