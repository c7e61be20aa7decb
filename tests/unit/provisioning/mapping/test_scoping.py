"""Specification of scoping filters: each operator, the null rule, AND within a filter, OR across
filters, the explanation the provisioning log shows, validation and storage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlist.provisioning.mapping.errors import ScopingError
from enlist.provisioning.mapping.scoping import (
    OPERATORS,
    ClauseResult,
    ScopingClause,
    ScopingFilter,
    ScopingOperator,
    explain,
    filters_from_json,
    filters_to_json,
    in_scope,
)


def holds(operator: ScopingOperator, value: str, actual: Any) -> bool:
    clause = ScopingClause("attr", operator, value)
    return in_scope([ScopingFilter((clause,))], {"attr": actual})


# --- each operator ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "actual", "expected"),
    [
        ("EQUALS", "Sales", "Sales", True),
        ("EQUALS", "Sales", "sales", False),  # case-sensitive
        ("EQUALS", "True", True, True),  # a Boolean reads as "True"/"False"
        ("EQUALS", "42", 42, True),
        ("NOT EQUALS", "Sales", "sales", True),
        ("NOT EQUALS", "Sales", "Sales", False),
        ("IS TRUE", "", True, True),
        ("IS TRUE", "", "true", True),
        ("IS TRUE", "", False, False),
        ("IS TRUE", "", "yes", False),
        ("IS FALSE", "", False, True),
        ("IS FALSE", "", "False", True),
        ("IS FALSE", "", True, False),
        ("IS NULL", "", "x", False),
        ("IS NOT NULL", "", "x", True),
        ("REGEX MATCH", r".*\@domain.com", "a@domain.com", True),
        ("REGEX MATCH", r".*\@domain.com", "a@other.com", False),
        ("REGEX MATCH", "([1-9][0-9])", "ab42", True),  # a match anywhere, as .NET's IsMatch
        ("REGEX MATCH", "sales", "Sales", False),  # case-sensitive
        ("REGEX MATCH", "(1[0-9][0-9][0-9][0-9][0-9][0-9])", 1500000, True),
        ("NOT REGEX MATCH", r".*\@domain.com", "a@other.com", True),
        ("NOT REGEX MATCH", r".*\@domain.com", "a@domain.com", False),
        ("Includes", "eng", "Engineering", False),
        ("Includes", "ngin", "Engineering", True),
        ("ENDS_WITH", "@contoso.com", "a@contoso.com", True),
        ("ENDS_WITH", "@contoso.com", "a@CONTOSO.com", False),
        ("Greater_Than", "1000000", "1000001", True),
        ("Greater_Than", "1000000", 1000000, False),
        ("Greater_Than", "10", "9", False),  # integers, not text
        ("Greater_Than", "10", "abc", False),
        ("Greater_Than", "0", True, False),  # a Boolean is not an integer
        ("Greater_Than_OR_EQUALS", "1000000", 1000000, True),
        ("Greater_Than_OR_EQUALS", "1000000", "999999", False),
        ("&", "2", 514, True),  # userAccountControl with ACCOUNTDISABLE
        ("&", "2", 512, False),
        ("&", "6", 514, False),  # every bit of the value must be set
        ("!&", "2", 512, True),
        ("!&", "2", 514, False),
        ("!&", "2", "abc", False),
    ],
)
def test_each_operator(operator: ScopingOperator, value: str, actual: Any, expected: bool) -> None:
    assert holds(operator, value, actual) is expected


@pytest.mark.parametrize("operator", OPERATORS)
@pytest.mark.parametrize("empty", [None, "", []])
def test_on_a_null_or_empty_value_every_clause_is_false_but_is_null(
    operator: ScopingOperator, empty: Any
) -> None:
    value = "1" if operator in ("Greater_Than", "Greater_Than_OR_EQUALS", "&", "!&") else "x"
    assert holds(operator, value, empty) is (operator == "IS NULL")


def test_a_missing_attribute_is_null() -> None:
    clause = ScopingClause("department", "IS NULL")
    assert in_scope([ScopingFilter((clause,))], {})


@pytest.mark.parametrize("operator", [op for op in OPERATORS if op not in ("IS NULL", "IS NOT NULL")])
def test_multi_valued_attributes_cannot_be_filtered(operator: ScopingOperator) -> None:
    value = "1" if operator in ("Greater_Than", "Greater_Than_OR_EQUALS", "&", "!&") else "a"
    assert holds(operator, value, ["a", "1"]) is False


def test_attribute_names_match_case_insensitively() -> None:
    clause = ScopingClause("Department", "EQUALS", "Sales")
    assert in_scope([ScopingFilter((clause,))], {"department": "Sales"})


# --- AND and OR ---------------------------------------------------------------------------------------

NEW_YORK_ENGINEERS = ScopingFilter(
    (
        ScopingClause("state", "EQUALS", "New York"),
        ScopingClause("department", "EQUALS", "Engineering"),
        ScopingClause("employeeId", "Greater_Than_OR_EQUALS", "1000000"),
        ScopingClause("jobTitle", "IS NOT NULL"),
    ),
    title="New York engineers",
)
SALES = ScopingFilter((ScopingClause("department", "EQUALS", "Sales"),), title="Sales")
ENGINEER = {"state": "New York", "department": "Engineering", "employeeId": "1500000", "jobTitle": "Dev"}


def test_no_filters_put_everything_in_scope() -> None:
    assert in_scope([], {})


def test_a_filter_needs_every_clause() -> None:
    assert in_scope([NEW_YORK_ENGINEERS], ENGINEER)
    assert not in_scope([NEW_YORK_ENGINEERS], {**ENGINEER, "jobTitle": None})


def test_several_filters_need_any_one() -> None:
    assert in_scope([NEW_YORK_ENGINEERS, SALES], {"department": "Sales"})
    assert in_scope([NEW_YORK_ENGINEERS, SALES], ENGINEER)
    assert not in_scope([NEW_YORK_ENGINEERS, SALES], {"department": "Legal"})


def test_explain_lists_every_clause_and_says_which_failed() -> None:
    results = explain([NEW_YORK_ENGINEERS, SALES], {**ENGINEER, "state": "Ohio"})
    assert [(r.filter_index, r.clause_index, r.passed) for r in results] == [
        (0, 0, False),
        (0, 1, True),
        (0, 2, True),
        (0, 3, True),
        (1, 0, False),
    ]
    assert results[0] == ClauseResult(0, 0, NEW_YORK_ENGINEERS.clauses[0], False, "Ohio", 'state is "Ohio"')
    assert results[4].reason == 'department is "Engineering"'


def test_explain_gives_the_reason_for_empty_and_multi_valued_values() -> None:
    filters = [
        ScopingFilter((ScopingClause("jobTitle", "EQUALS", "x"), ScopingClause("groups", "EQUALS", "x")))
    ]
    reasons = [r.reason for r in explain(filters, {"groups": ["x"]})]
    assert reasons == ["jobTitle is empty", "groups is multi-valued, which scoping filters cannot test"]


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "operator", "value", "message"),
    [
        (
            "department",
            "equals",
            "x",
            'unknown scoping operator "equals" on department; did you mean EQUALS?',
        ),
        ("department", "CONTAINS", "x", 'unknown scoping operator "CONTAINS" on department'),
        ("upn", "REGEX MATCH", "([a-z]", 'invalid regular expression "\\(\\[a-z\\]" in upn REGEX MATCH'),
        (
            "employeeId",
            "Greater_Than",
            "1e6",
            'employeeId Greater_Than needs a whole number as its value, got "1e6"',
        ),
        ("flags", "&", "", 'flags & needs a whole number as its value, got ""'),
        (" ", "IS NULL", "", "a scoping clause needs an attribute name"),
    ],
)
def test_invalid_clauses_are_refused_when_built(
    attribute: str, operator: Any, value: str, message: str
) -> None:
    with pytest.raises(ScopingError, match=message):
        ScopingClause(attribute, operator, value)


def test_a_filter_needs_a_clause() -> None:
    with pytest.raises(ScopingError, match='scoping filter "empty" has no clauses'):
        ScopingFilter((), title="empty")


def test_regex_clauses_accept_dotnet_named_groups() -> None:
    assert holds("REGEX MATCH", r"^(?<local>[^@]+)@contoso\.com$", "a@contoso.com")


def test_operators_without_a_value_ignore_it() -> None:
    assert holds("IS NOT NULL", "ignored", "x")


# --- storage --------------------------------------------------------------------------------------


def test_filters_round_trip_through_json() -> None:
    filters = (NEW_YORK_ENGINEERS, SALES)
    stored = json.loads(json.dumps(filters_to_json(filters)))
    assert filters_from_json(stored) == filters
    assert stored[1] == {
        "title": "Sales",
        "clauses": [{"attribute": "department", "operator": "EQUALS", "value": "Sales"}],
    }


_CLAUSES = st.builds(
    ScopingClause,
    attribute=st.sampled_from(["department", "employeeId", "userPrincipalName"]),
    operator=st.sampled_from(["EQUALS", "NOT EQUALS", "IS NULL", "Includes", "ENDS_WITH"]),
    value=st.text(max_size=10),
)


@given(
    st.lists(
        st.builds(ScopingFilter, st.lists(_CLAUSES, min_size=1, max_size=3).map(tuple), st.text(max_size=8)),
        max_size=3,
    )
)
def test_any_filters_round_trip_through_json(filters: list[ScopingFilter]) -> None:
    assert filters_from_json(json.loads(json.dumps(filters_to_json(filters)))) == tuple(filters)


@pytest.mark.parametrize(
    "stored",
    [
        {},
        [{"title": "t"}],
        [{"title": 1, "clauses": []}],
        [{"title": "t", "clauses": [{"attribute": "a", "operator": "EQUALS"}]}],
        [{"title": "t", "clauses": [{"attribute": "a", "operator": "LIKE", "value": "x"}]}],
        [{"title": "t", "clauses": []}],
    ],
)
def test_malformed_stored_filters_are_scoping_errors(stored: Any) -> None:
    with pytest.raises(ScopingError):
        filters_from_json(stored)
