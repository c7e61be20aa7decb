"""Specification of the source dict mappings read: Graph attributes plus Entra's connector names."""

from __future__ import annotations

from datetime import UTC, datetime

from enlist.provisioning.directory.model import SourceGroup, SourceUser
from enlist.provisioning.mapping.source import group_source, user_source


def test_a_user_gets_entras_names_for_graph_attributes() -> None:
    user = SourceUser(
        "u-1",
        {
            "businessPhones": ["+1 1", "+1 2"],
            "mobilePhone": "+1 3",
            "officeLocation": "Bldg 1",
            "faxNumber": "+1 4",
            "accountEnabled": True,
        },
        manager_id="m-1",
    )
    assert user_source(user) == {
        "businessPhones": ["+1 1", "+1 2"],
        "mobilePhone": "+1 3",
        "officeLocation": "Bldg 1",
        "faxNumber": "+1 4",
        "accountEnabled": True,
        "objectId": "u-1",
        "telephoneNumber": "+1 1",
        "mobile": "+1 3",
        "physicalDeliveryOfficeName": "Bldg 1",
        "facsimileTelephoneNumber": "+1 4",
        "manager": "m-1",
        "IsSoftDeleted": False,
    }


def test_attributes_the_user_already_has_are_not_overwritten() -> None:
    user = SourceUser("u-1", {"Mobile": "kept", "mobilePhone": "graph", "objectId": "own"})
    source = user_source(user)
    assert (source["Mobile"], source["objectId"]) == ("kept", "own")
    assert "mobile" not in source


def test_missing_graph_attributes_add_no_alias() -> None:
    source = user_source(SourceUser("u-1", {"businessPhones": [], "mobilePhone": None}))
    assert "telephoneNumber" not in source
    assert "mobile" not in source
    assert "manager" not in source


def test_is_soft_deleted_for_a_disabled_deleted_or_out_of_scope_user() -> None:
    enabled = SourceUser("u", {"accountEnabled": True})
    assert user_source(enabled)["IsSoftDeleted"] is False
    assert user_source(SourceUser("u", {"accountEnabled": False}))["IsSoftDeleted"] is True
    assert (
        user_source(SourceUser("u", {}, deleted_at=datetime(2025, 1, 1, tzinfo=UTC)))["IsSoftDeleted"] is True
    )
    assert user_source(enabled, in_scope=False)["IsSoftDeleted"] is True


def test_a_group_gets_its_id_and_sorted_member_user_ids() -> None:
    group = SourceGroup("g-1", {"displayName": "G"}, frozenset({"b", "a"}), frozenset({"nested"}))
    assert group_source(group) == {
        "displayName": "G",
        "objectId": "g-1",
        "members": ["a", "b"],
        "IsSoftDeleted": False,
    }
    assert group_source(group, in_scope=False)["IsSoftDeleted"] is True
