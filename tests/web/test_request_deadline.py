"""Every route of both services is under the request deadline, and its 503 has the route's format
(ADR 0012). The behaviour itself (a real over-deadline request answering 503, a half-sent form
ended by it) is proved over real sockets in tests/reliability/test_tenant_fairness.py and
test_half_sent_forms.py; this checks the class: no route of either app is outside it."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Scope

from enlist.lms.api.app import create_app as create_portal_app
from enlist.lms.api.runtime import Portal
from enlist.logs.middleware import RequestLog
from enlist.metrics.middleware import RequestMetrics
from enlist.web.deadline import RequestDeadline, tenant_of

SCIM_ERROR = "application/scim+json"


def outermost_deadline(app: Starlette) -> RequestDeadline:
    """The first middleware of the app, built: it sees every request before any route (only the
    request log and the request metrics, which log, time and count what it answers too, come
    before it)."""
    first = next(m for m in app.user_middleware if m.cls not in (RequestLog, RequestMetrics))
    assert first.cls is RequestDeadline, [m.cls for m in app.user_middleware]
    built = RequestDeadline(app.router, *first.args, **first.kwargs)
    assert isinstance(built, RequestDeadline)
    return built


def scope_for(path: str, accept: str = "text/html") -> Scope:
    return {"type": "http", "path": path, "method": "GET", "headers": [(b"accept", accept.encode())]}


def concrete(path: str) -> str:
    return (
        path.replace("{tenant}", "acme")
        .replace("{slug}", "acme")
        .replace(":int}", "}")
        .replace("{", "")
        .replace("}", "")
    )


def expected_type(service: str, path: str) -> str:
    if path.startswith("/scim/"):
        return SCIM_ERROR
    if path.startswith(("/api/", "/openapi")) or path == "/healthz":
        return "application/json"
    return "text/html"


def check_every_route(app: Starlette, service: str, seconds: float) -> int:
    deadline = outermost_deadline(app)
    assert deadline.seconds == seconds
    checked = 0
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        path = concrete(route.path)
        accept = "application/json" if expected_type(service, path) == "application/json" else "text/html"
        answer = deadline._answer(scope_for(path, accept), "too slow")
        assert answer.status_code == 503
        assert answer.media_type is not None
        assert answer.media_type.startswith(expected_type(service, path)), (path, answer.media_type)
        checked += 1
    return checked


async def test_every_portal_route_is_under_the_deadline_with_a_503_in_its_format(portal: Portal) -> None:
    app = create_portal_app(portal.settings, portal)
    assert check_every_route(app, "portal", portal.settings.request_timeout_seconds) > 20


async def test_every_provisioning_route_is_under_the_deadline_with_a_503_in_its_format(
    service: object,
) -> None:
    from enlist.provisioning.api.app import create_app  # noqa: PLC0415
    from enlist.provisioning.service import Service  # noqa: PLC0415

    assert isinstance(service, Service)
    app = create_app(service.settings, scheduler=False, service=service)
    assert check_every_route(app, "provisioning", service.settings.request_timeout_seconds) > 10


def test_the_tenant_a_path_names_is_the_one_its_turns_are_counted_against() -> None:
    assert tenant_of("/scim/v2/acme/Users") == "acme"
    assert tenant_of("/api/v1/tenants/acme/sync-log") == "acme"
    assert tenant_of("/admin/tenants/acme/log") == "acme"
    assert tenant_of("/healthz") == ""
    assert tenant_of("/admin/apps/payroll") == ""
