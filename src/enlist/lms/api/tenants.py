"""The API's tenants, their policies, their Secret tokens and their policy document. Each route
calls the `enlist.lms.operations` function the matching `enlist lms tenant …` command calls.

A new Secret token (a new tenant's, a rotation's) is in the answer once and never again; the
tenant's routes answer its tokens' state only (key id, dates, usable)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.document_shape import DocumentError, setting_text
from enlist.lms import operations
from enlist.lms.api.endpoints import Call, api_endpoint, text_field
from enlist.lms.store import tenants as tenant_store
from enlist.web import params
from enlist.web.params import Choice, ParameterError

FORMAT = Choice(("json", "yaml"))
DRY_RUN = Choice(("true", "false"))


@api_endpoint("read", per_tenant=False)
async def list_tenants(call: Call) -> Response:
    """---
    summary: Every tenant (`tenant list --json`). A token limited to one tenant is refused (403).
    responses:
      "200": {description: "A list of {tenant, name, tenant_url, policy}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    found = await tenant_store.list_tenants(call.conn)
    return JSONResponse([operations.describe_tenant(t, call.portal.public_url) for t in found])


@api_endpoint("write", per_tenant=False)
async def create_tenant(call: Call) -> Response:
    """---
    summary: Create a tenant and its first Secret token, shown once (`tenant create`).
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [name], properties: {name: {type: string}}}
    responses:
      "201": {description: "{tenant, name, tenant_url, policy, secret_token}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    name = text_field(call.body, "name") or ""
    minted = await operations.create_tenant(call.conn, name, call.portal.peppers.current)
    described = operations.describe_tenant(minted.tenant, call.portal.public_url)
    return JSONResponse({**described, "secret_token": minted.token}, status_code=201)


@api_endpoint("read")
async def show_tenant(call: Call) -> Response:
    """---
    summary: One tenant with its Secret tokens' state, never the tokens (`tenant show --json`).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "{tenant, name, tenant_url, policy, tokens}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse(await operations.tenant_details(call.conn, call.the_tenant, call.portal.public_url))


@api_endpoint("read")
async def read_policies(call: Call) -> Response:
    """---
    summary: The tenant's policies.
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: Every policy and its value.}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse(call.the_tenant.policy.to_json())


@api_endpoint("write")
async def set_policies(call: Call) -> Response:
    """---
    summary: Change policies (`tenant set NAME KEY=VALUE…`); all or nothing.
    parameters: [{$ref: "#/components/parameters/tenant"}]
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, description: "Policy names and new values.", additionalProperties: true}
    responses:
      "200": {description: "Every policy after the change, and `replaced`: members placed again."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    if not call.body:
        raise ParameterError("body", "an object of policy names and values", call.body)
    changes = {key: setting_text(value) for key, value in call.body.items()}
    saved = await operations.set_policy(call.conn, call.the_tenant, changes)
    return JSONResponse({"policy": saved.tenant.policy.to_json(), "replaced": saved.replaced})


@api_endpoint("read")
async def list_secret_tokens(call: Call) -> Response:
    """---
    summary: The tenant's Secret tokens' state (key id, created, expiry, revoked, usable).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "A list of token states, newest first."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse(await tenant_store.token_status(call.conn, call.the_tenant))


@api_endpoint("write")
async def rotate_secret_token(call: Call) -> Response:
    """---
    summary: Mint a new Secret token, shown once (`tenant rotate-token`); those in use keep
      working for the overlap (the tenant's token_overlap_hours unless given; 0 revokes them).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    requestBody:
      content:
        application/json:
          schema: {type: object, properties: {overlap_hours: {type: number}}}
    responses:
      "201": {description: "{tenant, tenant_url, secret_token, overlap_hours}."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    requested = call.body.get("overlap_hours")
    if requested is not None and (isinstance(requested, bool) or not isinstance(requested, int | float)):
        raise ParameterError("overlap_hours", "a number of hours", requested)
    tenant = call.the_tenant
    minted = await operations.rotate_token(call.conn, tenant, call.portal.peppers.current, requested)
    answer = {
        "tenant": tenant.slug,
        "tenant_url": tenant.tenant_url(call.portal.public_url),
        "secret_token": minted.token,
        "overlap_hours": minted.overlap_hours,
    }
    return JSONResponse(answer, status_code=201)


@api_endpoint("write")
async def revoke_secret_tokens(call: Call) -> Response:
    """---
    summary: Revoke every Secret token of the tenant at once (`tenant revoke-tokens`).
    parameters: [{$ref: "#/components/parameters/tenant"}]
    responses:
      "200": {description: "{revoked}: how many were live."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    return JSONResponse({"revoked": await operations.revoke_tokens(call.conn, call.the_tenant)})


@api_endpoint("read")
async def export_document(call: Call) -> Response:
    """---
    summary: The tenant's policy document (`tenant export`), `?format=yaml|json` (default yaml).
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {name: format, in: query, schema: {type: string, enum: [yaml, json]}}
    responses:
      "200": {description: The document.}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    fmt = params.read(call.request.query_params, "format", FORMAT) or "yaml"
    media = "application/json" if fmt == "json" else "application/yaml"
    return Response(operations.export_policies(call.the_tenant, fmt), media_type=media)


@api_endpoint("write", new_tenant=True)
async def import_document(call: Call) -> Response:
    """---
    summary: Create the tenant or bring its policies to a document `tenant export` wrote
      (`tenant import`); `?dry_run=true` answers the difference and changes nothing. The
      document's `tenant` must be the path's. Creating a tenant needs a token of the whole portal.
    parameters:
      - {$ref: "#/components/parameters/tenant"}
      - {name: dry_run, in: query, schema: {type: string, enum: ["true", "false"]}}
    requestBody:
      required: true
      content:
        application/json:
          schema: {type: object, required: [version, tenant, name, policies]}
    responses:
      "200": {description: "{tenant, created, dry_run, changed, changes, replaced}."}
      "201": {description: "The tenant was created: the same, and its secret_token, shown once."}
      "4XX": {$ref: "#/components/responses/Error"}
    """
    dry_run = params.read(call.request.query_params, "dry_run", DRY_RUN) == "true"
    slug = call.request.path_params["tenant"]
    if call.body.get("tenant") != slug:
        raise DocumentError(
            "tenant", f"the document is for {call.body.get('tenant')!r}, the path for {slug!r}"
        )
    done = await operations.import_policies(
        call.conn, call.body, call.portal.peppers.current, dry_run=dry_run
    )
    return JSONResponse(done.to_json(), status_code=201 if done.created and not dry_run else 200)


def routes() -> list[BaseRoute]:
    base = "/api/v1/tenants/{tenant}"
    return [
        Route("/api/v1/tenants", list_tenants, methods=["GET"]),
        Route("/api/v1/tenants", create_tenant, methods=["POST"]),
        Route(base, show_tenant, methods=["GET"]),
        Route(f"{base}/policies", read_policies, methods=["GET"]),
        Route(f"{base}/policies", set_policies, methods=["PATCH"]),
        Route(f"{base}/secret-tokens", list_secret_tokens, methods=["GET"]),
        Route(f"{base}/secret-tokens", rotate_secret_token, methods=["POST"]),
        Route(f"{base}/secret-tokens", revoke_secret_tokens, methods=["DELETE"]),
        Route(f"{base}/policy-document", export_document, methods=["GET"]),
        Route(f"{base}/policy-document", import_document, methods=["PUT"]),
    ]
