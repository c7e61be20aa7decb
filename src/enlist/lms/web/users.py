"""Users: the searchable, filterable list in login order, and one user's page with their history."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.responses import Response

from enlist.lms import role_operations
from enlist.lms.domain.changes import flatten
from enlist.lms.domain.users import STATUSES, pending_manager
from enlist.lms.store import synclog
from enlist.lms.store.admin_views import UserFilter, user_detail, users_page
from enlist.lms.store.log_views import log_page, member_ids, user_names
from enlist.lms.store.tables import departments
from enlist.lms.store.users import groups_of
from enlist.lms.web.common import TenantContext, not_found, query_params
from enlist.lms.web.values import readable
from enlist.web.paging import decode_cursor

HISTORY_SHOWN = 20


async def users_list(ctx: TenantContext) -> Response:
    """GET: users in login order; `q` (prefix of login, name or email), `status`, `department`."""
    params = query_params(ctx.request, "q", "status", "department", "after")
    status = params.get("status", "")
    if status not in STATUSES:
        params.pop("status", None)
        status = ""
    wanted = UserFilter(params.get("q", ""), status, params.get("department", ""))
    department_name = None
    if wanted.department_id:
        department_name = await ctx.conn.scalar(
            sa.select(departments.c.name).where(
                (departments.c.tenant_id == ctx.tenant.id) & (departments.c.id == wanted.department_id)
            )
        )
        if department_name is None:
            return not_found(ctx.request, "This department")
    page = await users_page(ctx.conn, ctx.tenant.id, wanted, decode_cursor(params.get("after")))
    return ctx.render(
        "users.html",
        page_title="Users",
        page=page,
        params=params,
        wanted=wanted,
        statuses=STATUSES,
        department_name=department_name,
    )


async def user_page(ctx: TenantContext) -> Response:
    """GET: one user's profile, department, groups, manager, status and sync history."""
    user_id = str(ctx.request.path_params["user_id"])
    user = await user_detail(ctx.conn, ctx.tenant.id, user_id)
    if user is None:
        return not_found(ctx.request, "This user")
    member_of = (await groups_of(ctx.conn, ctx.tenant.id, [user.id]))[user.id]
    history = await log_page(
        ctx.conn, ctx.tenant.id, synclog.LogQuery(resource_id=user.id), None, size=HISTORY_SHOWN
    )
    access = await role_operations.access_of(ctx.conn, ctx.tenant, user.id)
    # A pending manager is shown once, as unresolved, not also among the profile's attributes.
    profile = [(a, readable(v)) for a, v in sorted(flatten(user.doc).items()) if a != "manager"]
    return ctx.render(
        "user.html",
        page_title=user.user_name,
        user=user,
        pending_manager=pending_manager(user.doc),
        profile=profile,
        groups=member_of,
        history=history,
        people=await user_names(ctx.conn, ctx.tenant.id, member_ids(history.items)),
        access=access,
    )
