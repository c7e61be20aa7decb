"""Importing a directory file: upserts by name, `--replace`, restores, all or nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enlist.db.database import Database
from enlist.provisioning.directory import lifecycle, store
from enlist.provisioning.directory.errors import InvalidFileError
from enlist.provisioning.directory.files import DirectoryFile, UserEntry
from enlist.provisioning.directory.importer import (
    ImportReport,
    import_directory,
    parse_directory_json,
    parse_users_csv,
)
from enlist.provisioning.directory.model import ChangeEntry
from enlist.provisioning.directory.sample import sample_directory

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def company() -> dict[str, Any]:
    return {
        "users": [
            {"userPrincipalName": "ceo@corp.example", "displayName": "Ada Boss", "jobTitle": "CEO"},
            {
                "userPrincipalName": "dev@corp.example",
                "displayName": "Dev One",
                "jobTitle": "Engineer",
                "department": "Engineering",
                "businessPhones": ["+1 555 0100"],
                "manager": "ceo@corp.example",
            },
            {
                "userPrincipalName": "ops@corp.example",
                "displayName": "Ops Two",
                "manager": "CEO@corp.example",
                "accountEnabled": False,
            },
        ],
        "groups": [
            {"displayName": "Engineering", "members": ["dev@corp.example"]},
            {"displayName": "Operations", "members": ["ops@corp.example", "ceo@corp.example"]},
            {
                "displayName": "Everyone",
                "members": ["ceo@corp.example"],
                "groupMembers": ["Engineering", "Operations"],
            },
        ],
    }


async def run_import(
    db: Database, document: dict[str, Any], *, replace: bool = False, at: datetime = T0
) -> ImportReport:
    data = parse_directory_json(json.dumps(document))
    async with db.write() as conn:
        return await import_directory(conn, data, replace=replace, now=at)


async def import_text(db: Database, text: str) -> ImportReport:
    """What `enlist provisioning directory import --replace` does with a file."""
    data = parse_directory_json(text)
    async with db.write() as conn:
        return await import_directory(conn, data, replace=True)


async def seq(db: Database) -> int:
    async with db.read() as conn:
        return await store.current_seq(conn)


async def changes(db: Database, after: int) -> list[ChangeEntry]:
    async with db.read() as conn:
        return await store.changes_since(conn, after)


async def user(db: Database, upn: str) -> Any:
    async with db.read() as conn:
        return await store.get_user_by_upn(conn, upn)


async def group(db: Database, name: str) -> Any:
    async with db.read() as conn:
        return await store.get_group_by_name(conn, name)


async def snapshot(db: Database) -> tuple[Any, ...]:
    """Everything the directory holds, to compare before and after."""
    async with db.read() as conn:
        users = [u async for page in store.iter_users(conn) for u in page]
        groups = [g async for page in store.iter_groups(conn) for g in page]
        return users, groups, await store.changes_since(conn, 0)


async def test_import_creates_users_groups_managers_and_memberships(directory_db: Database) -> None:
    report = await run_import(directory_db, company())

    assert report.to_json() == {
        "users_created": 3,
        "users_updated": 0,
        "users_unchanged": 0,
        "users_soft_deleted": 0,
        "users_restored": 0,
        "groups_created": 3,
        "groups_updated": 0,
        "groups_unchanged": 0,
        "groups_soft_deleted": 0,
        "groups_restored": 0,
        "memberships_added": 6,
        "memberships_removed": 0,
        "purged": 0,
    }
    ceo, dev, ops = [await user(directory_db, f"{n}@corp.example") for n in ("ceo", "dev", "ops")]
    assert dev.manager_id == ceo.id
    assert ops.manager_id == ceo.id  # the manager's UPN matched case-insensitively
    assert dev.attributes["businessPhones"] == ["+1 555 0100"]
    assert dev.attributes["objectId"] == dev.id
    assert not ops.enabled
    everyone = await group(directory_db, "everyone")
    engineering, operations = (
        await group(directory_db, "Engineering"),
        await group(directory_db, "Operations"),
    )
    assert everyone.member_user_ids == {ceo.id}
    assert everyone.member_group_ids == {engineering.id, operations.id}
    assert operations.member_user_ids == {ops.id, ceo.id}
    kinds = [c.kind for c in await changes(directory_db, 0)]
    assert kinds.count("user") == 3
    assert kinds.count("group") == 3
    assert kinds.count("membership") == 6


async def test_a_second_identical_import_changes_nothing_and_records_no_change(
    directory_db: Database,
) -> None:
    await run_import(directory_db, company())
    before = await snapshot(directory_db)

    report = await run_import(directory_db, company(), replace=True, at=T0 + timedelta(hours=1))

    assert report.users.unchanged == 3
    assert report.groups.unchanged == 3
    assert (report.memberships_added, report.memberships_removed) == (0, 0)
    assert report.users.created == report.users.updated == report.groups.updated == 0
    assert await snapshot(directory_db) == before


async def test_a_changed_attribute_records_exactly_one_change(directory_db: Database) -> None:
    await run_import(directory_db, company())
    mark = await seq(directory_db)
    document = company()
    document["users"][1]["jobTitle"] = "Senior Engineer"

    report = await run_import(directory_db, document)

    dev = await user(directory_db, "dev@corp.example")
    assert (report.users.updated, report.users.unchanged) == (1, 2)
    assert [(c.kind, c.object_id, c.member_id) for c in await changes(directory_db, mark)] == [
        ("user", dev.id, None)
    ]
    assert dev.attributes["jobTitle"] == "Senior Engineer"


async def test_removing_an_attribute_or_changing_the_manager_is_a_change(directory_db: Database) -> None:
    await run_import(directory_db, company())
    mark = await seq(directory_db)
    document = company()
    document["users"][1]["department"] = ""  # carried empty: cleared
    document["users"][2]["manager"] = "dev@corp.example"

    report = await run_import(directory_db, document)

    dev, ops = await user(directory_db, "dev@corp.example"), await user(directory_db, "ops@corp.example")
    assert report.users.updated == 2
    assert "department" not in dev.attributes
    assert ops.manager_id == dev.id
    assert {c.object_id for c in await changes(directory_db, mark)} == {dev.id, ops.id}


async def test_replace_soft_deletes_what_the_file_lacks_and_keeps_their_memberships(
    directory_db: Database,
) -> None:
    await run_import(directory_db, company())
    ops = await user(directory_db, "ops@corp.example")
    operations = await group(directory_db, "Operations")
    mark = await seq(directory_db)
    document = company()
    del document["users"][2]
    document["groups"] = [g for g in document["groups"] if g["displayName"] == "Engineering"]

    report = await run_import(directory_db, document, replace=True, at=T0 + timedelta(days=1))

    assert (report.users.soft_deleted, report.groups.soft_deleted) == (1, 2)
    gone = await user(directory_db, "ops@corp.example")
    assert gone.soft_deleted
    assert gone.deleted_at == T0 + timedelta(days=1)
    assert (await group(directory_db, "Operations")).deleted_at is not None
    assert (await group(directory_db, "Operations")).member_user_ids == operations.member_user_ids
    recorded = await changes(directory_db, mark)
    assert ("user", ops.id) in [(c.kind, c.object_id) for c in recorded]
    assert not [c for c in recorded if c.kind == "membership"]


async def test_without_replace_what_the_file_lacks_stays(directory_db: Database) -> None:
    await run_import(directory_db, company())

    report = await run_import(directory_db, {"users": [company()["users"][0]]})

    assert report.users.soft_deleted == 0
    assert report.users.unchanged == 1
    assert not (await user(directory_db, "ops@corp.example")).soft_deleted


async def test_a_file_without_groups_leaves_groups_alone_even_with_replace(directory_db: Database) -> None:
    await run_import(directory_db, company())
    document = company()
    del document["groups"]

    report = await run_import(directory_db, document, replace=True)

    assert report.groups.soft_deleted == 0
    assert (await group(directory_db, "Everyone")).deleted_at is None


async def test_importing_a_soft_deleted_user_again_restores_it_with_its_id(directory_db: Database) -> None:
    await run_import(directory_db, company())
    ops = await user(directory_db, "ops@corp.example")
    smaller = company()
    del smaller["users"][2]
    smaller["groups"][1]["members"] = ["ceo@corp.example"]
    await run_import(directory_db, smaller, replace=True, at=T0 + timedelta(days=1))
    mark = await seq(directory_db)

    report = await run_import(directory_db, company(), replace=True, at=T0 + timedelta(days=2))

    back = await user(directory_db, "OPS@corp.example")
    assert back.id == ops.id
    assert not back.soft_deleted
    assert report.users.restored == 1
    assert report.memberships_added == 1
    recorded = [(c.kind, c.object_id, c.member_id) for c in await changes(directory_db, mark)]
    assert ("user", ops.id, None) in recorded


async def test_membership_changes_are_recorded_as_deltas(directory_db: Database) -> None:
    await run_import(directory_db, company())
    mark = await seq(directory_db)
    document = company()
    document["groups"][1]["members"] = ["ceo@corp.example", "dev@corp.example"]  # ops out, dev in

    report = await run_import(directory_db, document)

    ceo, dev, ops = [await user(directory_db, f"{n}@corp.example") for n in ("ceo", "dev", "ops")]
    operations = await group(directory_db, "Operations")
    assert (report.memberships_added, report.memberships_removed) == (1, 1)
    assert sorted((c.kind, c.object_id, c.member_id) for c in await changes(directory_db, mark)) == sorted(
        [("membership", operations.id, ops.id), ("membership", operations.id, dev.id)]
    )
    assert operations.member_user_ids == {ceo.id, dev.id}


async def test_nested_group_changes_are_membership_changes_of_the_parent(directory_db: Database) -> None:
    await run_import(directory_db, company())
    mark = await seq(directory_db)
    document = company()
    document["groups"][2]["groupMembers"] = ["Engineering"]

    report = await run_import(directory_db, document)

    everyone, operations = await group(directory_db, "Everyone"), await group(directory_db, "Operations")
    assert report.memberships_removed == 1
    assert [(c.kind, c.object_id, c.member_id) for c in await changes(directory_db, mark)] == [
        ("membership", everyone.id, operations.id)
    ]
    async with directory_db.read() as conn:
        assert await store.groups_containing(conn, [operations.id]) == {operations.id: set()}


async def test_an_id_in_the_file_is_kept_and_lets_the_file_rename_a_user(directory_db: Database) -> None:
    document = company()
    document["users"][1]["id"] = "0F8FAD5B-D9CB-469F-A165-70867728950E"
    await run_import(directory_db, document)
    dev = await user(directory_db, "dev@corp.example")
    assert dev.id == "0f8fad5b-d9cb-469f-a165-70867728950e"
    document["users"][1]["userPrincipalName"] = "developer@corp.example"
    document["groups"][0]["members"] = ["developer@corp.example"]

    report = await run_import(directory_db, document, replace=True)

    assert (report.users.created, report.users.updated, report.users.soft_deleted) == (0, 1, 0)
    assert (await user(directory_db, "developer@corp.example")).id == dev.id
    assert await user(directory_db, "dev@corp.example") is None


async def test_two_users_can_swap_their_names_in_one_import(directory_db: Database) -> None:
    document = company()
    document["users"][1]["id"] = "11111111-1111-4111-8111-111111111111"
    document["users"][2]["id"] = "22222222-2222-4222-8222-222222222222"
    await run_import(directory_db, document)
    document["users"][1]["userPrincipalName"], document["users"][2]["userPrincipalName"] = (
        "ops@corp.example",
        "dev@corp.example",
    )
    document["users"][1]["manager"] = "ceo@corp.example"
    document["groups"][0]["members"] = ["ops@corp.example"]
    document["groups"][1]["members"] = ["dev@corp.example", "ceo@corp.example"]

    report = await run_import(directory_db, document)

    assert report.users.updated == 2
    assert (await user(directory_db, "ops@corp.example")).id == "11111111-1111-4111-8111-111111111111"
    assert (await user(directory_db, "dev@corp.example")).id == "22222222-2222-4222-8222-222222222222"
    assert report.memberships_added == report.memberships_removed == 0


INVALID_FILES = {
    "syntax": ('{"users": [\n  {"userPrincipalName": "a@corp.example",}\n]}', "line 2, column"),
    "missing upn": ('{"users": [\n{"displayName": "x"}]}', "line 2: users[0].userPrincipalName is missing"),
    "duplicate upn": (
        '{"users": [\n{"userPrincipalName": "a@corp.example"},\n{"userPrincipalName": "A@corp.example"}]}',
        "line 3: users[1].userPrincipalName 'A@corp.example' is already users[0]'s",
    ),
    "unknown manager": (
        '{"users": [\n{"userPrincipalName": "a@corp.example",\n "manager": "b@corp.example"}]}',
        "users[0]: manager 'b@corp.example' is not a user of the file or the directory",
    ),
    "unknown member": (
        '{"users": [], "groups": [\n{"displayName": "G",\n "members": ["b@corp.example"]}]}',
        "groups[0]: member 'b@corp.example' is not a user of the file or the directory",
    ),
    "unknown group member": (
        '{"users": [], "groups": [\n{"displayName": "G", "groupMembers": ["H"]}]}',
        "groups[0]: group member 'H' is not a group of the file or the directory",
    ),
    "wrong type": (
        '{"users": [\n{"userPrincipalName": "a@corp.example", "accountEnabled": "no"}]}',
        'line 2: users[0].accountEnabled must be true or false, not "no"',
    ),
}


@pytest.mark.parametrize("case", INVALID_FILES)
async def test_an_invalid_file_changes_nothing_and_names_its_line(directory_db: Database, case: str) -> None:
    await run_import(directory_db, company())
    before = await snapshot(directory_db)
    text, message = INVALID_FILES[case]

    with pytest.raises(InvalidFileError) as raised:
        await import_text(directory_db, text)

    assert message in str(raised.value)
    assert await snapshot(directory_db) == before


async def test_a_file_that_contradicts_the_directory_changes_nothing(directory_db: Database) -> None:
    await run_import(directory_db, company())
    before = await snapshot(directory_db)
    document = company()
    document["users"][0]["jobTitle"] = "Chair"  # would be an update, before the conflict is found
    document["users"][1]["id"] = "33333333-3333-4333-8333-333333333333"  # dev@ is another id's

    with pytest.raises(InvalidFileError, match=r"users\[1\]: userPrincipalName 'dev@corp.example' is user"):
        await run_import(directory_db, document, replace=True)

    assert await snapshot(directory_db) == before


async def test_a_failure_while_applying_rolls_the_whole_import_back(
    directory_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_import(directory_db, company())
    before = await snapshot(directory_db)
    document = company()
    document["users"].append({"userPrincipalName": "new@corp.example"})
    document["groups"][0]["members"].append("new@corp.example")

    async def broken(*_: Any, **__: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(store, "set_members", broken)  # fails after the users were written
    with pytest.raises(OSError, match="disk full"):
        await run_import(directory_db, document, replace=True)

    assert await snapshot(directory_db) == before


async def test_a_csv_of_users_imports_users_and_leaves_groups_alone(directory_db: Database) -> None:
    await run_import(directory_db, company())
    text = (
        "userPrincipalName,displayName,accountEnabled,businessPhones,manager,department\n"
        "ceo@corp.example,Ada Boss,true,,,\n"
        "new@corp.example,New Person,false,+1 555 0101; +1 555 0102,ceo@corp.example,Sales\n"
    )

    data = parse_users_csv(text)
    async with directory_db.write() as conn:
        report = await import_directory(conn, data, replace=True, now=T0)

    new, ceo = await user(directory_db, "new@corp.example"), await user(directory_db, "ceo@corp.example")
    assert new.attributes["businessPhones"] == ["+1 555 0101", "+1 555 0102"]
    assert not new.enabled
    assert new.manager_id == ceo.id
    assert (report.users.created, report.users.updated, report.users.soft_deleted) == (1, 0, 2)
    assert ceo.attributes["jobTitle"] == "CEO"  # not a column of the CSV: kept
    assert report.groups.soft_deleted == 0
    assert (await group(directory_db, "Everyone")).deleted_at is None


async def test_an_import_purges_what_is_past_the_retention_first(directory_db: Database) -> None:
    await run_import(directory_db, company())
    ops = await user(directory_db, "ops@corp.example")
    async with directory_db.write() as conn:
        await lifecycle.soft_delete_user(conn, ops.id, now=T0)

    report = await run_import(directory_db, company(), at=T0 + timedelta(days=31))

    assert report.purged == 1
    assert report.users.created == 1  # a new object: the old one was past the retention
    assert (await user(directory_db, "ops@corp.example")).id != ops.id


async def test_the_sample_directory_imports_and_reimports_without_change(directory_db: Database) -> None:
    data = sample_directory(users=120, groups=12)
    async with directory_db.write() as conn:
        first = await import_directory(conn, data, replace=True)
    mark = await seq(directory_db)
    async with directory_db.write() as conn:
        second = await import_directory(conn, data, replace=True)

    assert first.users.created == 120
    assert first.groups.created == 12
    assert second.users.unchanged == 120
    assert await seq(directory_db) == mark
    async with directory_db.read() as conn:
        parent = await store.get_group_by_name(conn, "Product & Engineering")
        assert parent is not None
        assert len(parent.member_group_ids) == 2


async def test_an_entry_built_in_code_with_an_unknown_manager_is_refused(directory_db: Database) -> None:
    data = DirectoryFile(
        (UserEntry({"userPrincipalName": "a@corp.example"}, manager="ghost@corp.example", where="users[0]"),)
    )

    with pytest.raises(InvalidFileError, match=r"users\[0\]: manager 'ghost@corp.example'"):
        async with directory_db.write() as conn:
            await import_directory(conn, data, replace=False)

    assert (await snapshot(directory_db))[0] == []


async def test_an_import_merges_what_a_row_does_not_carry_and_clears_what_it_carries_empty(
    directory_db: Database,
) -> None:
    await run_import(directory_db, company())
    dev = await user(directory_db, "dev@corp.example")
    groups_before = {g: (await group(directory_db, g)).member_user_ids for g in ("Engineering", "Operations")}
    text = "userPrincipalName,jobTitle\ndev@corp.example,\n"  # one column more than the UPN, empty

    report = await import_directory_text(directory_db, parse_users_csv(text))

    after = await user(directory_db, "dev@corp.example")
    assert report.users.updated == 1
    assert "jobTitle" not in after.attributes
    assert {k: v for k, v in after.attributes.items() if k != "jobTitle"} == {
        k: v for k, v in dev.attributes.items() if k != "jobTitle"
    }
    assert after.manager_id == dev.manager_id  # no manager column: kept
    document = {
        "users": [{"userPrincipalName": "dev@corp.example"}],
        "groups": [{"displayName": "Engineering"}],
    }
    await run_import(directory_db, document)
    assert (await user(directory_db, "dev@corp.example")).manager_id == dev.manager_id
    assert (await group(directory_db, "Engineering")).member_user_ids == groups_before["Engineering"]


async def test_a_manager_or_member_may_be_a_user_already_in_the_directory(directory_db: Database) -> None:
    await run_import(directory_db, company())
    ceo = await user(directory_db, "ceo@corp.example")
    document = {
        "users": [{"userPrincipalName": "new@corp.example", "manager": "CEO@corp.example"}],
        "groups": [{"displayName": "Newcomers", "members": ["new@corp.example", "ceo@corp.example"], "groupMembers": ["Engineering"]}],
    }  # fmt: skip

    await run_import(directory_db, document)

    new = await user(directory_db, "new@corp.example")
    assert new.manager_id == ceo.id
    newcomers = await group(directory_db, "Newcomers")
    assert newcomers.member_user_ids == {new.id, ceo.id}
    assert newcomers.member_group_ids == {(await group(directory_db, "Engineering")).id}


async def import_directory_text(db: Database, data: Any) -> Any:
    async with db.write() as conn:
        return await import_directory(conn, data, replace=False, now=T0)
