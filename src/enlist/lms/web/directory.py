"""Departments (the tree, with create and move, as `enlist lms department` does) and Groups."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from enlist.lms import operations
from enlist.lms.store import department_tree as tree_store
from enlist.lms.store.admin_views import groups_page, member_counts, members_page
from enlist.lms.store.groups import get_group
from enlist.lms.web.common import TenantContext, form_of, not_found, query_params
from enlist.web.paging import decode_cursor

DEPARTMENT_FLASHES = {"created": "Department created.", "moved": "Department moved."}


def _outline(nodes: list[tree_store.DepartmentNode]) -> list[tuple[str, str]]:
    """Every department as (id, name indented by depth), parents before children, for a <select>."""
    found: list[tuple[str, str]] = []
    pending = [(node, 0) for node in reversed(nodes)]
    while pending:
        node, depth = pending.pop()
        found.append((node.id, "\u2003" * depth + node.name))
        pending.extend((child, depth + 1) for child in reversed(node.children))
    return found


async def _departments(ctx: TenantContext, *, error: str = "", status_code: int = 200) -> Response:
    tree = await tree_store.department_tree(ctx.conn, ctx.tenant)
    return ctx.render(
        "departments.html",
        status_code,
        page_title="Departments",
        tree=tree,
        outline=_outline(tree),
        error=error,
        flash=DEPARTMENT_FLASHES.get(ctx.request.query_params.get("done", ""), ""),
    )


async def departments_page(ctx: TenantContext) -> Response:
    """GET: the department tree with the people in each department."""
    return await _departments(ctx)


async def create_department(ctx: TenantContext) -> Response:
    """POST: a department under a parent (the root when none is chosen), like `department create`."""
    form = await form_of(ctx.request)
    try:
        await operations.create_department(ctx.conn, ctx.tenant, form.get("name", ""), form.get("parent"))
    except tree_store.DepartmentError as exc:
        return await _departments(ctx, error=str(exc), status_code=400)
    return RedirectResponse(f"{ctx.base}/departments?done=created", status_code=303)


async def move_department(ctx: TenantContext) -> Response:
    """POST: hang a department (with everything below it) under another, like `department move`."""
    form = await form_of(ctx.request)
    try:
        await operations.move_department(
            ctx.conn, ctx.tenant, form.get("department", ""), form.get("parent", "")
        )
    except tree_store.DepartmentError as exc:
        return await _departments(ctx, error=str(exc), status_code=400)
    return RedirectResponse(f"{ctx.base}/departments?done=moved", status_code=303)


async def groups_list(ctx: TenantContext) -> Response:
    """GET: groups by name, `q` a prefix of the name."""
    params = query_params(ctx.request, "q", "after")
    page = await groups_page(ctx.conn, ctx.tenant.id, params.get("q", ""), decode_cursor(params.get("after")))
    return ctx.render("groups.html", page_title="Groups", page=page, params=params)


async def group_page(ctx: TenantContext) -> Response:
    """GET: one group and its members, 50 a page, in the order they joined."""
    group = await get_group(ctx.conn, ctx.tenant.id, str(ctx.request.path_params["group_id"]))
    if group is None:
        return not_found(ctx.request, "This group")
    params = query_params(ctx.request, "after")
    page = await members_page(ctx.conn, group.id, decode_cursor(params.get("after")))
    total = (await member_counts(ctx.conn, [group.id])).get(group.id, 0)
    return ctx.render(
        "group.html", page_title=group.display_name, group=group, page=page, params=params, total=total
    )
