"""Parsing directory files: what a valid file means, and how an invalid one is reported."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enlist.provisioning.directory.errors import InvalidFileError
from enlist.provisioning.directory.files import parse_directory_json, parse_users_csv


def problems(text: str, parse: Any = parse_directory_json) -> list[str]:
    with pytest.raises(InvalidFileError) as raised:
        parse(text)
    return list(raised.value.problems)


def outcome(text: str) -> tuple[str, ...]:
    """The problems of a file, or none: any other exception fails the test."""
    try:
        parse_directory_json(text)
    except InvalidFileError as exc:
        return exc.problems
    return ()


# JSON -------------------------------------------------------------------------------------------


def test_a_user_gets_graphs_defaults_and_keeps_unknown_attributes() -> None:
    data = parse_directory_json(
        '{"users": [{"userPrincipalName": " ann@corp.example ", "DisplayName": "Ann", "jobTitle": "",'
        ' "mobilePhone": null, "businessPhones": [], "extension_abc_costCenter": "42"}]}'
    )

    assert data.groups is None
    assert data.users[0].attributes == {
        "userPrincipalName": "ann@corp.example",
        "displayName": "Ann",  # known names are matched case-insensitively
        "accountEnabled": True,
        "mailNickname": "ann",
        "extension_abc_costCenter": "42",
    }


def test_a_group_has_members_nested_groups_and_is_a_security_group_by_default() -> None:
    data = parse_directory_json(
        json.dumps(
            {
                "users": [{"userPrincipalName": "ann@corp.example"}],
                "groups": [
                    {"displayName": "Team", "members": ["ANN@corp.example"]},
                    {
                        "displayName": "All",
                        "groupMembers": ["team"],
                        "objectId": "{0F8FAD5B-D9CB-469F-A165-70867728950E}",
                    },
                ],
            }
        )
    )

    assert data.groups is not None
    team, everyone = data.groups
    assert team.members == ("ANN@corp.example",)
    assert everyone.group_members == ("team",)
    assert everyone.id == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert everyone.attributes == {"displayName": "All", "securityEnabled": True, "mailEnabled": False}


def test_a_manager_cycle_is_accepted() -> None:
    data = parse_directory_json(
        '{"users": [{"userPrincipalName": "a@x.example", "manager": "b@x.example"},'
        ' {"userPrincipalName": "b@x.example", "manager": "a@x.example"}]}'
    )

    assert [u.manager for u in data.users] == ["b@x.example", "a@x.example"]


def test_a_syntax_error_names_its_line_and_column() -> None:
    assert problems('{"users": [\n  {"userPrincipalName": "a@x.example"\n]}') == [
        "line 3, column 1: Expecting ',' delimiter"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"users": [\n {"mail": "a@x.example"}\n]}', "line 2: users[0].userPrincipalName is missing"),
        (
            '{"users": [\n {"userPrincipalName": "a@x.example"},\n {"userPrincipalName": "A@X.example"}]}',
            "line 3: users[1].userPrincipalName 'A@X.example' is already users[0]'s",
        ),
        (
            '{"users": [\n {"userPrincipalName": "ann"}]}',
            'line 2: users[0].userPrincipalName "ann" is not of the form alias@domain',
        ),
        (
            '{"users": [], "groups": [{"displayName": "G", "groupMembers": ["g"]}]}',
            "line 1: groups[0].groupMembers[0] 'g' is the group itself",
        ),
        (
            '{"users": [], "groups": [{"displayName": "G"},\n{"displayName": "g"}]}',
            "line 2: groups[1].displayName 'g' is already groups[0]'s",
        ),
        ('{"users": [], "groups": [{"members": []}]}', "line 1: groups[0].displayName is missing"),
        (
            '{"users": [{"userPrincipalName": "a@x.example",\n "accountEnabled": "false"}]}',
            'line 2: users[0].accountEnabled must be true or false, not "false"',
        ),
        (
            '{"users": [{"userPrincipalName": "a@x.example",\n\n "businessPhones": "+1 555"}]}',
            'line 3: users[0].businessPhones must be a list of strings, not "+1 555"',
        ),
        (
            '{"users": [{"userPrincipalName": "a@x.example", "jobTitle": 7}]}',
            "line 1: users[0].jobTitle must be a string, not 7",
        ),
        (
            '{"users": [{"userPrincipalName": "a@x.example", "manager": 7}]}',
            "line 1: users[0].manager must be a userPrincipalName, not 7",
        ),
        (
            '{"users": [{"userPrincipalName": "a@x.example", "id": "42"}]}',
            'line 1: users[0].id must be a GUID, not "42"',
        ),
        (
            '{"users": [], "groups": [{"displayName": "G", "members": "a@x.example"}]}',
            'line 1: groups[0].members must be a list of strings, not "a@x.example"',
        ),
        ('{"users": ["a@x.example"]}', "line 1: users[0] must be an object"),
        ('{"users": {}}', "line 1: users must be a list"),
        ('{"groups": []}', "line 1: users is missing (an empty list is fine)"),
        (
            '{"users": [],\n "user": []}',
            "line 2: user is not a key of a directory file (expected users, groups)",
        ),
        ("[]", "line 1: the file must be an object with `users` (and `groups`)"),
        (
            '{"users": [{"userPrincipalName": "a@x.example", "Mail": "a@x.example", "mail": "b@x.example"}]}',
            "line 1: users[0].mail is given twice (as mail)",
        ),
    ],
)
def test_an_invalid_file_names_the_line_and_the_attribute(text: str, expected: str) -> None:
    assert expected in problems(text)


def test_every_problem_is_reported_in_line_order() -> None:
    text = '{"users": [\n {"userPrincipalName": "a@x.example", "manager": 1},\n {"jobTitle": 1}\n]}'

    assert problems(text) == [
        "line 2: users[0].manager must be a userPrincipalName, not 1",
        "line 3: users[1].jobTitle must be a string, not 1",
        "line 3: users[1].userPrincipalName is missing",
    ]


def test_id_and_object_id_must_agree() -> None:
    text = json.dumps(
        {
            "users": [
                {
                    "userPrincipalName": "a@x.example",
                    "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                    "objectId": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                }
            ]
        }
    )

    assert problems(text) == ["line 1: users[0].objectId differs from id"]


@settings(deadline=None)  # the property is not about speed; the first example pays warm-up
@given(st.text(max_size=200))
def test_any_text_either_parses_or_raises_invalid_file(text: str) -> None:
    assert all(p.startswith("line ") for p in outcome(text))


@settings(deadline=None)  # the property is not about speed; the first example pays warm-up
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=10,
    )
)
def test_any_json_document_either_parses_or_raises_invalid_file(document: Any) -> None:
    for candidate in (
        document,
        {"users": document},
        {"users": [document]},
        {"users": [], "groups": [document]},
    ):
        assert all(p.startswith("line ") for p in outcome(json.dumps(candidate, indent=1)))


# CSV --------------------------------------------------------------------------------------------


def test_a_csv_row_is_a_user_with_typed_values() -> None:
    data = parse_users_csv(
        "\ufeffuserPrincipalName,AccountEnabled,businessPhones,manager,department,id\n"
        "boss@x.example,TRUE,,,,\n"
        "\n"
        'ann@x.example,false,"+1 555 0100; +1 555 0101",boss@x.example,Sales,0f8fad5b-d9cb-469f-a165-70867728950e\n'
    )

    assert data.groups is None
    boss, ann = data.users
    assert boss.attributes == {
        "userPrincipalName": "boss@x.example",
        "accountEnabled": True,
        "mailNickname": "boss",
    }
    assert ann.attributes["accountEnabled"] is False
    assert ann.attributes["businessPhones"] == ["+1 555 0100", "+1 555 0101"]
    assert ann.manager == "boss@x.example"
    assert ann.id == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert ann.where == "line 4"


def test_a_csv_names_the_line_where_a_record_starts() -> None:
    text = (
        "userPrincipalName,displayName,accountEnabled\n"
        'a@x.example,"Ann\non two lines",true\n'
        "b@x.example,Bob,maybe\n"
        "a@x.example,Ann again,true\n"
        "c@x.example,Cat\n"
    )

    assert problems(text, parse_users_csv) == [
        'line 4: accountEnabled must be true or false, not "maybe"',
        "line 5: userPrincipalName 'a@x.example' is already line 2's",
        "line 6: has 2 fields, the header has 3",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("displayName\nAnn\n", "line 1: the header has no userPrincipalName column"),
        ("userPrincipalName,mail,Mail\n", "line 1: column mail is in the header twice"),
        ("userPrincipalName,,mail\n", "line 1: column 2 of the header has no name"),
        ("", "line 1: has no header row (Graph attribute names, with userPrincipalName)"),
        ("userPrincipalName,displayName\n,Nobody\n", "line 2: userPrincipalName is missing"),
        ('userPrincipalName\n"a@x.example\n', "line 2: is not valid CSV"),
    ],
)
def test_an_invalid_csv_names_its_line(text: str, expected: str) -> None:
    assert any(p.startswith(expected) for p in problems(text, parse_users_csv)), problems(
        text, parse_users_csv
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"users": [{"userPrincipalName": "a@x.example", "manager": "boss@x.example"}]}',
        '{"users": [], "groups": [{"displayName": "G", "members": ["a@x.example"]}]}',
        '{"users": [], "groups": [{"displayName": "G", "groupMembers": ["Elsewhere"]}]}',
    ],
)
def test_a_reference_outside_the_file_is_left_to_the_importer(text: str) -> None:
    """The directory may have it: the importer resolves references, the parser does not refuse them."""
    parse_directory_json(text)


def test_an_entry_records_the_attributes_it_carries_empty_ones_included() -> None:
    data = parse_users_csv("userPrincipalName,jobTitle,manager\na@x.example,,\n")
    (user,) = data.users
    assert user.carried == frozenset({"userPrincipalName", "jobTitle", "manager"})
    assert "jobTitle" not in user.attributes
    assert "accountEnabled" not in user.carried  # a default, for new users only


def test_entra_export_headers_are_read_as_graph_attributes() -> None:
    text = (
        "User principal name,Display name,Object Id,Job title,Account enabled,State or province,"
        "Office phone,Creation type,Directory synced\n"
        "a@x.example,Ann,8c6f5a0e-8a3e-4f9b-9a55-3f1d2c4b5a6e,Dev,False,WA,+1 555;+1 556,,No\n"
    )
    (user,) = parse_users_csv(text).users
    assert user.id == "8c6f5a0e-8a3e-4f9b-9a55-3f1d2c4b5a6e"
    assert dict(user.attributes) == {
        "userPrincipalName": "a@x.example",
        "displayName": "Ann",
        "jobTitle": "Dev",
        "accountEnabled": False,
        "state": "WA",
        "businessPhones": ["+1 555", "+1 556"],
        "mailNickname": "a",
    }
