"""Specification of the SCIM filter, PATCH path and attribute-list parsers, and the in-memory matcher."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlist.scim.filter import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_LOGICAL_OPERATORS,
    FilterSyntaxError,
    matches,
    parse_attribute_list,
    parse_filter,
    parse_path,
)
from enlist.scim.filter_ast import (
    And,
    AttrPath,
    Compare,
    CompareOp,
    Filter,
    Not,
    Or,
    PatchPath,
    Present,
    Value,
    ValueFilter,
)

if TYPE_CHECKING:
    from collections.abc import Callable

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def path(name: str, sub: str | None = None, schema: str | None = None) -> AttrPath:
    return AttrPath(schema, name, sub)


def eq(attr: AttrPath, value: Value) -> Compare:
    return Compare(attr, "eq", value)


def value_of(text: str) -> Value:
    """The value `x eq <text>` compares with."""
    result = parse_filter(f"x eq {text}")
    assert isinstance(result, Compare)
    return result.value


# Attribute paths


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("userName", path("userName")),
        ("name.givenName", path("name", "givenName")),
        ("meta.lastModified", path("meta", "lastModified")),
        ("members.value", path("members", "value")),
        ("emails.value", path("emails", "value")),
        ("members.$ref", path("members", "$ref")),
        ("$ref", path("$ref")),
        ("x-ms_attr2", path("x-ms_attr2")),
        (f"{ENTERPRISE}:employeeNumber", path("employeeNumber", schema=ENTERPRISE)),
        (f"{ENTERPRISE}:manager.value", path("manager", "value", ENTERPRISE)),
        (f"{CORE_USER}:userName", path("userName", schema=CORE_USER)),
    ],
)
def test_attribute_path_splits_schema_name_and_sub_attribute(text: str, expected: AttrPath) -> None:
    assert parse_filter(f"{text} pr") == Present(expected)


def test_schema_is_everything_up_to_the_last_colon() -> None:
    result = parse_filter(f'{ENTERPRISE}:manager.value eq "{ENTERPRISE}:x"')
    assert result == eq(path("manager", "value", ENTERPRISE), f"{ENTERPRISE}:x")


def test_attribute_names_keep_the_spelling_the_client_sent() -> None:
    result = parse_filter('DisplayName eq "x"')
    assert result == eq(path("DisplayName"), "x")
    assert isinstance(result, Compare)
    assert result.attr.key == (None, "displayname", None)


# Operators


@pytest.mark.parametrize("op", ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])
def test_every_comparison_operator_is_parsed(op: CompareOp) -> None:
    assert parse_filter(f'title {op} "x"') == Compare(path("title"), op, "x")


@pytest.mark.parametrize("spelling", ["EQ", "Eq", "eQ"])
def test_operators_are_case_insensitive(spelling: str) -> None:
    assert parse_filter(f'userName {spelling} "bjensen"') == eq(path("userName"), "bjensen")


@pytest.mark.parametrize("spelling", ["pr", "PR", "Pr"])
def test_present_is_case_insensitive(spelling: str) -> None:
    assert parse_filter(f"title {spelling}") == Present(path("title"))


# Logical operators

A, B, C, D = (Present(path(name)) for name in "abcd")


def test_and_binds_tighter_than_or() -> None:
    assert parse_filter("a pr or b pr and c pr") == Or(A, And(B, C))
    assert parse_filter("a pr and b pr or c pr") == Or(And(A, B), C)


def test_not_binds_tighter_than_and() -> None:
    assert parse_filter("not (a pr) and b pr") == And(Not(A), B)


def test_and_and_or_are_left_associative() -> None:
    assert parse_filter("a pr and b pr and c pr") == And(And(A, B), C)
    assert parse_filter("a pr or b pr or c pr") == Or(Or(A, B), C)


def test_parentheses_override_precedence() -> None:
    assert parse_filter("(a pr or b pr) and c pr") == And(Or(A, B), C)
    assert parse_filter("a pr and (b pr or (c pr and d pr))") == And(A, Or(B, And(C, D)))


def test_not_applies_to_a_parenthesized_filter() -> None:
    assert parse_filter("not (a pr or b pr)") == Not(Or(A, B))
    assert parse_filter("not(a pr)") == Not(A)
    assert parse_filter("not (not (a pr))") == Not(Not(A))


@pytest.mark.parametrize("text", ["a pr AND b pr OR NOT (c pr)", "a pr And b pr Or Not (c pr)"])
def test_logical_operators_are_case_insensitive(text: str) -> None:
    assert parse_filter(text) == Or(And(A, B), Not(C))


def test_any_run_of_spaces_and_tabs_separates_tokens() -> None:
    assert parse_filter(' \t userName \t  eq\t\t"x"   and  ( a  pr )\t') == And(eq(path("userName"), "x"), A)


# Value paths


def test_value_path_filters_the_elements_of_a_multi_valued_attribute() -> None:
    assert parse_filter('emails[type eq "work"]') == ValueFilter(path("emails"), eq(path("type"), "work"))


def test_value_path_filter_may_combine_conditions() -> None:
    assert parse_filter('emails[type eq "work" and primary eq true]') == ValueFilter(
        path("emails"), And(eq(path("type"), "work"), eq(path("primary"), True))
    )


def test_value_path_may_follow_a_schema_urn() -> None:
    assert parse_filter(f'{ENTERPRISE}:manager[value eq "x"]') == ValueFilter(
        path("manager", schema=ENTERPRISE), eq(path("value"), "x")
    )


def test_value_path_combines_with_other_filters() -> None:
    assert parse_filter('userName pr and not (emails[type eq "work"])') == And(
        Present(path("userName")), Not(ValueFilter(path("emails"), eq(path("type"), "work")))
    )


def test_entra_sub_attribute_after_value_path_joins_the_value_filter() -> None:
    assert parse_filter('emails[type eq "work"].value eq "x"') == ValueFilter(
        path("emails"), And(eq(path("type"), "work"), eq(path("value"), "x"))
    )


def test_entra_sub_attribute_after_value_path_may_be_tested_for_presence() -> None:
    assert parse_filter('emails[type eq "work"].value pr') == ValueFilter(
        path("emails"), And(eq(path("type"), "work"), Present(path("value")))
    )


def test_entra_sub_attribute_form_is_one_operand_of_and() -> None:
    assert parse_filter('emails[type eq "work"].value eq "x" and a pr') == And(
        ValueFilter(path("emails"), And(eq(path("type"), "work"), eq(path("value"), "x"))), A
    )


# Values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"bjensen"', "bjensen"),
        ('""', ""),
        ('"say \\"hi\\""', 'say "hi"'),
        ('"back\\\\slash"', "back\\slash"),
        ('"caf\\u00e9"', "café"),
        ('"\\ud83d\\ude00"', "😀"),
        ('"a\\/b\\b\\f\\n\\r\\t"', "a/b\b\f\n\r\t"),
        ('"sales and (marketing) [emea]"', "sales and (marketing) [emea]"),
        ('"urn:x:y"', "urn:x:y"),
    ],
)
def test_quoted_value_is_a_json_string(text: str, expected: str) -> None:
    assert value_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("TRUE", True), ("True", True), ("false", False), ("False", False), ("null", None)],
)
def test_true_false_null_are_literals_in_any_case(text: str, expected: bool | None) -> None:
    assert value_of(text) is expected
    assert value_of(text.upper()) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("42", 42), ("-7", -7), ("12345678901234567890", 12345678901234567890)],
)
def test_integer_value_is_an_int(text: str, expected: int) -> None:
    value = value_of(text)
    assert type(value) is int
    assert value == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("1.5", 1.5), ("-0.25", -0.25), ("1e3", 1000.0), ("2.5E-2", 0.025)]
)
def test_fractional_or_exponent_value_is_a_float(text: str, expected: float) -> None:
    value = value_of(text)
    assert type(value) is float
    assert value == expected


@pytest.mark.parametrize(
    "word",
    [
        "jyoung",
        "O",
        "example.com",
        "test@contoso.com",
        "2015-10-10T14:38:21.8617979-07:00",
        "a/b+c_d-e:f",
        "007",
        "+5",
        "1.",
        "Müller",
    ],
)
def test_unquoted_value_is_a_bare_word(word: str) -> None:
    assert value_of(word) == word


def test_bare_word_ends_at_a_closing_parenthesis() -> None:
    assert parse_filter("(x eq jyoung)") == eq(path("x"), "jyoung")
    assert parse_filter("(x eq jyoung) or (x eq kyoung)") == Or(
        eq(path("x"), "jyoung"), eq(path("x"), "kyoung")
    )


def test_bare_word_ends_at_a_closing_bracket() -> None:
    assert parse_filter("emails[type eq work]") == ValueFilter(path("emails"), eq(path("type"), "work"))


# Entra ID and Microsoft's SCIM validator


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'userName eq "5f0c3a8e-9b1d-4c2f-8e3a-1d2c3b4a5f6e"',
            eq(path("userName"), "5f0c3a8e-9b1d-4c2f-8e3a-1d2c3b4a5f6e"),
        ),
        ("externalId eq jyoung", eq(path("externalId"), "jyoung")),
        ('displayName eq "Sales"', eq(path("displayName"), "Sales")),
        ('id eq "a" and members eq "b"', And(eq(path("id"), "a"), eq(path("members"), "b"))),
        ("id eq a and manager eq b", And(eq(path("id"), "a"), eq(path("manager"), "b"))),
        (
            "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)",
            And(
                eq(path("name", "FamilyName"), "Employee"),
                Or(
                    Compare(path("emails", "Value"), "co", "example.com"),
                    Compare(path("emails", "Value"), "co", "example.org"),
                ),
            ),
        ),
        ("userName sw O", Compare(path("userName"), "sw", "O")),
        (
            "meta.Created gt 2015-10-10T14:38:21.8617979-07:00",
            Compare(path("meta", "Created"), "gt", "2015-10-10T14:38:21.8617979-07:00"),
        ),
        ('DisplayName eq "x"', eq(path("DisplayName"), "x")),
        ("userName eq test@contoso.com", eq(path("userName"), "test@contoso.com")),
        ("emails.Value co example.com", Compare(path("emails", "Value"), "co", "example.com")),
    ],
)
def test_filters_entra_and_microsofts_validator_send(text: str, expected: Filter) -> None:
    assert parse_filter(text) == expected


# Errors


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "expected an attribute path at character 0, found the end of the filter"),
        ("   ", 3, "expected an attribute path at character 3"),
        ("userName", 8, 'expected an operator after "userName" at character 8, found the end of the filter'),
        ('userName foo "x"', 9, 'expected an operator after "userName" at character 9, found "foo"'),
        ("(userName pr", 12, 'unbalanced "(" at character 0: expected "and", "or" or ")" at character 12'),
        ("((a pr) or b pr", 15, 'unbalanced "(" at character 0'),
        ("userName pr)", 11, 'unexpected ")" at character 11'),
        ('emails[type eq "work"', 21, 'unbalanced "[" at character 6'),
        ("userName pr]", 11, 'unexpected "]" at character 11'),
        ('userName eq "bjensen', 12, "unterminated string starting at character 12"),
        ('userName eq "a\\"', 12, "unterminated string"),
        ("userName eq", 11, 'expected a value after "eq" at character 11, found the end of the filter'),
        ("(userName eq) and a pr", 12, 'expected a value after "eq" at character 12, found ")"'),
        ('userName eq "a" "b"', 16, 'expected "and", "or" or the end of the filter at character 16'),
        ('userName eq "a" title', 16, 'found "title"'),
        (
            'emails[type eq "work" and x[y pr]]',
            27,
            'unexpected "[" at character 27: value filters do not nest',
        ),
        ("userName pr and", 15, "expected an attribute path at character 15, found the end of the filter"),
        ("userName pr or ", 15, "expected an attribute path at character 15"),
        ("a pr and and b pr", 9, 'expected an attribute path at character 9, found "and"'),
        ("not userName pr", 4, 'expected "(" after "not" at character 4'),
        ('userName eq "\\x"', 13, "invalid string at character 13"),
        ("1userName pr", 0, 'expected an attribute name at character 0, found "1userName"'),
        ("name.given.name pr", 5, 'expected an attribute name at character 5, found "given.name"'),
        ("name. pr", 5, "expected an attribute name at character 5, found nothing"),
        ("foo:userName pr", 0, 'expected a schema URN at character 0, found "foo"'),
        (f"{ENTERPRISE}: pr", len(ENTERPRISE) + 1, "expected an attribute name"),
        ('"userName" pr', 0, 'expected an attribute path at character 0, found a string "userName"'),
        ("userName eq and", 12, 'expected a value after "eq" at character 12, found "and"'),
        ("userName ex x", 9, 'expected an operator after "userName"'),
        ('emails[type eq "work"].1x eq "a"', 23, 'expected an attribute name at character 23, found "1x"'),
        ('emails[type eq "work"].value', 28, 'expected an operator after "value" at character 28'),
        ('emails[type eq "work"] .value eq "x"', 23, 'found ".value"'),
        ("name.givenName[value pr]", 14, "a value filter follows an attribute, not the sub-attribute"),
        ("x eq 1e999", 5, "number out of range at character 5"),
        ('x eq "\\u0000"', 5, "U+0000 at character 5"),
        ('x eq "\\ud800"', 5, "U+D800 at character 5"),
        ("x eq a\x00b", 6, "U+0000 at character 6"),
    ],
)
def test_malformed_filter_is_a_syntax_error_at_its_position(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError, match=re.escape(message)) as caught:
        parse_filter(text)
    assert caught.value.position == position


def test_syntax_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_filter("userName")


def test_filter_longer_than_the_limit_is_refused() -> None:
    just_fits = "a eq " + "x" * (MAX_LENGTH - 5)
    assert parse_filter(just_fits) == eq(path("a"), "x" * (MAX_LENGTH - 5))
    with pytest.raises(FilterSyntaxError, match=f"longer than {MAX_LENGTH} characters") as caught:
        parse_filter(just_fits + "x")
    assert caught.value.position == MAX_LENGTH


def test_nesting_up_to_the_limit_is_accepted() -> None:
    result = parse_filter("(" * MAX_DEPTH + "a pr" + ")" * MAX_DEPTH)
    assert result == A


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    with pytest.raises(FilterSyntaxError, match=f"nests deeper than {MAX_DEPTH} levels") as caught:
        parse_filter("(" * (MAX_DEPTH + 1) + "a pr" + ")" * (MAX_DEPTH + 1))
    assert caught.value.position == MAX_DEPTH


def test_not_and_value_paths_count_toward_the_nesting_limit() -> None:
    text = "not (" * (MAX_DEPTH - 1) + 'emails[type eq "work"]' + ")" * (MAX_DEPTH - 1)
    assert isinstance(parse_filter(text), Not)
    with pytest.raises(FilterSyntaxError, match="nests deeper"):
        parse_filter("(" + text + ")")


@pytest.mark.parametrize("text", ["(" * 4000, "not (" * 800, "a[" * 2000, "(" * 5000])
def test_hostile_nesting_never_escapes_as_recursion_error(text: str) -> None:
    with pytest.raises(FilterSyntaxError):
        parse_filter(text)


def test_more_and_or_operators_than_the_limit_are_refused() -> None:
    allowed = " or ".join(["a pr"] * (MAX_LOGICAL_OPERATORS + 1))
    assert isinstance(parse_filter(allowed), Or)
    with pytest.raises(FilterSyntaxError, match=f"more than {MAX_LOGICAL_OPERATORS} conditions") as caught:
        parse_filter(allowed + " and b pr")
    assert caught.value.position == len(allowed) + 1


# PATCH paths


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("userName", PatchPath(path("userName"))),
        ("name.givenName", PatchPath(path("name", "givenName"))),
        (f"{ENTERPRISE}:manager", PatchPath(path("manager", schema=ENTERPRISE))),
        (f"{ENTERPRISE}:employeeNumber", PatchPath(path("employeeNumber", schema=ENTERPRISE))),
        (f"{ENTERPRISE}:name.x", PatchPath(path("name", "x", ENTERPRISE))),
        ('members[value eq "abc"]', PatchPath(path("members"), eq(path("value"), "abc"))),
        ('emails[type eq "work"].value', PatchPath(path("emails"), eq(path("type"), "work"), "value")),
        (
            'addresses[type eq "work"].streetAddress',
            PatchPath(path("addresses"), eq(path("type"), "work"), "streetAddress"),
        ),
        ('manager[value eq "x"]', PatchPath(path("manager"), eq(path("value"), "x"))),
        (
            f'members[value eq "{ENTERPRISE}:x"]',
            PatchPath(path("members"), eq(path("value"), f"{ENTERPRISE}:x")),
        ),
        (
            "members[value eq urn:a:b or value eq c]",
            PatchPath(path("members"), Or(eq(path("value"), "urn:a:b"), eq(path("value"), "c"))),
        ),
        (
            f'{ENTERPRISE}:manager[value eq "x"].displayName',
            PatchPath(path("manager", schema=ENTERPRISE), eq(path("value"), "x"), "displayName"),
        ),
        ("  userName  ", PatchPath(path("userName"))),
    ],
)
def test_patch_path_is_an_attribute_with_an_optional_filter_and_sub_attribute(
    text: str, expected: PatchPath
) -> None:
    assert parse_path(text) == expected


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "expected an attribute path at character 0, found the end of the path"),
        ("emails[", 7, "expected an attribute path at character 7, found the end of the path"),
        ('emails[type eq "work"', 21, 'unbalanced "["'),
        ("emails]", 6, 'unexpected "]" at character 6'),
        ("userName x", 9, 'expected "[" or the end of the path at character 9, found "x"'),
        ('emails[type eq "work"]x', 22, 'expected ".name" right after "]" or the end of the path'),
        ('emails[type eq "work"].value.x', 23, 'found "value.x"'),
        ('emails[type eq "work"].value x', 29, "expected the end of the path at character 29"),
        ('emails[x[y eq "z"]]', 8, "value filters do not nest"),
        ("name.x[y pr]", 6, "not the sub-attribute"),
        ("foo:bar", 0, "expected a schema URN"),
        ('"userName"', 0, "expected an attribute path"),
    ],
)
def test_malformed_patch_path_is_a_syntax_error_at_its_position(
    text: str, position: int, message: str
) -> None:
    with pytest.raises(FilterSyntaxError, match=re.escape(message)) as caught:
        parse_path(text)
    assert caught.value.position == position


# Attribute lists


def test_attribute_list_is_comma_separated_paths() -> None:
    assert parse_attribute_list(f"userName, name.givenName ,{ENTERPRISE}:employeeNumber") == [
        path("userName"),
        path("name", "givenName"),
        path("employeeNumber", schema=ENTERPRISE),
    ]


def test_attribute_list_skips_empty_items() -> None:
    assert parse_attribute_list(",userName,, ,displayName,") == [path("userName"), path("displayName")]
    assert parse_attribute_list("") == []
    assert parse_attribute_list("  ") == []


def test_attribute_list_item_with_a_filter_names_its_attribute() -> None:
    assert parse_attribute_list('emails[type eq "work"]') == [path("emails")]
    assert parse_attribute_list('emails[type eq "a,b"], userName') == [path("emails"), path("userName")]


def test_attribute_list_item_with_a_filter_and_sub_attribute_names_the_sub_attribute() -> None:
    assert parse_attribute_list('emails[type eq "work"].value') == [path("emails", "value")]


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("userName displayName", 9, 'expected "," or the end of the attribute list at character 9'),
        ("emails[type eq", 14, 'expected a value after "eq" at character 14'),
        ("userName,1x", 9, "expected an attribute name at character 9"),
    ],
)
def test_malformed_attribute_list_is_a_syntax_error(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError, match=re.escape(message)) as caught:
        parse_attribute_list(text)
    assert caught.value.position == position


# Evaluating filters

USER: dict[str, Any] = {
    "schemas": [CORE_USER, ENTERPRISE],
    "id": "2819c223-7f76",
    "externalId": "BJensen",
    "userName": "BJensen@example.com",
    "name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": ""},
    "active": True,
    "loginCount": 7,
    "nickName": None,
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    "phoneNumbers": [],
    "meta": {"created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z"},
    ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
}
GROUP: dict[str, Any] = {"id": "g1", "displayName": "Sales", "members": [{"value": "u1"}, {"value": "u2"}]}


def user_matches(text: str) -> bool:
    return matches(parse_filter(text), USER)


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "bjensen@example.com"',
        'USERNAME eq "BJensen@example.com"',
        "username EQ bjensen@EXAMPLE.com",
        'id eq "2819c223-7f76"',
        'externalId eq "BJensen"',
        'name.givenName sw "bar"',
        'name.FAMILYNAME ew "SEN"',
        'emails.value co "jensen.org"',
        'emails co "example.com"',
        'emails[type eq "work" and primary eq true]',
        'emails[type eq "home"].value eq "babs@jensen.org"',
        'emails[type eq "work"].value pr',
        f'{ENTERPRISE}:employeeNumber eq "701984"',
        f'{ENTERPRISE.lower()}:EMPLOYEENUMBER eq "701984"',
        f'{ENTERPRISE}:manager.value eq "26118915"',
        f'{ENTERPRISE}:manager eq "26118915"',
        f'{ENTERPRISE}:manager[value eq "26118915"]',
        f'{CORE_USER}:userName sw "bjensen"',
        'meta.lastModified gt "2011-05-13T04:42:33Z"',
        "meta.created lt 2011-01-01T00:00:00Z",
        'meta.lastModified ge "2011-05-13T04:42:34Z"',
        "loginCount gt 6",
        "loginCount le 7.0",
        "loginCount ne 8",
        "active eq true",
        "active ne false",
        "userName pr",
        "emails pr",
        "nickName eq null",
        "title eq null",
        "userName ne null",
        'not (userName eq "someone")',
        'userName eq "x" or active eq true',
        'userName pr and (title pr or emails[type eq "work"])',
    ],
)
def test_document_matches(text: str) -> None:
    assert user_matches(text)


@pytest.mark.parametrize(
    "text",
    [
        'id eq "2819C223-7F76"',
        'externalId eq "bjensen"',
        'externalId sw "bj"',
        'emails[type eq "work"].value eq "babs@jensen.org"',
        'emails[type eq "fax"]',
        'emails[type eq "home"].value pr and emails[type eq "home" and primary eq true]',
        f"{ENTERPRISE}:costCenter pr",
        'urn:example:ext:2.0:User:employeeNumber eq "701984"',
        'userName gt "c"',
        "loginCount gt 7",
        'loginCount eq "7"',
        "active eq 1",
        'active eq "true"',
        "active gt false",
        "name.middleName pr",
        "nickName pr",
        "phoneNumbers pr",
        "title pr",
        'title eq "x"',
        'title ne "x"',
        "userName eq null",
        'not (userName pr) or userName eq "x"',
    ],
)
def test_document_does_not_match(text: str) -> None:
    assert not user_matches(text)


def test_group_members_match_by_value() -> None:
    assert matches(parse_filter('id eq "g1" and members eq "u2"'), GROUP)
    assert matches(parse_filter('members[value eq "U1"]'), GROUP)
    assert not matches(parse_filter('id eq "g1" and members eq "u3"'), GROUP)


# Properties

KEYWORDS = {"and", "or", "not"}
SCHEMAS = [ENTERPRISE, CORE_USER, "urn:example:ext:1.0"]

names = st.one_of(
    st.just("$ref"),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,8}", fullmatch=True).filter(
        lambda name: name.lower() not in KEYWORDS
    ),
)
attr_paths = st.builds(AttrPath, st.none() | st.sampled_from(SCHEMAS), names, st.none() | names)
sub_paths = st.builds(AttrPath, st.none(), names, st.none() | names)
storable_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
values: st.SearchStrategy[Value] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    storable_text,
    st.from_regex(r"[A-Za-z][A-Za-z0-9@.:+/_-]{0,12}", fullmatch=True),
)
ops = st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])


def conditions(paths: st.SearchStrategy[AttrPath]) -> st.SearchStrategy[Filter]:
    return st.builds(Compare, paths, ops, values) | st.builds(Present, paths)


def combined(leaves: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    return st.recursive(
        leaves,
        lambda inner: st.builds(And, inner, inner) | st.builds(Or, inner, inner) | st.builds(Not, inner),
        max_leaves=6,
    )


value_filters = st.builds(
    ValueFilter,
    st.builds(AttrPath, st.none() | st.sampled_from(SCHEMAS), names),
    combined(conditions(sub_paths)),
)
filters = combined(conditions(attr_paths) | value_filters)

BARE = re.compile(r"[A-Za-z][A-Za-z0-9@.:+/_-]*")
PRECEDENCE = {Or: 1, And: 2}


def render_value(value: Value, bare: bool) -> str:
    """A value as a client would write it; `bare` leaves words unquoted where that is unambiguous."""
    if isinstance(value, str):
        unquoted_is_a_word = BARE.fullmatch(value) and value.lower() not in {
            *KEYWORDS,
            "true",
            "false",
            "null",
        }
        return value if bare and unquoted_is_a_word else json.dumps(value, ensure_ascii=bare)
    return json.dumps(value)


def render(node: Filter, bare: bool, context: int = 0) -> str:
    """The text of `node`, with parentheses only where precedence needs them."""
    match node:
        case Compare(attr, op, value):
            return f"{attr} {op} {render_value(value, bare)}"
        case Present(attr):
            return f"{attr} pr"
        case ValueFilter(attr, inner):
            return f"{attr}[{render(inner, bare)}]"
        case Not(inner):
            return f"not ({render(inner, bare)})"
        case And(left, right) | Or(left, right):
            own = PRECEDENCE[type(node)]
            keyword = "and" if isinstance(node, And) else "or"
            text = f"{render(left, bare, own)} {keyword} {render(right, bare, own + 1)}"
            return f"({text})" if own < context else text
    raise AssertionError(node)


def parse_or_error(parse: Callable[[str], object], text: str) -> object:
    """What `parse` returns for `text`, or the FilterSyntaxError it raises; anything else escapes."""
    try:
        return parse(text)
    except FilterSyntaxError as error:
        return error


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    result = parse_or_error(parse_filter, text)
    if isinstance(result, FilterSyntaxError):
        assert 0 <= result.position <= len(text)
    else:
        assert isinstance(result, Compare | Present | ValueFilter | And | Or | Not)


@given(st.text(alphabet='aeqnotrpd ()[]".:\\u0-1', max_size=200))
def test_filter_like_text_parses_or_raises_a_syntax_error(text: str) -> None:
    for parse in (parse_filter, parse_path, parse_attribute_list):
        result = parse_or_error(parse, text)
        if isinstance(result, FilterSyntaxError):
            assert 0 <= result.position <= len(text)


@given(filters, st.booleans())
def test_rendered_filter_parses_back_to_the_same_tree(tree: Filter, bare: bool) -> None:
    assert parse_filter(render(tree, bare)) == tree


@given(attr_paths, st.none() | combined(conditions(sub_paths)), st.none() | names)
def test_rendered_patch_path_parses_back_to_the_same_path(
    attr: AttrPath, value_filter: Filter | None, sub: str | None
) -> None:
    if value_filter is None:
        expected, text = PatchPath(attr), str(attr)
    else:
        attr = AttrPath(attr.schema, attr.name)
        expected = PatchPath(attr, value_filter, sub)
        text = f"{attr}[{render(value_filter, bare=False)}]" + (f".{sub}" if sub else "")
    assert parse_path(text) == expected
