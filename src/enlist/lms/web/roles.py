"""Roles and smart groups: the tenant's role rules and smart groups, added and removed as
`enlist lms role` and `enlist lms smart-group` do (both call `enlist.lms.role_operations`)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import RedirectResponse, Response

from enlist.lms import role_operations as ops
from enlist.lms.domain.roles import ROLES
from enlist.lms.store import department_tree as tree_store
from enlist.lms.web.common import TenantContext, form_of

FLASHES = {
    "rule-added": "Role rule added.",
    "rule-removed": "Role rule removed.",
    "smart-added": "Smart group added.",
    "smart-removed": "Smart group removed.",
}


def _flattened(nodes: Sequence[tree_store.DepartmentNode]) -> list[tuple[str, str]]:
    """(id, name) of every department, parents first, for the department admin's <select>."""
    return [pair for node in nodes for pair in [(node.id, node.name), *_flattened(node.children)]]


async def _page(ctx: TenantContext, *, error: str = "", status_code: int = 200) -> Response:
    return ctx.render(
        "roles.html",
        status_code,
        page_title="Roles and smart groups",
        rules=await ops.list_role_rules(ctx.conn, ctx.tenant),
        smart_groups=await ops.list_smart_groups(ctx.conn, ctx.tenant),
        roles=ROLES,
        departments=_flattened(await tree_store.department_tree(ctx.conn, ctx.tenant)),
        error=error,
        flash=FLASHES.get(ctx.request.query_params.get("done", ""), ""),
    )


async def roles_page(ctx: TenantContext) -> Response:
    """GET: the rules and smart groups, with forms to add and remove them."""
    return await _page(ctx)


async def _change(ctx: TenantContext, done: str) -> Response:
    """POST: one change from the form named by `done`; its error is shown on the page, 400."""
    form = await form_of(ctx.request)
    try:
        if done == "rule-added":
            department = form.get("department") if form.get("role") == "department_admin" else None
            await ops.add_role_rule(
                ctx.conn, ctx.tenant, form.get("group", ""), form.get("role", ""), department
            )
        elif done == "rule-removed":
            rule = form.get("rule", "")
            await ops.remove_role_rule(
                ctx.conn, ctx.tenant, int(rule) if rule.isdigit() and len(rule) < 19 else 0
            )
        elif done == "smart-added":
            await ops.add_smart_group(ctx.conn, ctx.tenant, form.get("name", ""), form.get("rule", ""))
        else:
            await ops.remove_smart_group(ctx.conn, ctx.tenant, form.get("smart_group", ""))
    except ops.EXPECTED as exc:
        return await _page(ctx, error=str(exc), status_code=400)
    return RedirectResponse(f"{ctx.base}/roles?done={done}", status_code=303)


async def add_rule(ctx: TenantContext) -> Response:
    return await _change(ctx, "rule-added")


async def remove_rule(ctx: TenantContext) -> Response:
    return await _change(ctx, "rule-removed")


async def add_smart_group(ctx: TenantContext) -> Response:
    return await _change(ctx, "smart-added")


async def remove_smart_group(ctx: TenantContext) -> Response:
    return await _change(ctx, "smart-removed")
