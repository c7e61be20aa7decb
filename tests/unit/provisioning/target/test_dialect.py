"""Specification of the request bodies the client sends, in Entra's default dialect and the RFC one.

Each shape is checked as exact JSON (entra-scim.md §2.5 users, §2.7 manager, §3.4 members, §3.5
group attributes), then read back with the portal's own PATCH parser to show both dialects mean
the same change.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlist.provisioning.target.dialect import (
    MANAGER_PATH,
    AttributeChange,
    filter_query,
    group_patch_body,
    member_patch_bodies,
    user_patch_body,
)
from enlist.scim.filter import parse_filter
from enlist.scim.filter_ast import AttrPath, Compare
from enlist.scim.patch import apply_group_patch, apply_user_patch, parse_patch

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WORK_EMAIL = 'emails[type eq "work"].value'
EMPLOYEE_NUMBER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


CHANGES = [
    AttributeChange("displayName", "Jane Doe"),
    AttributeChange(WORK_EMAIL, "jane@contoso.com"),
    AttributeChange("title", "Engineer", old_present=False),
    AttributeChange("active", False),
    AttributeChange("nickName", None),
]


def test_entra_user_patch_capitalises_ops_adds_absent_attributes_and_sends_booleans_as_strings() -> None:
    assert user_patch_body(CHANGES, "entra") == patch(
        {"op": "Replace", "path": "displayName", "value": "Jane Doe"},
        {"op": "Replace", "path": WORK_EMAIL, "value": "jane@contoso.com"},
        {"op": "Add", "path": "title", "value": "Engineer"},
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Remove", "path": "nickName"},
    )


def test_rfc_user_patch_uses_lower_case_replace_and_remove_with_real_booleans() -> None:
    assert user_patch_body(CHANGES, "rfc") == patch(
        {"op": "replace", "path": "displayName", "value": "Jane Doe"},
        {"op": "replace", "path": WORK_EMAIL, "value": "jane@contoso.com"},
        {"op": "replace", "path": "title", "value": "Engineer"},
        {"op": "replace", "path": "active", "value": False},
        {"op": "remove", "path": "nickName"},
    )


def test_entra_sends_true_as_the_string_true() -> None:
    body = user_patch_body([AttributeChange("active", True)], "entra")
    assert body["Operations"] == [{"op": "Replace", "path": "active", "value": "True"}]


def test_entra_manager_is_a_bare_id_on_the_enterprise_urn_path() -> None:
    body = user_patch_body([AttributeChange(MANAGER_PATH, "boss-id", old_present=False)], "entra")
    assert body == patch(
        {
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": "boss-id",
        }
    )


def test_entra_replaces_a_manager_that_was_set() -> None:
    body = user_patch_body([AttributeChange(MANAGER_PATH, "new-boss")], "entra")
    assert body["Operations"] == [{"op": "Replace", "path": MANAGER_PATH, "value": "new-boss"}]


def test_rfc_manager_is_a_complex_value() -> None:
    body = user_patch_body([AttributeChange(MANAGER_PATH, "boss-id", old_present=False)], "rfc")
    assert body == patch(
        {
            "op": "replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "value": {"value": "boss-id"},
        }
    )


@pytest.mark.parametrize(("dialect", "op"), [("entra", "Remove"), ("rfc", "remove")])
def test_removing_the_manager_is_a_remove_of_its_path(dialect: Any, op: str) -> None:
    body = user_patch_body([AttributeChange(MANAGER_PATH, None)], dialect)
    assert body == patch({"op": op, "path": MANAGER_PATH})


@pytest.mark.parametrize("dialect", ["entra", "rfc"])
def test_a_manager_that_is_not_an_id_is_refused(dialect: Any) -> None:
    with pytest.raises(ValueError, match="manager"):
        user_patch_body([AttributeChange(MANAGER_PATH, {"value": "x"})], dialect)


@pytest.mark.parametrize("dialect", ["entra", "rfc"])
def test_a_patch_without_changes_is_refused(dialect: Any) -> None:
    with pytest.raises(ValueError, match="at least one change"):
        user_patch_body([], dialect)
    with pytest.raises(ValueError, match="at least one change"):
        group_patch_body([], dialect)


def test_nested_booleans_stay_booleans_in_the_entra_dialect() -> None:
    """Only the expression engine's own results are strings; complex values go as written."""
    emails = [{"type": "work", "value": "a@b.c", "primary": True}]
    body = user_patch_body([AttributeChange("emails", emails)], "entra")
    assert body["Operations"] == [{"op": "Replace", "path": "emails", "value": emails}]


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            "entra",
            [
                {"op": "Replace", "path": "displayName", "value": "Sales EMEA"},
                {"op": "Add", "path": "externalId", "value": "g-1"},
            ],
        ),
        (
            "rfc",
            [
                {"op": "replace", "path": "displayName", "value": "Sales EMEA"},
                {"op": "replace", "path": "externalId", "value": "g-1"},
            ],
        ),
    ],
)
def test_group_patch_writes_display_name_and_external_id(
    dialect: Any, expected: list[dict[str, Any]]
) -> None:
    changes = [
        AttributeChange("displayName", "Sales EMEA"),
        AttributeChange("externalId", "g-1", old_present=False),
    ]
    assert group_patch_body(changes, dialect) == patch(*expected)


def test_group_patch_does_not_write_members() -> None:
    with pytest.raises(ValueError, match="member_patch_bodies"):
        group_patch_body([AttributeChange("members", [{"value": "u1"}])], "entra")


def test_entra_members_are_added_and_removed_with_value_lists() -> None:
    assert member_patch_bodies(["u1", "u2"], ["u3"], "entra") == [
        patch(
            {"op": "Add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "u3"}]},
        )
    ]


def test_rfc_members_are_added_with_a_value_list_and_removed_one_filter_each() -> None:
    assert member_patch_bodies(["u1", "u2"], ["u3", "u4"], "rfc") == [
        patch(
            {"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
            {"op": "remove", "path": 'members[value eq "u3"]'},
            {"op": "remove", "path": 'members[value eq "u4"]'},
        )
    ]


def test_rfc_member_filters_escape_the_id() -> None:
    [body] = member_patch_bodies([], ['we"ird\\id'], "rfc")
    assert body["Operations"] == [{"op": "remove", "path": 'members[value eq "we\\"ird\\\\id"]'}]


def test_members_are_split_into_requests_of_at_most_chunk_members() -> None:
    bodies = member_patch_bodies(["a1", "a2", "a3"], ["r1", "r2"], "entra", chunk=2)
    assert bodies == [
        patch({"op": "Add", "path": "members", "value": [{"value": "a1"}, {"value": "a2"}]}),
        patch(
            {"op": "Add", "path": "members", "value": [{"value": "a3"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "r1"}]},
        ),
        patch({"op": "Remove", "path": "members", "value": [{"value": "r2"}]}),
    ]


def test_rfc_chunks_count_each_removed_member() -> None:
    bodies = member_patch_bodies([], ["r1", "r2", "r3"], "rfc", chunk=2)
    assert [len(body["Operations"]) for body in bodies] == [2, 1]


def test_a_member_both_added_and_removed_is_refused() -> None:
    with pytest.raises(ValueError, match="both added and removed"):
        member_patch_bodies(["u1"], ["u1"], "entra")


@pytest.mark.parametrize("dialect", ["entra", "rfc"])
def test_no_member_change_sends_no_request(dialect: Any) -> None:
    assert member_patch_bodies([], [], dialect) == []


MEMBER_IDS = st.lists(st.text(alphabet='ab12-"\\ ', min_size=1, max_size=6), max_size=120, unique=True)


@given(
    add=MEMBER_IDS,
    remove=MEMBER_IDS,
    chunk=st.integers(min_value=1, max_value=60),
    dialect=st.sampled_from(["entra", "rfc"]),
)
def test_every_member_is_sent_once_within_the_chunk_size(
    add: list[str], remove: list[str], chunk: int, dialect: Any
) -> None:
    remove = [member for member in remove if member not in add]
    bodies = member_patch_bodies(add, remove, dialect, chunk)
    added: list[str] = []
    removed: list[str] = []
    for body in bodies:
        _, changes = apply_group_patch({"displayName": "g"}, parse_patch(body))
        assert 0 < len(changes.add) + len(changes.remove) <= chunk
        added.extend(changes.add)
        removed.extend(changes.remove)
    assert added == add
    assert removed == remove


@pytest.mark.parametrize("dialect", ["entra", "rfc"])
def test_both_dialects_mean_the_same_change_to_the_portal(dialect: Any) -> None:
    user = {
        "userName": "jdoe",
        "active": True,
        "nickName": "JD",
        "emails": [{"type": "work", "value": "old@x.y"}],
    }
    changes = [
        *CHANGES,
        AttributeChange(EMPLOYEE_NUMBER, "42", old_present=False),
        AttributeChange(MANAGER_PATH, "boss-id", old_present=False),
    ]
    result = apply_user_patch(user, parse_patch(user_patch_body(changes, dialect)))
    enterprise = result["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert result["displayName"] == "Jane Doe"
    assert result["title"] == "Engineer"
    assert result["active"] is False
    assert "nickName" not in result
    assert result["emails"] == [{"type": "work", "value": "jane@contoso.com"}]
    assert enterprise["employeeNumber"] == "42"
    assert enterprise["manager"]["value"] == "boss-id"


def test_filter_query_quotes_the_value() -> None:
    assert filter_query("userName", "jdoe@contoso.com") == 'userName eq "jdoe@contoso.com"'


def test_filter_query_escapes_quotes_and_backslashes() -> None:
    assert filter_query("displayName", 'R&D "core" \\ ops') == 'displayName eq "R&D \\"core\\" \\\\ ops"'


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=50))
def test_filter_query_reads_back_as_the_same_value(value: str) -> None:
    assert parse_filter(filter_query("userName", value)) == Compare(AttrPath(None, "userName"), "eq", value)
