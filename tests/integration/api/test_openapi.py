"""The provisioning API's OpenAPI description matches its routes, both ways, and is valid."""

from __future__ import annotations

from openapi_spec_validator import validate
from starlette.routing import Route

from enlist.provisioning.service import Service
from tests.integration.api.conftest import Side, create_token


def routed(side: Side) -> set[tuple[str, str]]:
    """(method, path) of every /api route of the app, walked from its route table."""
    return {
        (method.lower(), route.path)
        for route in side.app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or {"GET"}) - {"HEAD"}
    }


async def test_the_description_lists_every_api_route_and_no_other(
    provisioning_side: Side, service: Service
) -> None:
    reader = (await create_token(service, provisioning_side, "reader"))["token"]

    answer = await provisioning_side.client.get(
        "/api/openapi.json", headers={"Authorization": f"Bearer {reader}"}
    )

    assert answer.status_code == 200, answer.text
    document = answer.json()
    described = {(method, path) for path, item in document["paths"].items() for method in item}
    assert described == routed(provisioning_side), {
        "missing from the description": routed(provisioning_side) - described,
        "described but not routed": described - routed(provisioning_side),
    }
    validate(document)


async def test_every_error_response_in_the_description_is_the_one_error_shape(
    provisioning_side: Side, service: Service
) -> None:
    reader = (await create_token(service, provisioning_side, "reader"))["token"]
    document = (
        await provisioning_side.client.get("/api/openapi.json", headers={"Authorization": f"Bearer {reader}"})
    ).json()

    errors = [
        response
        for item in document["paths"].values()
        for operation in item.values()
        for status, response in operation["responses"].items()
        if status.startswith("4") and "$ref" in response
    ]

    assert errors, "the description states its error responses"
    assert {r["$ref"] for r in errors} == {"#/components/responses/Error"}
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message", "hint"]
