"""Provisioning: Connect your application (Tenant URL, Secret token, Test connection, Create),
then Mappings (with the expression tester) and Settings (scope, scoping filters, schedule,
dialect, limits, notification email, accidental deletion threshold).

The Secret token field is write-only: it is never filled in and never echoed back, and no page
shows the stored token. Leaving it empty keeps the stored one, for the saved Tenant URL only: with
another Tenant URL the token must be typed again (`operations.URL_CHANGED`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.provisioning import operations
from enlist.provisioning.api.app import service_of
from enlist.provisioning.directory import store as directory
from enlist.provisioning.engine.app_settings import AppSettings
from enlist.provisioning.engine.mapping_edits import describe, try_expression
from enlist.provisioning.mapping.errors import ExpressionError, MappingError
from enlist.provisioning.mapping.mappings import mapping_from_json
from enlist.provisioning.operations import EXPECTED
from enlist.provisioning.store.apps import App
from enlist.provisioning.web.common import (
    APP,
    app_of,
    app_url,
    context,
    form_of,
    is_htmx,
    message_of,
    site_of,
    text,
)

PAGE = "provisioning"
BOOLEANS = (
    "skip_out_of_scope_deletions",
    "flatten_nested_groups",
    "provision_groups",
    "notify_quarantine",
    "notify_staged_deletions",
    "notify_cycle_failures",
    "notify_source_failing",
    "notify_token_expiry",
)
MAPPING_KINDS = ("direct", "constant", "expression", "none")


def _values(app: App, **extra: Any) -> dict[str, Any]:
    mappings = {
        kind: describe(mapping_from_json(getattr(app, f"{kind}_mapping"))) for kind in ("user", "group")
    }
    matching = [r for r in mappings["user"] if r["matching_precedence"]]
    return {
        "settings": app.settings.to_json(),
        "mappings": mappings,
        "matching": sorted(matching, key=lambda r: r["matching_precedence"]),
        "scoping_json": orjson.dumps(app.scoping, option=orjson.OPT_INDENT_2).decode(),
        "tenant_url": app.tenant_url or "",
        "section_error": {},
        "check": None,
        "edit": None,
        "tester": None,
        "tenant_url_value": None,
        "scoping_value": None,
        **extra,
    }


async def provisioning_page(
    request: Request, *, status_code: int = 200, app: App | None = None, **extra: Any
) -> Response:
    app = app or await app_of(request)
    edit = None
    wanted = request.query_params.get("edit", "")
    kind, _, target = wanted.partition(":")
    if kind in ("user", "group") and target:
        rows = describe(mapping_from_json(getattr(app, f"{kind}_mapping")))
        edit = next(({**r, "object": kind} for r in rows if r["target"].lower() == target.lower()), None)
    extra.setdefault("edit", edit)
    values = _values(app, **extra)
    return site_of(request).render(
        request, "provisioning.html", status_code=status_code, **context(request, app, **values)
    )


async def _failed(request: Request, app: App, section: str, message: str, **extra: Any) -> Response:
    return await provisioning_page(
        request, status_code=400, app=app, section_error={section: message}, **extra
    )


async def test_connection(request: Request) -> Response:
    """Test connection with what is in the form; the result is shown in place."""
    app = await app_of(request)
    async with form_of(request) as form:
        tenant_url, token = text(form, "tenant_url"), text(form, "secret_token")
    try:
        check = await operations.test_connection(service_of(request), app, tenant_url, token)
        result = {"ok": check.ok, "code": check.code, "message": check.message}
    except EXPECTED as exc:
        result = {"ok": False, "code": None, "message": message_of(exc)}
    if is_htmx(request):
        return site_of(request).render(request, "connection_result.html", check=result)
    return await provisioning_page(request, app=app, check=result, tenant_url_value=tenant_url)


async def connect(request: Request) -> Response:
    """Create (or Save): test, and save only when the test passes."""
    app = await app_of(request)
    async with form_of(request) as form:
        tenant_url, token = text(form, "tenant_url"), text(form, "secret_token")
    try:
        check = await operations.connect(service_of(request), app, tenant_url, token)
    except EXPECTED as exc:
        return await _failed(request, app, "connect", message_of(exc), tenant_url_value=tenant_url)
    if not check.ok:
        return await _failed(
            request,
            app,
            "connect",
            f"Test connection failed: {check.message} Nothing was saved; fix the Tenant URL or "
            "Secret token and try again.",
            tenant_url_value=tenant_url,
        )
    return RedirectResponse(app_url(app, f"{PAGE}?done=connected"), status_code=303)


def _setting_changes(form: FormData) -> dict[str, str]:
    """Every setting the form carries, as `app set` text; an unchecked box is false."""
    names = {f.name for f in dataclasses.fields(AppSettings)}
    changes = {name: text(form, name) for name in names - set(BOOLEANS) if name in form}
    changes.update({name: "true" if text(form, name) else "false" for name in BOOLEANS})
    if not changes.get("webhook_secret", "").strip():
        changes.pop("webhook_secret", None)  # the field is never filled in: blank keeps the secret
    return changes


async def save_settings(request: Request) -> Response:
    app = await app_of(request)
    async with form_of(request) as form:
        changes = _setting_changes(form)
    try:
        await operations.save_settings(service_of(request), app, changes)
    except EXPECTED as exc:
        return await _failed(request, app, "settings", message_of(exc))
    return RedirectResponse(app_url(app, f"{PAGE}?done=settings#settings"), status_code=303)


def _number(value: str, what: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, not {value!r}") from None


async def save_mapping(request: Request) -> Response:
    app = await app_of(request)
    object_kind = request.path_params["object"]
    async with form_of(request) as form:
        row = {k: text(form, k) for k in ("target", "kind", "source", "matching", "default", "on_create")}
    try:
        if row["kind"] not in MAPPING_KINDS:
            raise ValueError(f"the mapping type must be one of {', '.join(MAPPING_KINDS)}")
        await operations.map_attribute(
            service_of(request),
            app,
            object_kind,
            row["target"].strip(),
            row["kind"],  # type: ignore[arg-type]
            row["source"],
            on_create=bool(row["on_create"]),
            matching=_number(row["matching"], "the matching precedence"),
            default=row["default"] or None,
        )
    except EXPECTED as exc:
        message = f"Mapping refused: {message_of(exc)}. Nothing was saved."
        position = exc.position if isinstance(exc, MappingError) else None
        edit = {
            "object": object_kind,
            "target": row["target"],
            "kind": row["kind"],
            "source": row["source"],
            "apply": "on_create" if row["on_create"] else "always",
            "matching_precedence": row["matching"],
            "default_if_null": row["default"],
            "position": position,
        }
        return await _failed(request, app, f"mapping-{object_kind}", message, edit=edit)
    return RedirectResponse(app_url(app, f"{PAGE}?done=mapping#mappings"), status_code=303)


async def remove_mapping(request: Request) -> Response:
    app = await app_of(request)
    object_kind = request.path_params["object"]
    async with form_of(request) as form:
        target = text(form, "target")
    try:
        await operations.unmap(service_of(request), app, object_kind, target)
    except EXPECTED as exc:
        return await _failed(
            request, app, f"mapping-{object_kind}", f"{message_of(exc)}. Nothing was changed."
        )
    return RedirectResponse(app_url(app, f"{PAGE}?done=unmapped#mappings"), status_code=303)


async def save_scoping(request: Request) -> Response:
    app = await app_of(request)
    async with form_of(request) as form:
        document_text = text(form, "scoping").strip() or "[]"
    try:
        try:
            document = orjson.loads(document_text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"the scoping filters are not JSON: {exc}") from None
        await operations.set_scoping(service_of(request), app, document)
    except EXPECTED as exc:
        return await _failed(request, app, "scoping", message_of(exc), scoping_value=document_text)
    return RedirectResponse(app_url(app, f"{PAGE}?done=scoping#scoping"), status_code=303)


async def test_expression(request: Request) -> Response:
    """The expression tester: the value for a chosen user, or the error and where it is."""
    app = await app_of(request)
    async with form_of(request) as form:
        expression, upn = text(form, "expression"), text(form, "upn").strip()
    tester: dict[str, Any] = {"expression": expression, "upn": upn}
    try:
        async with service_of(request).db.read() as conn:
            user = await directory.get_user_by_upn(conn, upn) if upn else None
        if upn and user is None:
            raise LookupError(f"no user {upn!r} in the directory")
        tester.update(try_expression(expression, user))
    except ExpressionError as exc:
        tester.update(ok=False, error=str(exc), position=exc.position)
    except EXPECTED as exc:
        tester.update(ok=False, error=message_of(exc), position=None)
    if is_htmx(request):
        return site_of(request).render(request, "expression_result.html", tester=tester)
    return await provisioning_page(request, app=app, tester=tester)


def routes() -> list[BaseRoute]:
    base = f"{APP}/{PAGE}"
    return [
        Route(base, provisioning_page, methods=["GET"]),
        Route(base + "/test-connection", test_connection, methods=["POST"]),
        Route(base + "/connect", connect, methods=["POST"]),
        Route(base + "/settings", save_settings, methods=["POST"]),
        Route(base + "/scoping", save_scoping, methods=["POST"]),
        Route(base + "/test-expression", test_expression, methods=["POST"]),
        Route(base + "/mappings/{object:str}", save_mapping, methods=["POST"]),
        Route(base + "/mappings/{object:str}/remove", remove_mapping, methods=["POST"]),
    ]
