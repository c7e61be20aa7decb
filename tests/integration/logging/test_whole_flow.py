"""A whole flow through both services as real processes, then every log line they wrote:
each one JSON object with the documented keys, none carrying a secret or a user's value, and
the scheduler's cycle traceable by one request id from the provisioning log to the portal's."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from enlist.lms.domain.tokens import split as split_token
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.threaded import ThreadedGraph, serve_in_thread
from tests.integration.logging.flow import Flow, wait_for
from tests.integration.logging.keys import BASE_KEYS, EVENT_KEYS

pytestmark = pytest.mark.slow

APP = "Marker LMS"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
GRAPH_SECRET = "graph-client-secret~7Qx81"
WRONG_GRAPH_SECRET = "wrong-client-secret~5Kd22"
SCIM_USER = "user"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
# Values of people's attributes: none may appear in any log line.
MARKERS = {
    "scim_user_name": "zq-scim-login-4471@markers.example",
    "scim_given": "Zqgivenmarker",
    "scim_family": "Zqfamilymarker",
    "scim_email": "zq-scim-mail-4471@markers.example",
    "scim_patched": "Zqpatcheddisplay",
    "scim_filtered": "zq-filtered-value-9301",
    "directory_upn": "zq-directory-8812@markers.example",
    "directory_name": "Zqdirectoryname",
    "directory_given": "Zqdirgiven",
    "directory_mail": "zq-dir-mail-8812@markers.example",
    "graph_upn": "zq-graph-6150@contoso.com",
    "graph_name": "Zqgraphname",
}


@pytest.fixture
def graph() -> Iterator[ThreadedGraph]:
    fake = FakeGraph()
    fake.tenant.register_app(CLIENT_ID, secret=GRAPH_SECRET)
    with serve_in_thread(fake) as served:
        yield served


@pytest.fixture
async def flow(tmp_path: Path, lms_database_url: str, provisioning_database_url: str) -> AsyncIterator[Flow]:
    running = Flow(tmp_path / "data", lms_database_url, provisioning_database_url)
    try:
        yield running
    finally:
        running.stop()


def scim_writes(flow: Flow, tenant_url: str, token: str) -> dict[str, str]:
    """SCIM writes and reads carrying the markers, a bad token, and given request ids; the
    request ids the portal answered, by what was sent."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    user = {
        "schemas": [SCHEMA],
        "userName": MARKERS["scim_user_name"],
        "name": {"givenName": MARKERS["scim_given"], "familyName": MARKERS["scim_family"]},
        "emails": [{"value": MARKERS["scim_email"], "type": "work", "primary": True}],
    }
    answered: dict[str, str] = {}
    with httpx2.Client(timeout=30) as http:
        created = http.post(
            f"{tenant_url}/Users", json=user, headers={**auth, "X-Request-Id": "flow-create-1"}
        )
        assert created.status_code == 201, created.text
        answered["flow-create-1"] = created.headers["x-request-id"]
        patch = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": MARKERS["scim_patched"]}],
        }
        patched = http.patch(f"{tenant_url}/Users/{created.json()['id']}", json=patch, headers=auth)
        assert patched.status_code == 200, patched.text
        found = http.get(
            f"{tenant_url}/Users",
            params={"filter": f'userName eq "{MARKERS["scim_filtered"]}"'},
            headers={**auth, "X-Request-Id": "x" * 129},  # too long: replaced
        )
        assert found.status_code == 200
        answered["long"] = found.headers["x-request-id"]
        refused = http.post(
            f"{tenant_url}/Users",
            json=user,
            headers={**auth, "Authorization": f"Bearer {token[:-4]}abcd", "X-Request-Id": "bad id"},
        )
        assert refused.status_code == 401
        answered["bad id"] = refused.headers["x-request-id"]
        duplicate = http.post(f"{tenant_url}/Users", json=user, headers=auth)
        assert duplicate.status_code == 409
    return answered


def add_graph_sources(flow: Flow, graph: ThreadedGraph) -> None:
    tenant = graph.fake.tenant
    graph.change(lambda: tenant.create_user(MARKERS["graph_upn"], displayName=MARKERS["graph_name"]))
    for name, secret in (("entra", GRAPH_SECRET), ("entra-wrong", WRONG_GRAPH_SECRET)):
        flow.cli(
            "provisioning", "source", "add", name, "--kind", "graph",
            "--tenant-id", tenant.tenant_id, "--client-id", CLIENT_ID, "--client-secret", "-",
            "--graph-url", graph.fake.graph_base, "--login-url", graph.fake.auth_base,
            stdin=secret + "\n",
        )  # fmt: skip
        flow.cli("provisioning", "source", "pause", name)
        flow.cli("provisioning", "source", "resume", name)  # due at the scheduler's next poll


def directory_file(flow: Flow) -> Path:
    path = flow.data_dir / "directory.json"
    path.write_text(
        json.dumps(
            {
                "users": [
                    {
                        "userPrincipalName": MARKERS["directory_upn"],
                        "displayName": MARKERS["directory_name"],
                        "givenName": MARKERS["directory_given"],
                        "mail": MARKERS["directory_mail"],
                        "accountEnabled": True,
                    }
                ],
                "groups": [{"displayName": "Zq Staff", "members": [MARKERS["directory_upn"]]}],
            }
        )
    )
    return path


def parsed(lines: list[str]) -> list[dict[str, Any]]:
    objects = []
    for line in lines:
        value = json.loads(line)  # every line is one JSON object: a line that is not fails here
        assert isinstance(value, dict), line
        objects.append(value)
    return objects


async def test_a_whole_flow_logs_json_lines_without_secrets_and_correlates_the_cycle(
    flow: Flow, graph: ThreadedGraph
) -> None:
    flow.data_dir.mkdir(parents=True)
    tenant = flow.cli_json("lms", "tenant", "create", "Acme", "--json")
    tenant_url, token = tenant["tenant_url"], tenant["secret_token"]
    flow.cli("provisioning", "directory", "import", str(directory_file(flow)))
    add_graph_sources(flow, graph)
    flow.cli("provisioning", "app", "create", APP, "--tenant-url", tenant_url, "--secret-token", token)
    flow.cli("provisioning", "app", "set", APP, "scope=all")
    flow.cli("provisioning", "app", "start", APP)
    flow.start_both()
    answered = scim_writes(flow, tenant_url, token)
    with socket.create_connection(("127.0.0.1", flow.lms_port), timeout=10) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")  # uvicorn's own warning, through our formatter
        raw.recv(1024)

    def cycle_done() -> bool:
        last = flow.cli_json("provisioning", "app", "status", APP, "--json").get("last_cycle") or {}
        return last.get("status") not in (None, "running")

    def sources_read() -> bool:
        shown = [
            flow.cli_json("provisioning", "source", "show", n, "--json") for n in ("entra", "entra-wrong")
        ]
        return all((s.get("last_read") or {}).get("status") in ("ok", "failed") for s in shown)

    wait_for(cycle_done, "the scheduler ran no cycle")
    wait_for(sources_read, "the scheduler read no source")
    status = flow.cli_json("provisioning", "app", "status", APP, "--json")
    records = flow.cli_json("provisioning", "logs", APP, "--format", "json")
    sync_log = flow.cli_json("lms", "log", "acme", "--json", "--limit", "1000")
    issued = list(graph.fake.issuer.issued)
    flow.stop()

    lines = flow.log_lines()
    objects = parsed(lines)

    # Every line has the base keys; every event its documented keys.
    for line, value in zip(lines, objects, strict=True):
        assert set(value) >= BASE_KEYS, line
        if value["logger"] == "enlist.events":
            assert value["event"] in EVENT_KEYS, line
            assert EVENT_KEYS[value["event"]] <= set(value), line

    # Nothing secret, no value of a person's attribute, in any line.
    secrets = {
        "secret token": token,
        "its secret part": split_token(token)[1],
        "pepper": flow.pepper,
        "encryption key": flow.secret_key,
        "graph client secret": GRAPH_SECRET,
        "wrong graph client secret": WRONG_GRAPH_SECRET,
        **{f"graph access token {i}": access for i, access in enumerate(issued)},
        **MARKERS,
    }
    assert issued, "the Graph source never signed in"
    leaks = {name for name, value in secrets.items() for line in lines if value.lower() in line.lower()}
    assert leaks == set()

    assert any(o["logger"] == "uvicorn.error" for o in objects)  # uvicorn's lines are JSON too
    events = [o for o in objects if o["logger"] == "enlist.events"]
    names = {o["event"] for o in events}
    assert {"http.request", "scim.write", "cycle", "source.read"} <= names

    # The given request id was kept, the insane ones replaced, and the sync log stores it.
    assert answered["flow-create-1"] == "flow-create-1"
    assert answered["long"] != "x" * 129
    assert len(answered["long"]) == 32
    assert answered["bad id"] != "bad id"
    created = [e for e in sync_log if e["action"] == "create" and e["status"] == 201]
    assert [e["request_id"] for e in created if e["request_id"] == "flow-create-1"] == ["flow-create-1"]
    assert all(e["request_id"] for e in sync_log)

    # The scheduler's cycle: one id on its event, on every record it wrote, on the portal's log
    # of the requests it sent and on the sync log entries they made.
    cycle_id = status["last_cycle"]["cycle_id"]
    (cycle,) = [e for e in events if e["event"] == "cycle" and e.get("cycle_id") == cycle_id]
    request_id = cycle["request_id"]
    assert cycle["application"] == APP
    assert cycle["outcome"] == status["last_cycle"]["status"]
    cycle_records = [r for r in records if r["cycle_id"] == cycle_id]
    assert cycle_records
    assert {r["request_id"] for r in cycle_records} == {request_id}
    portal_requests = [
        o for o in objects if o["event"] == "http.request" and o.get("request_id") == request_id
    ]
    assert portal_requests
    assert all(o["tenant"] == "acme" for o in portal_requests)
    assert any(e["request_id"] == request_id for e in sync_log)

    reads = {o["source"]: o for o in events if o["event"] == "source.read"}
    assert reads["entra"]["outcome"] == "succeeded"
    assert reads["entra-wrong"]["outcome"] == "failed"
