"""A push source's bearer token: its own, shown once, rotatable with overlap; anything else is a
401 with a SCIM error body on every route, and touches nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest
import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning.directory.tables import dir_users
from enlist.provisioning.sources import operations as source_operations
from enlist.provisioning.sources.push import operations, tokens
from enlist.provisioning.sources.push.routes import routes
from tests.integration.push.conftest import Pushed

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def every_route() -> list[tuple[str, str]]:
    """(method, path under the base URL) for each route and method it takes."""
    out = []
    for route in routes():
        path = route.path.removeprefix("/scim/v2/sources/{source}")
        path = path.replace("{id}", "some-id").replace("{rest:path}", "anything/else")
        out += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return out


@pytest.mark.parametrize("authorization", [None, "non-token", "Bearer abc", "Bearer enl_wrongwrongwr_secret"])
async def test_every_route_refuses_a_missing_or_wrong_token_with_a_scim_401(
    pushed: Pushed, authorization: str | None
) -> None:
    headers = {"Content-Type": "application/scim+json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    async with httpx2.AsyncClient(base_url=pushed.base_url, headers=headers) as anonymous:
        for method, path in every_route():
            answer = await anonymous.request(method, path, json={"userName": "x@contoso.com"})
            assert answer.status_code == 401, (method, path)
            assert answer.json()["schemas"] == [ERROR]
            assert answer.json()["status"] == "401"
    async with pushed.service.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(dir_users))).scalar_one() == 0


async def test_another_push_sources_token_never_works(pushed: Pushed) -> None:
    other = await operations.add(pushed.service, "okta")
    headers = {"Authorization": f"Bearer {other['token']}"}
    answer = await pushed.client.get("/Users", headers=headers)
    assert answer.status_code == 401
    assert (await pushed.client.get(f"{other['base_url']}/Users", headers=headers)).status_code == 200


async def test_a_rotated_token_works_at_once_and_the_old_one_only_during_the_overlap(pushed: Pushed) -> None:
    rotated = await operations.rotate_token(pushed.service, "hr", overlap_minutes=30)
    new = {"Authorization": f"Bearer {rotated['token']}"}
    assert (await pushed.client.get("/Users", headers=new)).status_code == 200
    assert (await pushed.client.get("/Users")).status_code == 200  # the old one, in the overlap
    closed = await operations.rotate_token(pushed.service, "hr", overlap_minutes=0)
    assert (await pushed.client.get("/Users")).status_code == 401
    assert (await pushed.client.get("/Users", headers=new)).status_code == 401
    newest = {"Authorization": f"Bearer {closed['token']}"}
    assert (await pushed.client.get("/Users", headers=newest)).status_code == 200


def test_an_old_token_stops_working_when_its_overlap_ends() -> None:
    moment = now()
    first, sealed = tokens.mint({}, moment, None)
    second, sealed = tokens.mint(sealed, moment, timedelta(minutes=5))
    assert tokens.verify(sealed, first, moment + timedelta(minutes=4))
    assert not tokens.verify(sealed, first, moment + timedelta(minutes=6))
    assert tokens.verify(sealed, second, moment + timedelta(days=400))
    assert not tokens.verify(sealed, second + "x", moment)


async def test_the_token_is_stored_only_as_a_sealed_digest(pushed: Pushed) -> None:
    source = await source_operations.get(pushed.service, "hr")
    assert source.sealed_secrets is not None
    assert pushed.token not in source.sealed_secrets
    opened = pushed.service.secrets.open(source.sealed_secrets)
    assert pushed.token.split("_")[-1] not in opened
