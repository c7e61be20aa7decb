"""A custom LDAP attribute end to end: a slapd entry's `employeeType` and `departmentNumber`,
mapped with `source set corp attributes.costType=employeeType attributes.division=…`, are read
into the directory's `extension_costType` / `extension_division`, and an application's target
mapping `[extension_costType]` → enterprise `costCenter` puts the value in the portal. A change
of the entry reaches the portal at the next delta and cycle. Both databases."""

from __future__ import annotations

from enlist.lms.api.runtime import Portal
from enlist.provisioning.directory import store as directory
from enlist.provisioning.operations import map_attribute
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations
from tests.e2e.engine_harness import assign_groups, harness
from tests.e2e.source_portal import ENTERPRISE, read_and_cycle
from tests.integration.ldap.helpers import group, modify, person
from tests.ldap_servers.slapd import READER_PASSWORD
from tests.ldap_servers.slapd_world import ldap_settings, shared_slapd


async def test_a_custom_ldap_attribute_reaches_the_portal_through_a_target_mapping(
    portal: Portal, service: Service
) -> None:
    slapd = shared_slapd()
    branch = slapd.branch()
    conn = slapd.admin()
    ann, _ = person(conn, branch, "ann", employeeType="Contractor", departmentNumber=["D1", "D2"])
    bob, _ = person(conn, branch, "bob")
    group(conn, branch, "Staff", [ann, bob])
    await operations.add(
        service, "corp", "ldap", ldap_settings(slapd, branch), {"bind_password": READER_PASSWORD}
    )
    await operations.configure(
        service, "corp", {"attributes.costType": "employeeType", "attributes.division": "departmentNumber"}
    )
    first = await read_and_cycle(service, None, "rfc")
    assert (first["kind"], first["users_created"]) == ("full", 2)
    async with service.db.read() as db:
        read = {
            u.upn: u.attributes
            for u in [await directory.get_user_by_upn(db, f"{n}@example.com") for n in ("ann", "bob")]
            if u
        }
    assert read["ann@example.com"]["extension_costType"] == "Contractor"
    assert read["ann@example.com"]["extension_division"] == ["D1", "D2"]
    assert read["bob@example.com"].get("extension_costType") is None  # none: not held

    h = await harness(portal, service)
    await map_attribute(
        service, await h.app(), "user", f"{ENTERPRISE}:costCenter", "direct", "extension_costType",
        on_create=False, matching=None, default=None,
    )  # fmt: skip
    await assign_groups(h, "Staff")
    await read_and_cycle(service, h, "rfc")
    users = await h.portal_users()
    assert users["ann@example.com"][ENTERPRISE]["costCenter"] == "Contractor"
    assert "costCenter" not in users["bob@example.com"].get(ENTERPRISE, {})

    modify(conn, ann, employeeType="Employee")
    modify(conn, bob, employeeType="Intern")
    delta = await read_and_cycle(service, h, "rfc")
    assert (delta["kind"], delta["users_updated"]) == ("delta", 2)
    users = await h.portal_users()
    assert {n: users[n][ENTERPRISE]["costCenter"] for n in ("ann@example.com", "bob@example.com")} == {
        "ann@example.com": "Employee",
        "bob@example.com": "Intern",
    }
