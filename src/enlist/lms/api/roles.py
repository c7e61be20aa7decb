"""The portal's JSON API for roles and smart groups (issue 14), on `enlist.lms.role_operations`.

    GET    /api/v1/tenants/{tenant}/role-rules                 the rules, oldest first
    POST   /api/v1/tenants/{tenant}/role-rules                 {"group", "role", "department"?} → 201
    DELETE /api/v1/tenants/{tenant}/role-rules/{rule}          → 204
    GET    /api/v1/tenants/{tenant}/smart-groups               the smart groups by name
    POST   /api/v1/tenants/{tenant}/smart-groups               {"name", "rule"} → 201
    GET    /api/v1/tenants/{tenant}/smart-groups/{name}        the group and its members now
    DELETE /api/v1/tenants/{tenant}/smart-groups/{name}        → 204
    GET    /api/v1/tenants/{tenant}/users/{user}/access        the user's roles and smart groups, with reasons

Like every route of the portal's JSON API (`endpoints.api_endpoint`), these take an API token of
the tenant or of the whole portal (a `write` one to change a rule): never the Secret token, which
is the identity provider's, and the identity provider grants roles through group memberships, not
by writing the rules. Errors are in the API's one error shape.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.lms import role_operations as ops
from enlist.lms.api.endpoints import Call, api_endpoint, text_field
from enlist.web.api_errors import api_failure

BASE = "/api/v1/tenants/{tenant}"


@api_endpoint("read")
async def list_rules(call: Call) -> Response:
    """---
    summary: The tenant's role rules, oldest first (`lms role list --json`).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "[{id, group, role, department}]."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse([rule.to_json() for rule in await ops.list_role_rules(call.conn, call.the_tenant)])


@api_endpoint("write")
async def add_rule(call: Call) -> Response:
    """---
    summary: Add a role rule (`lms role add`); a member of `group` (displayName or externalId) gets `role`.
    parameters: [{$ref: "#/components/parameters/tenant"}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [group, role]
            properties:
              group: {type: string}
              role: {type: string, enum: [learner, manager, department_admin]}
              department: {type: string}
    responses:
      "201": {description: "The rule."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    group = text_field(call.body, "group") or ""
    role = text_field(call.body, "role") or ""
    department = text_field(call.body, "department", required=False)
    rule = await ops.add_role_rule(call.conn, call.the_tenant, group, role, department)
    return JSONResponse(rule.to_json(), status_code=201)


@api_endpoint("write")
async def remove_rule(call: Call) -> Response:
    """---
    summary: Remove a role rule (`lms role remove`).
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {name: rule, in: path, required: true, schema: {type: string}}
    responses:
      "204": {description: "Removed."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    text = str(call.request.path_params["rule"])
    if not text.isdigit() or len(text) > 18:  # 18 digits always fit the integer column
        return api_failure(
            404,
            "NotFound",
            f"tenant {call.the_tenant.slug!r} has no role rule {text!r}",
            "GET role-rules lists them",
        )
    await ops.remove_role_rule(call.conn, call.the_tenant, int(text))
    return Response(status_code=204)


@api_endpoint("read")
async def list_smart(call: Call) -> Response:
    """---
    summary: The tenant's smart groups by name (`lms smart-group list --json`).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "[{id, name, rule}]."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse(
        [group.to_json() for group in await ops.list_smart_groups(call.conn, call.the_tenant)]
    )


@api_endpoint("write")
async def add_smart(call: Call) -> Response:
    """---
    summary: Add a smart group whose rule is a SCIM filter on users (`lms smart-group add`).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [name, rule]
            properties: {name: {type: string}, rule: {type: string}}
    responses:
      "201": {description: "The smart group."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    name = text_field(call.body, "name") or ""
    rule = text_field(call.body, "rule") or ""
    group = await ops.add_smart_group(call.conn, call.the_tenant, name, rule)
    return JSONResponse(group.to_json(), status_code=201)


@api_endpoint("read")
async def show_smart(call: Call) -> Response:
    """---
    summary: A smart group and its members now (`lms smart-group show --json`).
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {name: name, in: path, required: true, schema: {type: string}}
    responses:
      "200": {description: "{id, name, rule, members: [{id, userName}]}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    group, members = await ops.show_smart_group(
        call.conn, call.the_tenant, str(call.request.path_params["name"])
    )
    return JSONResponse({**group.to_json(), "members": [{"id": i, "userName": u} for i, u in members]})


@api_endpoint("write")
async def remove_smart(call: Call) -> Response:
    """---
    summary: Remove a smart group (`lms smart-group remove`).
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {name: name, in: path, required: true, schema: {type: string}}
    responses:
      "204": {description: "Removed."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    await ops.remove_smart_group(call.conn, call.the_tenant, str(call.request.path_params["name"]))
    return Response(status_code=204)


@api_endpoint("read")
async def user_access(call: Call) -> Response:
    """---
    summary: A user's roles and smart groups, each with its reason (`lms role user --json`).
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {name: user, in: path, required: true, schema: {type: string}}
    responses:
      "200":
        description: "{roles: [{role, department, group, rule, reason}],
          smartGroups: [{id, name, rule, reason}]}."
      "4XX": {$ref: "#/components/responses/Error"}
    """
    try:
        access = await ops.access_of(call.conn, call.the_tenant, str(call.request.path_params["user"]))
    except ops.UnknownUserError as error:
        return api_failure(
            404, "NotFound", str(error), "GET /api/v1/tenants/{tenant}/sync-log names the users"
        )
    return JSONResponse(access.to_json())


def routes() -> list[BaseRoute]:
    """The routes `lms/api/app.py` mounts next to the other API routes."""
    return [
        Route(f"{BASE}/role-rules", list_rules, methods=["GET"]),
        Route(f"{BASE}/role-rules", add_rule, methods=["POST"]),
        Route(f"{BASE}/role-rules/{{rule}}", remove_rule, methods=["DELETE"]),
        Route(f"{BASE}/smart-groups", list_smart, methods=["GET"]),
        Route(f"{BASE}/smart-groups", add_smart, methods=["POST"]),
        Route(f"{BASE}/smart-groups/{{name}}", show_smart, methods=["GET"]),
        Route(f"{BASE}/smart-groups/{{name}}", remove_smart, methods=["DELETE"]),
        Route(f"{BASE}/users/{{user}}/access", user_access, methods=["GET"]),
    ]
