"""The API's departments: the tree, create, move, remove, as `enlist lms department list|create|move|remove`
has them (the same `operations` functions). A department is named by its id or its name."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.lms import operations
from enlist.lms.api.endpoints import Call, api_endpoint, text_field
from enlist.lms.store import department_tree as tree_store


@api_endpoint("read")
async def department_tree(call: Call) -> Response:
    """---
    summary: The department tree with the people in each department (`department list --json`).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "Nested {id, name, parent_id, source_group_id, user_count, children}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    tree = await tree_store.department_tree(call.conn, call.the_tenant)
    return JSONResponse([node.to_json() for node in tree])


@api_endpoint("write")
async def create_department(call: Call) -> Response:
    """---
    summary: Create a department under `parent` (an id or a name; the root when absent).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [name], properties: {name: {type: string}, parent: {type: string}}}
    responses:
      "201": {description: "{id, name, parent_id}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    name = text_field(call.body, "name") or ""
    parent = text_field(call.body, "parent", required=False)
    created, under = await operations.create_department(call.conn, call.the_tenant, name, parent)
    return JSONResponse({"id": created, "name": name.strip(), "parent_id": under.id}, status_code=201)


@api_endpoint("write")
async def move_department(call: Call) -> Response:
    """---
    summary: Move a department, with everything below it, under `parent` (`department move`).
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {$ref: "#/components/parameters/department"}
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [parent], properties: {parent: {type: string}}}
    responses:
      "200": {description: "{id, name, parent_id}: the department where it is now."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    parent = text_field(call.body, "parent") or ""
    department = call.request.path_params["department"]
    moved, under = await operations.move_department(call.conn, call.the_tenant, department, parent)
    return JSONResponse({"id": moved.id, "name": moved.name, "parent_id": under.id})


@api_endpoint("write")
async def remove_department(call: Call) -> Response:
    """---
    summary: Remove a department (`department remove`); its people and sub-departments move up.
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {$ref: "#/components/parameters/department"}
    responses:
      "200": {description: "{id, name, moved}: the department removed and how many people moved up."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    department = call.request.path_params["department"]
    removed, moved = await operations.remove_department(call.conn, call.the_tenant, department)
    return JSONResponse({"id": removed.id, "name": removed.name, "moved": moved})


def routes() -> list[BaseRoute]:
    base = "/api/v1/tenants/{tenant}/departments"
    return [
        Route(base, department_tree, methods=["GET"]),
        Route(base, create_department, methods=["POST"]),
        Route(f"{base}/{{department}}/move", move_department, methods=["POST"]),
        Route(f"{base}/{{department}}", remove_department, methods=["DELETE"]),
    ]
