"""The sample directories: deterministic, realistic, and valid import files."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from enlist.provisioning.directory.files import DirectoryFile, parse_directory_json
from enlist.provisioning.directory.sample import NESTED_PARENT, generate_large, sample_directory


def test_the_sample_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    assert sample_directory() == sample_directory()
    assert sample_directory(seed=8) != sample_directory()


def test_the_sample_is_a_valid_import_file() -> None:
    data = sample_directory()

    assert parse_directory_json(json.dumps(data.to_json())) == data


def test_managers_form_one_tree_under_a_ceo() -> None:
    data = sample_directory()
    by_upn = {u.upn: u for u in data.users}
    roots = [u for u in data.users if u.manager is None]

    assert [r.attributes["jobTitle"] for r in roots] == ["Chief Executive Officer"]
    for user in data.users:
        seen, boss = set(), user
        while boss.manager is not None:
            assert boss.upn not in seen
            seen.add(boss.upn)
            boss = by_upn[boss.manager]
        assert boss is roots[0]


def test_every_user_is_in_one_to_three_groups_and_two_groups_are_nested() -> None:
    data = sample_directory()
    assert data.groups is not None
    counts = Counter(upn for g in data.groups for upn in g.members)

    assert len(data.groups) == 12
    assert {counts[u.upn] for u in data.users} == {1, 2, 3}
    nested = [g for g in data.groups if g.group_members]
    assert [g.display_name for g in nested] == [NESTED_PARENT]
    assert len(nested[0].group_members) == 2


def test_the_sample_looks_like_a_company() -> None:
    data = sample_directory()
    disabled = [u for u in data.users if not u.attributes["accountEnabled"]]
    departments = {u.attributes["department"] for u in data.users}

    assert 1 <= len(disabled) <= 10
    assert len(departments) >= 7
    assert len({u.upn.casefold() for u in data.users}) == 300
    assert any(not u.attributes["displayName"].isascii() for u in data.users)  # diacritics
    assert all(u.upn.isascii() for u in data.users)


@pytest.mark.parametrize(("users", "groups"), [(0, 0), (1, 1), (2, 3), (9, 2), (40, 30)])
def test_small_and_odd_sizes_still_give_valid_files(users: int, groups: int) -> None:
    data = sample_directory(users=users, groups=groups)

    assert (len(data.users), len(data.groups or ())) == (users, groups)
    assert parse_directory_json(json.dumps(data.to_json())) == data


def test_a_large_directory_has_the_sizes_asked() -> None:
    data: DirectoryFile = generate_large(users=2000, groups=10, memberships=5001, seed=3)

    assert len(data.users) == 2000
    assert data.groups is not None
    assert sum(len(g.members) for g in data.groups) == 5001
    assert all(len(set(g.members)) == len(g.members) for g in data.groups)
    assert generate_large(2000, 10, 5001, seed=3) == data
    assert parse_directory_json(json.dumps(data.to_json())) == data
