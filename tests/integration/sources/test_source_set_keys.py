"""`source set` takes only the keys its kind reads: an unknown key is refused with the kind's
valid keys, and nothing is changed, from the CLI, the JSON API and `operations.configure`
(the Sources page: tests/web/test_sources_page_custom_attributes.py). Every kind. An LDAP
source's `attributes.NAME` keys go through all of them. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.keys import valid_keys
from enlist.provisioning.sources.push import operations as push_operations
from enlist.provisioning.sources.tables import KINDS
from tests.integration.api.conftest import enlist
from tests.integration.api.http import served, token

UNKNOWN = "page_sise"  # a typo of an LDAP key: refused for every kind


async def add_source(service: Service, kind: str, tmp_path: Path) -> None:
    """A source named `s` of `kind`, as `source add` stores it."""
    if kind == "scim-push":
        await push_operations.add(service, "s")
        return
    if kind == "ldap":
        secrets = {"bind_password": "pw"}
        settings = operations.ldap_settings(("ldap://127.0.0.1:9",), "cn=r", ("dc=example",), {}, secrets)
    else:
        (tmp_path / "drop").mkdir(exist_ok=True)
        settings, secrets = operations.new_source_settings(
            kind, path=str(tmp_path / "drop"), tenant_id="T", client_id="C", client_secret="x"
        )
    await operations.add(service, "s", kind, settings, secrets)


async def stored(service: Service) -> dict[str, Any]:
    found = await operations.get(service, "s")
    return {**found.to_json(), "sealed": found.sealed_secrets, "cursor": found.cursor}


@pytest.mark.parametrize("kind", KINDS)
async def test_an_unknown_key_is_refused_with_the_valid_keys_and_changes_nothing(
    service: Service, kind: str, tmp_path: Path
) -> None:
    await add_source(service, kind, tmp_path)
    before = await stored(service)
    with pytest.raises(ValueError, match=UNKNOWN) as refused:
        await operations.configure(service, "s", {"interval_minutes": "9", UNKNOWN: "50"})
    assert all(key in str(refused.value) for key in valid_keys(kind))
    code, out, err = await enlist(
        service, "provisioning", "source", "set", "s", "interval_minutes=9", f"{UNKNOWN}=5"
    )
    assert (code, out) == (1, "")
    assert UNKNOWN in err
    assert "interval_minutes" in err
    async with served(service) as base, httpx2.AsyncClient(base_url=base) as api:
        writer = await token(service, "ci", "write")
        answer = await api.patch("/api/v1/sources/s/settings", json={UNKNOWN: "5"}, headers=writer)
    assert answer.status_code == 400
    assert UNKNOWN in answer.json()["error"]["message"]
    assert await stored(service) == before


async def test_ldap_custom_attributes_are_set_shown_and_removed_by_the_cli_and_the_api(
    service: Service, tmp_path: Path
) -> None:
    await add_source(service, "ldap", tmp_path)
    code, out, err = await enlist(
        service, "provisioning", "source", "set", "s", "attributes.costType=employeeType", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["settings"]["attributes"] == {"extension_costType": "employeeType"}
    async with served(service) as base, httpx2.AsyncClient(base_url=base) as api:
        writer = await token(service, "ci", "write")
        added = await api.patch(
            "/api/v1/sources/s/settings", json={"attributes.dept": "departmentNumber"}, headers=writer
        )
        assert added.status_code == 200, added.text
        bad = await api.patch(
            "/api/v1/sources/s/settings", json={"attributes.x": "not an attribute"}, headers=writer
        )
        assert bad.status_code == 400
    code, out, _ = await enlist(service, "provisioning", "source", "show", "s", "--json")
    assert json.loads(out)["settings"]["attributes"] == {
        "extension_costType": "employeeType",
        "extension_dept": "departmentNumber",
    }
    code, out, _ = await enlist(service, "provisioning", "source", "show", "s")
    assert "attribute: extension_dept <- departmentNumber" in out.splitlines()
    code, out, err = await enlist(
        service,
        "provisioning",
        "source",
        "set",
        "s",
        "attributes.costType=",
        "attributes.extension_dept=",
        "--json",
    )
    assert code == 0, err
    assert "attributes" not in json.loads(out)["settings"]
