"""Test connection reads a SCIM answer and only names anything else: what an internal service
behind a Tenant URL answered (a page, a JSON document, a traceback) never reaches the admin,
whatever its status; a SCIM Error's `detail` does."""

from __future__ import annotations

import orjson
import pytest

from enlist.provisioning import operations
from enlist.provisioning.service import Service
from tests.security.loopback_target import LoopbackTarget

APP = "Learning portal"
TOKEN = "target-token-for-answer-tests"


@pytest.fixture(params=["sqlite"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Only the answer matters here; the database paths are covered in test_target_networks.py."""
    return str(request.param)


CANARY = "internal-canary-7f3a"


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (200, "text/html", f"<html><title>{CANARY}</title></html>"),
        (200, "application/json", orjson.dumps([CANARY]).decode()),
        (400, "application/json", orjson.dumps({"detail": CANARY}).decode()),
        (401, "text/plain", CANARY),
        (403, "text/html", CANARY),
        (404, "text/html", CANARY),
        (500, "text/html", f"<pre>Traceback {CANARY}</pre>"),
        (502, "application/xml", f"<e>{CANARY}</e>"),
    ],
)
async def test_test_connection_names_a_non_scim_answer_without_its_body(
    service: Service, status: int, content_type: str, body: str
) -> None:
    app = await operations.create(service, APP)
    with LoopbackTarget(status=status, body=body.encode(), content_type=content_type) as internal:
        check = await operations.test_connection(service, app, internal.url(), TOKEN)
    assert not check.ok
    assert CANARY not in check.message
    assert internal.url() in check.message


async def test_test_connection_shows_a_scim_errors_detail(service: Service) -> None:
    app = await operations.create(service, APP)
    error = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "500",
        "detail": "the tenant is being migrated",
    }
    with LoopbackTarget(status=500, body=orjson.dumps(error), content_type="application/json") as scim:
        check = await operations.test_connection(service, app, scim.url(), TOKEN)
    assert "the tenant is being migrated" in check.message
