"""Graph delta items to records (pure): removals, attributes, managers, members."""

from __future__ import annotations

import email.utils

import pytest

from enlist.provisioning.sources.graph.client import retry_after
from enlist.provisioning.sources.graph.mapping import group_record, merge_groups, user_record
from enlist.provisioning.sources.model import UNCHANGED, GroupRecord, Removal, UserRecord

USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"


@pytest.mark.parametrize(
    ("reason", "expected"), [("changed", "changed"), ("deleted", "deleted"), ("Deleted", "deleted")]
)
@pytest.mark.parametrize("full", [True, False])
def test_removed_items_become_removals_with_graphs_reason(reason: str, expected: str, full: bool) -> None:
    item = {"id": "u1", "@removed": {"reason": reason}}

    assert user_record(item, full=full) == Removal("user", "u1", expected)  # type: ignore[arg-type]
    assert group_record(item, full=full) == Removal("group", "u1", expected)  # type: ignore[arg-type]


def test_a_selected_property_left_out_is_carried_as_cleared() -> None:
    record = user_record({"id": "u1", "userPrincipalName": "a@x", "accountEnabled": False}, full=False)

    assert isinstance(record, UserRecord)
    assert record.attributes["accountEnabled"] is False
    assert record.attributes["department"] is None
    assert record.attributes["objectId"] == "u1"


def test_an_item_with_only_an_annotation_says_nothing_about_attributes() -> None:
    record = user_record({"id": "u1", "manager@delta": [{"@odata.type": USER, "id": "m1"}]}, full=False)

    assert isinstance(record, UserRecord)
    assert record.attributes == {}
    assert record.manager == "m1"


@pytest.mark.parametrize(
    ("annotation", "full", "manager"),
    [
        (None, True, None),
        (None, False, UNCHANGED),
        ([], False, None),
        ([{"@odata.type": USER, "id": "m1", "@removed": {"reason": "deleted"}}], False, None),
        ([{"@odata.type": USER, "id": "m2"}], False, "m2"),
    ],
)
def test_manager_delta_sets_clears_or_leaves_the_manager(
    annotation: object, full: bool, manager: object
) -> None:
    item: dict[str, object] = {"id": "u1", "displayName": "A"}
    if annotation is not None:
        item["manager@delta"] = annotation

    record = user_record(item, full=full)

    assert isinstance(record, UserRecord)
    assert record.manager == manager


def test_members_delta_keeps_users_and_nested_groups_and_skips_other_types() -> None:
    item = {
        "id": "g1",
        "displayName": "G",
        "members@delta": [
            {"@odata.type": USER, "id": "u1"},
            {"@odata.type": GROUP, "id": "g2"},
            {"@odata.type": "#microsoft.graph.device", "id": "d1"},
            {"@odata.type": USER, "id": "u2", "@removed": {"reason": "deleted"}},
        ],
    }

    record = group_record(item, full=False)

    assert record == GroupRecord(
        "g1",
        record.attributes,
        member_users=frozenset({"u1"}),
        member_groups=frozenset({"g2"}),
        removed_members=frozenset({"u2"}),
        members_complete=False,
    )


def test_slices_of_one_group_merge_into_one_member_list() -> None:
    first = group_record(
        {"id": "g1", "displayName": "G", "members@delta": [{"@odata.type": USER, "id": "u1"}]}, full=True
    )
    second = group_record(
        {"id": "g1", "displayName": "G", "members@delta": [{"@odata.type": USER, "id": "u2"}]}, full=True
    )
    assert isinstance(first, GroupRecord)
    assert isinstance(second, GroupRecord)

    merged = merge_groups(first, second)

    assert merged.member_users == {"u1", "u2"}
    assert merged.members_complete


@pytest.mark.parametrize(
    ("header", "seconds"), [("10", 10.0), ("2.128", 2.128), (None, None), ("soon", None)]
)
def test_retry_after_reads_seconds_and_fractions(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, 0.0) == seconds


def test_retry_after_reads_an_http_date() -> None:
    now = 1_800_000_000.0

    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(30, abs=1)
