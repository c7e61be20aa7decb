"""The portal's admin site: its title, navigation and routes.

Every tenant page lives under `/admin/tenants/{tenant}/…`; the pages themselves are in one module
per concept: `tenants`, `sync` (User synchronization), `users`, `directory` (departments and
groups) and `log` (Sync log).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.pages import TokenPages
from enlist.lms.api.runtime import portal_of
from enlist.lms.domain.department_rule import shown_path
from enlist.lms.store.admin_views import COUNT_CAP
from enlist.lms.store.tables import tenants as tenant_table
from enlist.lms.web import directory, log, roles, sync, tenants, users, values
from enlist.lms.web.common import tenant_page
from enlist.plural import plural
from enlist.web.pages import ADMIN_PREFIX, NavItem, Site

TEMPLATES = Path(__file__).resolve().parent / "templates"
TENANT = ADMIN_PREFIX + "/tenants/{tenant}"


def _nav(request: Request) -> list[NavItem]:
    tenant = request.path_params.get("tenant")
    items = [
        NavItem("Tenants", ADMIN_PREFIX + "/tenants"),
        NavItem("API tokens", ADMIN_PREFIX + "/api-tokens"),
    ]
    if tenant:
        base = f"{ADMIN_PREFIX}/tenants/{tenant}"
        items += [
            NavItem("User synchronization", base + "/sync"),
            NavItem("Users", base + "/users"),
            NavItem("Departments", base + "/departments"),
            NavItem("Groups", base + "/groups"),
            NavItem("Sync log", base + "/log"),
            NavItem("Roles", base + "/roles"),
        ]
    return items


def build_site() -> Site:
    site = Site(
        title="enlist learning portal",
        templates_dir=TEMPLATES,
        db_of=lambda request: portal_of(request).db,
        nav=_nav,
        home=ADMIN_PREFIX + "/tenants",
        admin_command="enlist lms admin create EMAIL",
        cookie_prefix="enlist_lms",
    )
    site.env.globals["count_cap"] = COUNT_CAP
    site.env.globals["shown"] = values.shown
    site.env.globals["readable"] = values.readable
    site.env.globals["attribute_parts"] = values.attribute_parts
    site.env.globals["short_attribute"] = values.short_attribute
    site.env.globals["members_by_name"] = values.members_by_name
    site.env.globals["plural"] = plural
    site.env.globals["shown_path"] = shown_path  # a department move in the sync log (ADR 0034)
    return site


async def tenant_home(request: Request) -> Response:
    return RedirectResponse(f"{ADMIN_PREFIX}/tenants/{request.path_params['tenant']}/sync", status_code=303)


def _token_pages() -> TokenPages:
    from enlist.lms.api_tokens import api_tokens  # noqa: PLC0415 (it imports the API, which imports this)

    return TokenPages(api_tokens, "enlist lms api-token", tenants=tenant_table)


def routes(site: Site) -> list[BaseRoute]:
    get, post = ["GET"], ["POST"]
    return [
        *site.routes(),
        Route(ADMIN_PREFIX, site.to_home, methods=get),
        *_token_pages().routes(),
        Route(ADMIN_PREFIX + "/tenants", tenants.tenants_page, methods=get),
        Route(ADMIN_PREFIX + "/tenants", tenants.create_tenant, methods=post),
        Route(TENANT, tenant_home, methods=get),
        Route(TENANT + "/sync", tenant_page(sync.sync_page), methods=get),
        Route(TENANT + "/sync/token", tenant_page(sync.generate_token, write=True), methods=post),
        Route(TENANT + "/sync/revoke", tenant_page(sync.revoke_tokens, write=True), methods=post),
        Route(TENANT + "/sync/settings", tenant_page(sync.save_settings, write=True), methods=post),
        Route(TENANT + "/users", tenant_page(users.users_list), methods=get),
        Route(TENANT + "/users/{user_id}", tenant_page(users.user_page), methods=get),
        Route(TENANT + "/departments", tenant_page(directory.departments_page), methods=get),
        Route(TENANT + "/departments", tenant_page(directory.create_department, write=True), methods=post),
        Route(TENANT + "/departments/move", tenant_page(directory.move_department, write=True), methods=post),
        Route(TENANT + "/groups", tenant_page(directory.groups_list), methods=get),
        Route(TENANT + "/groups/{group_id}", tenant_page(directory.group_page), methods=get),
        Route(TENANT + "/log", tenant_page(log.log_list), methods=get),
        Route(TENANT + "/log/export", tenant_page(log.log_export), methods=get),
        Route(TENANT + "/log/{entry_id:int}", tenant_page(log.log_detail), methods=get),
        # Roles and smart groups (issue 14)
        Route(TENANT + "/roles", tenant_page(roles.roles_page), methods=get),
        Route(TENANT + "/roles/rules", tenant_page(roles.add_rule, write=True), methods=post),
        Route(TENANT + "/roles/rules/remove", tenant_page(roles.remove_rule, write=True), methods=post),
        Route(TENANT + "/roles/smart-groups", tenant_page(roles.add_smart_group, write=True), methods=post),
        Route(
            TENANT + "/roles/smart-groups/remove",
            tenant_page(roles.remove_smart_group, write=True),
            methods=post,
        ),
    ]
