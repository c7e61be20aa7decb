"""The portal's JSON API covers every `enlist lms` write (a walk of the CLI fails on a command
that is neither routed nor placed as CLI-only with a reason), and the routes added for the
commands that came last: department remove and the notification settings, over real HTTP on
SQLite and PostgreSQL."""

from __future__ import annotations

import click
from starlette.routing import Route

from enlist.cli import main
from tests.integration.api.portal_api import PortalApi, api
from tests.integration.api.test_api_more_writes import commands

__all__ = ["api"]  # the fixture

T = "/api/v1/tenants/{tenant}"
# Every `enlist lms` command that writes, and the API route that does the same; or why it stays
# on the command line. A new command must be placed here (the walk below fails).
API_OF: dict[str, tuple[str, str]] = {
    "tenant create": ("POST", "/api/v1/tenants"),
    "tenant set": ("PATCH", f"{T}/policies"),
    "tenant rotate-token": ("POST", f"{T}/secret-tokens"),
    "tenant revoke-tokens": ("DELETE", f"{T}/secret-tokens"),
    "tenant export": ("GET", f"{T}/policy-document"),
    "tenant import": ("PUT", f"{T}/policy-document"),
    "department create": ("POST", f"{T}/departments"),
    "department move": ("POST", f"{T}/departments/{{department}}/move"),
    "department remove": ("DELETE", f"{T}/departments/{{department}}"),
    "log": ("GET", f"{T}/sync-log"),
    "notify set": ("PATCH", f"{T}/notifications"),
    "notify test": ("POST", f"{T}/notifications/test"),
    "notify send": ("POST", "/api/v1/notifications/send"),
    "role add": ("POST", f"{T}/role-rules"),
    "role remove": ("DELETE", f"{T}/role-rules/{{rule}}"),
    "smart-group add": ("POST", f"{T}/smart-groups"),
    "smart-group remove": ("DELETE", f"{T}/smart-groups/{{name}}"),
    "api-token revoke": ("DELETE", "/api/v1/api-tokens/{name}"),
}
CLI_ONLY = {
    "serve": "runs the service itself",
    "notify reseal-secrets": "needs the old and new ENLIST_SECRET_KEY in the environment of the caller",
    "admin create": "admin accounts: a token must not mint sign-ins to the pages",
    "admin delete": "admin accounts (as above)",
    "admin set-password": "admin accounts (as above)",
    "api-token create": "a leaked token could mint its successor before it is revoked (ADR 0030)",
}
READS = {
    "tenant list",
    "tenant show",
    "department list",
    "notify show",
    "role list",
    "role user",
    "smart-group list",
    "smart-group show",
    "admin list",
    "api-token list",
}


async def test_every_cli_write_of_the_portal_has_an_api_route(api: PortalApi) -> None:
    lms = main.get_command(click.Context(main), "lms")
    assert isinstance(lms, click.Group)
    routed = {
        (method, route.path)
        for route in api.routes
        if isinstance(route, Route)
        for method in route.methods or set()
    }

    every = commands(lms)

    assert every == set(API_OF) | set(CLI_ONLY) | READS, {
        "unplaced": every - set(API_OF) - set(CLI_ONLY) - READS,
        "gone": (set(API_OF) | set(CLI_ONLY) | READS) - every,
    }
    assert {c: r for c, r in API_OF.items() if r not in routed} == {}


async def test_a_department_removed_through_the_api_moves_its_people_and_children_up(api: PortalApi) -> None:
    writer = api.tokens["acme-write"]
    base = "/api/v1/tenants/acme/departments"
    await api.call("POST", base, writer, json={"name": "Sales"})
    await api.call("POST", base, writer, json={"name": "North", "parent": "Sales"})

    removed = await api.call("DELETE", f"{base}/Sales", writer)
    again = await api.call("DELETE", f"{base}/Sales", writer)
    by_reader = await api.call("DELETE", f"{base}/North", api.tokens["acme-read"])
    tree = (await api.call("GET", base, writer)).json()

    assert removed.status_code == 200, removed.text
    assert removed.json()["name"] == "Sales"
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "BadDepartment"
    assert by_reader.status_code == 403
    (root,) = tree
    assert [c["name"] for c in root["children"]] == ["North"]  # moved up under the root


async def test_notification_settings_are_set_shown_and_refused_whole_through_the_api(api: PortalApi) -> None:
    writer, reader = api.tokens["acme-write"], api.tokens["acme-read"]
    base = "/api/v1/tenants/acme/notifications"

    nowhere = await api.call("POST", f"{base}/test", writer)
    saved = await api.call(
        "PATCH",
        base,
        writer,
        json={"email": "ops@acme.example", "webhook_secret": "s3cret", "quiet_minutes": "30"},
    )
    bad = await api.call("PATCH", base, writer, json={"email": "other@acme.example", "colour": "blue"})
    by_reader = await api.call("PATCH", base, reader, json={"email": "x@acme.example"})
    shown = await api.call("GET", base, reader)
    sent = await api.call("POST", "/api/v1/notifications/send", api.tokens["portal-write"])
    other_tenant = await api.call("GET", "/api/v1/tenants/globex/notifications", reader)

    assert nowhere.status_code == 400
    assert nowhere.json()["error"]["code"] == "NowhereToSend"
    assert saved.status_code == 200, saved.text
    assert bad.status_code == 400
    assert "colour" in bad.json()["error"]["message"]
    assert by_reader.status_code == 403
    assert shown.json()["email"] == "ops@acme.example"  # the refused change changed nothing
    assert shown.json()["quiet_minutes"] == 30
    assert shown.json()["webhook_secret"] == "(set)"
    assert "s3cret" not in shown.text
    assert sent.status_code == 200
    assert sent.json() == {"deliveries": []}
    assert other_tenant.status_code == 403


async def test_a_tenant_slug_no_database_can_hold_is_an_unknown_tenant_on_every_tenant_route(
    api: PortalApi,
) -> None:
    # The route fuzzer found `GET /api/v1/tenants/a%00b/sync-log` answering 500 on PostgreSQL.
    tenant_routes = {r.path for r in api.routes if isinstance(r, Route) and r.path.startswith(T)}
    for path in sorted(tenant_routes):
        concrete = path.replace(T, "/api/v1/tenants/a%00b").replace("{", "").replace("}", "")
        answer = await api.call("GET", concrete, api.tokens["portal-read"])
        assert answer.status_code in {404, 405}, (path, answer.status_code, answer.text)
        if answer.status_code == 404:
            assert answer.json()["error"]["code"] in {"NotFound", "UnknownTenant"}, (path, answer.text)
