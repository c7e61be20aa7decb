"""`app import-entra-schema`: what of Entra's exported synchronizationSchema maps onto enlist
is read (attribute mappings with their expressions, flow types, matching priorities and
defaults; user scoping filters; object mappings' enabled flags), and everything else is listed
with the reason, on SQLite and PostgreSQL. The fixture says in its `_fixture` key what it was
built from."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from enlist.document_shape import DocumentError
from enlist.provisioning import operations
from enlist.provisioning.config_doc.entra_import import import_entra_schema
from enlist.provisioning.config_doc.entra_schema import read_entra_schema
from enlist.provisioning.config_doc.operations import export_app
from enlist.provisioning.service import Service
from tests.integration.config.test_app_document import snapshot

FIXTURE = Path(__file__).with_name("entra_synchronization_schema.json")
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USERS = "synchronizationRules[0].objectMappings[1]"


def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def test_everything_left_out_is_listed_with_its_reason() -> None:
    reading = read_entra_schema(schema())
    assert [(s.path, s.reason.split(":")[0]) for s in reading.skipped] == [
        ("directories", "attribute definitions"),
        ("synchronizationRules[0].objectMappings[2]", "source object 'Contact'"),
        (f"{USERS}.attributeMappings[15].flowBehavior", "FlowAlways"),
        (f"{USERS}.attributeMappings[19]", 'mapping for "roles"'),
        (f"{USERS}.attributeMappings[20]", "flowType MultiValueAddOnly"),
        ("synchronizationRules[0].objectMappings[0].scope", "enlist's scoping filters apply to users only"),
    ]
    assert "AppRoleAssignmentsComplex" in reading.skipped[3].reason


async def test_the_schema_s_mappings_and_scoping_replace_the_application_s(service: Service) -> None:
    await operations.create(service, "Portal")
    before = await snapshot(service)
    dry = await import_entra_schema(service, "Portal", schema(), dry_run=True)
    assert dry["import"]["changed"]
    assert dry["import"]["dry_run"]
    assert await snapshot(service) == before
    result = await import_entra_schema(service, "Portal", schema())
    assert result["read"] == {"user_attributes": 19, "group_attributes": 3, "scoping_filters": 2}
    paths = [c["path"] for c in result["import"]["changes"]]
    assert f"mappings.users.attributes[{ENTERPRISE}:organization]" in paths
    assert (
        'mappings.users.attributes[phoneNumbers[type eq "fax"].value]' in paths
    )  # not in the schema: removed
    document = (await export_app(service, "Portal")).to_data()
    rows = {r["target"]: r for r in document["mappings"]["users"]["attributes"]}
    assert rows["userName"] == {
        "target": "userName", "kind": "direct", "source": "userPrincipalName", "apply": "always",
        "matching_precedence": 1, "default_if_null": None,
    }  # fmt: skip
    assert rows["active"]["kind"] == "expression"
    assert rows["active"]["source"] == 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
    assert rows["preferredLanguage"]["default_if_null"] == "en-US"
    assert rows[f"{ENTERPRISE}:organization"] == {
        "target": f"{ENTERPRISE}:organization", "kind": "constant", "source": "Contoso", "apply": "on_create",
        "matching_precedence": None, "default_if_null": None,
    }  # fmt: skip
    assert "roles" not in rows
    assert [f["title"] for f in document["scoping_filters"]] == ["Sales staff", "Engineers"]
    assert document["scoping_filters"][0]["clauses"][1] == {
        "attribute": "accountEnabled",
        "operator": "IS TRUE",
        "value": "",
    }
    assert document["scoping_filters"][1]["clauses"][0]["operator"] == "REGEX MATCH"
    again = await import_entra_schema(service, "Portal", schema())
    assert again["import"]["changes"] == []


async def test_a_scope_with_a_filter_group_enlist_cannot_read_is_skipped_whole(service: Service) -> None:
    app = await operations.create(service, "Portal")
    own = [{"title": "Ours", "clauses": [{"attribute": "department", "operator": "EQUALS", "value": "R&D"}]}]
    await operations.set_scoping(service, app, own)
    data = schema()
    groups = data["synchronizationRules"][0]["objectMappings"][1]["scope"]["groups"]
    groups[1]["clauses"].append(
        {"operatorName": "IsMemberOf", "sourceOperandName": "groups", "targetOperand": {"values": ["abc"]}}
    )
    result = await import_entra_schema(service, "Portal", data)
    assert result["read"]["scoping_filters"] is None
    assert any(
        s["path"] == f"{USERS}.scope.groups[1]"
        and "IsMemberOf" in s["reason"]
        and "keeps its scoping filters" in s["reason"]
        for s in result["skipped"]
    )
    assert (await export_app(service, "Portal")).to_data()["scoping_filters"] == own


async def test_an_object_mapping_s_enabled_flag_is_read(service: Service) -> None:
    await operations.create(service, "Portal")
    data = schema()
    data["synchronizationRules"][0]["objectMappings"][0]["enabled"] = False
    await import_entra_schema(service, "Portal", data)
    document = (await export_app(service, "Portal")).to_data()
    assert document["mappings"]["groups"]["enabled"] is False
    assert document["mappings"]["users"]["enabled"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("synchronizationRules"), "not an exported Entra synchronizationSchema"),
        (lambda d: d["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"][0].update(matchingPriority=0),
         "needs a matching attribute"),
    ],
)  # fmt: skip
async def test_a_schema_that_gives_no_usable_mapping_is_refused_and_changes_nothing(
    service: Service, change: Any, message: str
) -> None:
    await operations.create(service, "Portal")
    before = await snapshot(service)
    data = copy.deepcopy(schema())
    change(data)
    with pytest.raises(DocumentError, match=message):
        await import_entra_schema(service, "Portal", data)
    assert await snapshot(service) == before
