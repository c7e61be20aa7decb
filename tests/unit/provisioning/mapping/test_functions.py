"""Specification of each expression function: Microsoft's documented examples, null handling,
and Entra's booleans-as-strings."""

from __future__ import annotations

from typing import Any

import pytest

from enlist.provisioning.mapping.errors import EvaluationError
from enlist.provisioning.mapping.expression import Value, evaluate, parse_expression


def run(text: str, **source: Any) -> Value:
    return evaluate(parse_expression(text), source)


# --- attributes and literals ----------------------------------------------------------------------


def test_an_attribute_is_looked_up_case_insensitively() -> None:
    assert run("[GIVENNAME]", givenName="John") == "John"


def test_an_exact_attribute_name_wins_over_other_spellings() -> None:
    assert evaluate(parse_expression("[mail]"), {"MAIL": "upper", "mail": "exact"}) == "exact"


def test_a_missing_attribute_is_null() -> None:
    assert run("[mail]") is None


def test_source_values_keep_their_type() -> None:
    assert run("[accountEnabled]", accountEnabled=True) is True
    assert run("[employeeNumber]", employeeNumber=42) == 42
    assert run("[proxyAddresses]", proxyAddresses=["a", None, "b"]) == ["a", "b"]


def test_an_empty_list_attribute_is_null() -> None:
    assert run("[businessPhones]", businessPhones=[]) is None


def test_an_object_attribute_cannot_be_read() -> None:
    with pytest.raises(EvaluationError, match=r"attribute \[x\] holds dict data"):
        run("[x]", x={"a": 1})


# --- Append, Join, Coalesce --------------------------------------------------------------------------


def test_append_documented_example() -> None:
    assert run('Append([userPrincipalName], ".test")', userPrincipalName="John.Doe@contoso.com") == (
        "John.Doe@contoso.com.test"
    )


def test_append_of_null_is_null() -> None:
    assert run('Append([userPrincipalName], ".test")') is None


def test_join_default_name_formatted_mapping() -> None:
    assert run('Join(" ", [givenName], [surname])', givenName="John", surname="Doe") == "John Doe"


def test_join_skips_null_and_empty_values_as_in_the_documented_example() -> None:
    assert run('Join(", ", "", [surname], [givenName])', givenName="John", surname="Doe") == "Doe, John"
    assert run('Join(" ", [givenName], [surname])', givenName="John") == "John"


def test_join_of_nothing_is_null() -> None:
    assert run('Join(" ", [givenName], [surname])') is None


def test_join_flattens_multi_valued_attributes_and_writes_numbers() -> None:
    assert run('Join(";", [proxyAddresses], 1000)', proxyAddresses=["a", "b"]) == "a;b;1000"


def test_coalesce_documented_example() -> None:
    assert run("Coalesce([mail],[userPrincipalName])", userPrincipalName="John.Doe@contoso.com") == (
        "John.Doe@contoso.com"
    )


def test_coalesce_returns_the_default_when_all_are_null_and_null_without_one() -> None:
    assert run('Coalesce([mail], [upn], "none")') == "none"
    assert run("Coalesce([mail], [upn])") is None


def test_coalesce_keeps_an_empty_string_which_is_not_null() -> None:
    assert run('Coalesce([mail], "x")', mail="") == ""


# --- Switch and IIF ------------------------------------------------------------------------------------

ACTIVE = 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'


@pytest.mark.parametrize(("soft_deleted", "active"), [(False, "True"), (True, "False")])
def test_the_default_active_switch_flips_is_soft_deleted(soft_deleted: bool, active: str) -> None:
    assert run(ACTIVE, IsSoftDeleted=soft_deleted) == active


def test_switch_documented_example() -> None:
    text = 'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")'
    assert run(text, state="QLD") == "Australia/Brisbane"
    assert run(text, state="TAS") == "Australia/Sydney"


def test_switch_keys_are_case_sensitive() -> None:
    assert run('Switch([flag], "default", "true", "1")', flag="True") == "default"
    assert run('Switch(ToLower([flag]), "default", "true", "1")', flag="TRUE") == "1"


def test_switch_with_an_empty_key_matches_a_null_or_empty_source() -> None:
    text = 'Switch([statusFlag], "Default Value", "true", "1", "", "0")'
    assert run(text) == "0"
    assert run(text, statusFlag="") == "0"
    assert run(text, statusFlag="true") == "1"


def test_switch_with_an_empty_default_is_null_when_nothing_matches() -> None:
    assert run(ACTIVE, IsSoftDeleted="maybe") is None


def test_switch_returns_the_value_of_the_first_matching_key() -> None:
    assert run('Switch([a], "d", "x", "first", "x", "second")', a="x") == "first"


def test_iif_documented_example() -> None:
    text = 'IIF([country]="USA",[country],[department])'
    assert run(text, country="USA", department="Sales") == "USA"
    assert run(text, country="FR", department="Sales") == "Sales"


def test_iif_nested_for_and_and_or_as_documented() -> None:
    conjunction = 'IIF([country]="USA",IIF([state]="CA","True","False"),"False")'
    disjunction = 'IIF([country]="USA","True",IIF([state]="CA","True","False"))'
    assert run(conjunction, country="USA", state="CA") == "True"
    assert run(conjunction, country="USA", state="NY") == "False"
    assert run(disjunction, country="FR", state="CA") == "True"
    assert run(disjunction, country="FR", state="NY") == "False"


def test_iif_fails_to_null_when_the_compared_attribute_is_null_or_empty() -> None:
    assert run('IIF([country]="","Other",[country])', country="") is None
    assert run('IIF([country]="FR","fr","en")') is None


def test_iif_accepts_functions_that_give_true_or_false() -> None:
    assert run('IIF(IsPresent([mail]), [mail], "none")') == "none"
    assert run('IIF(IsPresent([mail]), [mail], "none")', mail="a@x") == "a@x"


def test_iif_refuses_a_condition_that_is_not_boolean() -> None:
    with pytest.raises(EvaluationError, match='IIF needs a condition that is True or False, got "abc"'):
        run('IIF("abc", 1, 2)')


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('[a] <> "x"', "True"),
        ("[n] > 9", "True"),  # 10 > 9 as numbers, though "10" < "9" as text
        ("[n] >= 10", "True"),
        ("[n] < 9", "False"),
        ("[n] <= 10", "True"),
        ('[a] > "w"', "True"),
        ('[a] = "Y"', "False"),
    ],
)
def test_comparisons_compare_integers_as_numbers_and_text_ordinally(condition: str, expected: str) -> None:
    assert run(f"CStr({condition})", a="y", n="10") == expected


def test_a_condition_on_a_list_of_several_values_is_an_error() -> None:
    with pytest.raises(EvaluationError, match="the left side of = expects a single value, got a list of 2"):
        run('IIF([p] = "a", 1, 2)', p=["a", "b"])


# --- booleans ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("True", "False"), ("False", "True"), (True, "False"), ("true", "False")]
)
def test_not_flips_boolean_strings(value: Any, expected: str) -> None:
    assert run("Not([v])", v=value) == expected


def test_not_of_anything_but_true_is_true_as_documented_and_null_stays_null() -> None:
    assert run('Not("maybe")') == "True"
    assert run("Not([v])") is None


def test_not_is_soft_deleted_equals_the_default_active_switch() -> None:
    for flag in (True, False):
        assert run("Not([IsSoftDeleted])", IsSoftDeleted=flag) == run(ACTIVE, IsSoftDeleted=flag)


def test_is_soft_deleted_reads_the_computed_flag_as_a_function_too() -> None:
    assert run("IsSoftDeleted()", IsSoftDeleted=True) == "True"
    assert run("IsSoftDeleted()", IsSoftDeleted=False) == "False"
    assert run("IsSoftDeleted()") == "False"


@pytest.mark.parametrize(
    ("value", "expected"), [(True, "True"), ("false", "False"), (0, "False"), (5, "True"), ("-2", "True")]
)
def test_cbool_reads_booleans_and_non_zero_numbers(value: Any, expected: str) -> None:
    assert run("CBool([v])", v=value) == expected


def test_cbool_of_a_comparison_as_documented() -> None:
    assert run("CBool([attribute1] = [attribute2])", attribute1="x", attribute2="x") == "True"


def test_cbool_of_null_is_null_and_of_other_text_an_error() -> None:
    assert run("CBool([v])") is None
    with pytest.raises(EvaluationError, match='CBool cannot read "abc" as a Boolean'):
        run('CBool("abc")')


@pytest.mark.parametrize(
    ("function", "null", "empty", "text"),
    [
        ("IsNull", "True", "False", "False"),
        ("IsNullOrEmpty", "True", "True", "False"),
        ("IsPresent", "False", "False", "True"),
        ("IsString", "False", "True", "True"),
    ],
)
def test_null_tests_return_boolean_strings(function: str, null: str, empty: str, text: str) -> None:
    assert run(f"{function}([v])") == null
    assert run(f"{function}([v])", v="") == empty
    assert run(f"{function}([v])", v="x") == text


def test_is_string_is_false_for_a_number() -> None:
    assert run("IsString([v])", v=3) == "False"


# --- conversions -------------------------------------------------------------------------------------


def test_cstr_writes_booleans_and_numbers_as_dotnet_does() -> None:
    assert run("CStr([v])", v=True) == "True"
    assert run("CStr([v])", v=12) == "12"
    assert run('CStr("cn=Joe,dc=contoso,dc=com")') == "cn=Joe,dc=contoso,dc=com"
    assert run("CStr([v])") is None


def test_convert_to_base64_is_utf16_as_documented() -> None:
    assert run('ConvertToBase64("Hello world!")') == "SABlAGwAbABvACAAdwBvAHIAbABkACEA"


def test_convert_to_utf8_hex_as_documented() -> None:
    assert run('ConvertToUTF8Hex("Hello world!")') == "48656C6C6F20776F726C6421"


def test_bit_and_of_numbers() -> None:
    assert run("BitAnd(15, 247)") == 7
    assert run("BitAnd([v], 2)") is None


# --- substrings ----------------------------------------------------------------------------------------


def test_left_documented_rules() -> None:
    assert run('Left("John Doe", 3)') == "Joh"
    assert run('Left("John Doe", 0)') == ""
    assert run('Left("John Doe", -1)') == "John Doe"
    assert run('Left("Jo", 5)') == "Jo"
    assert run("Left([v], 3)") == ""  # documented: a null string gives an empty string


def test_mid_is_one_based_and_stops_at_the_end() -> None:
    assert (
        run("Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))", givenName="John", surname="Doe")
        == "JohDoe"
    )
    assert run('Mid("abcdef", 3, 2)') == "cd"
    assert run('Mid("abc", 2, 10)') == "bc"
    assert run('Mid("abc", 9, 1)') == ""
    assert run("Mid([v], 1, 1)") is None


def test_mid_refuses_a_start_before_the_first_character_and_text_for_numbers() -> None:
    with pytest.raises(EvaluationError, match="Mid needs a start of 1 or more"):
        run('Mid("abc", 0, 1)')
    with pytest.raises(EvaluationError, match='Mid argument 2 expects a whole number, got "x"'):
        run('Mid("abc", "x", 1)')


def test_numbers_may_come_as_digit_strings() -> None:
    assert run('Left("abc", [n])', n="2") == "ab"


def test_word_documented_examples() -> None:
    assert run('Word("The quick brown fox",3," ")') == "brown"
    assert run('Word("This,string!has&many separators",3,",!&#")') == "has"


def test_word_out_of_range_and_null_are_empty() -> None:
    assert run('Word("a b", 0, " ")') == ""
    assert run('Word("a b", 3, " ")') == ""
    assert run('Word([v], 1, " ")') == ""


def test_len_counts_characters() -> None:
    assert run('Len("Zoë")') == 3
    assert run("Len([v])") is None


# --- case and characters -------------------------------------------------------------------------------


def test_to_lower_documented_upn_example() -> None:
    text = 'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))'
    assert run(text, PreferredFirstName="John", PreferredLastName="Smith") == "john.smith@contoso.com"


def test_to_upper_and_to_lower_accept_a_culture_and_map_one_character_for_one() -> None:
    assert run('ToUpper("straße", "de-DE")') == "STRAßE"
    assert run('ToLower("ÉCOLE", "fr-FR")') == "école"
    assert run("ToUpper([v])") is None


def test_strip_spaces_removes_only_spaces() -> None:
    assert run('StripSpaces(" a b\tc ")') == "ab\tc"


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("Zoë", "Zoe"),
        ("Crème Brûlée", "Creme Brulee"),
        ("Straße", "Strasse"),
        ("Æsir Ærø", "AEsir AEroe"),
        ("Łukasz Żółć", "Lukasz Zolc"),
        ("Ørsted", "OErsted"),
        ("İlkay \u0131l\u0131k", "Ilkay ilik"),  # dotted capital and dotless small i
        ("Ştefan \u021aara", "Stefan Tara"),  # T with comma below, as in the table
        ("Ā́", "A"),
        ("e\u0301", "e"),  # decomposed input matches like precomposed
        ("đ œ Ħ", "đ œ Ħ"),  # letters outside Entra's table are kept
    ],
)
def test_normalize_diacritics_follows_entras_table(given: str, normalized: str) -> None:
    assert run("NormalizeDiacritics([v])", v=given) == normalized


def test_pcase_documented_examples() -> None:
    assert run("PCase([firstName])", firstName="PABLO GONSALVES (SECOND)") == "Pablo Gonsalves (Second)"
    assert run('PCase([lastName]," \'-")', lastName="PINTO-DE'SILVA") == "Pinto-De'Silva"
    assert (
        run('PCase(Join(" ",[firstName],[lastName]))', firstName="GREGORY", lastName="JAMES")
        == "Gregory James"
    )


def test_pcase_with_separators_only_splits_on_them() -> None:
    assert run('PCase("JEAN-LUC PICARD", " ")') == "Jean-luc Picard"


# --- multi-valued --------------------------------------------------------------------------------------


def test_split_documented_example() -> None:
    assert run(
        'Split([extensionAttribute5], ",")', extensionAttribute5="PermissionSetOne, PermissionSetTwo"
    ) == [
        "PermissionSetOne",
        "PermissionSetTwo",
    ]


def test_split_of_null_is_null_and_an_empty_delimiter_keeps_the_whole() -> None:
    assert run('Split([v], ",")') is None
    assert run('Split("a,b", "")') == ["a,b"]


def test_item_is_one_based_on_a_split_for_a_matching_value() -> None:
    assert run('Item(Split([userPrincipalName], "@"), 1)', userPrincipalName="jdoe@contoso.com") == "jdoe"


def test_item_out_of_range_or_of_null_is_null() -> None:
    assert run("Item([proxyAddresses], 0)", proxyAddresses=["a"]) is None
    assert run("Item([proxyAddresses], 2)", proxyAddresses=["a"]) is None
    assert run("Item([proxyAddresses], 1)") is None


def test_count_counts_values() -> None:
    assert run("Count([proxyAddresses])", proxyAddresses=["a", "b", "c"]) == 3
    assert run("Count([mail])", mail="a") == 1
    assert run("Count([proxyAddresses])") == 0


def test_remove_duplicates_keeps_first_occurrences_case_sensitively() -> None:
    assert run("RemoveDuplicates([p])", p=["a", "B", "a", "b"]) == ["a", "B", "b"]
    assert run("RemoveDuplicates([p])") is None


def test_a_single_value_where_a_list_of_several_is_given_is_an_error() -> None:
    with pytest.raises(EvaluationError, match="ToLower argument 1 expects a single value, got a list of 2"):
        run("ToLower([p])", p=["a", "b"])


def test_a_one_element_list_reads_as_its_element() -> None:
    assert run("ToLower([p])", p=["A"]) == "a"


# --- the rest ------------------------------------------------------------------------------------------


def test_guid_uses_the_generator_given() -> None:
    assert evaluate(
        parse_expression("Guid()"), {}, new_guid=lambda: "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
    ) == ("00aa00aa-bb11-cc22-dd33-44ee44ee44ee")


def test_guid_by_default_is_a_fresh_uuid() -> None:
    first, second = run("Guid()"), run("Guid()")
    assert isinstance(first, str)
    assert len(first) == 36
    assert first != second


def test_redact_passes_its_value_through() -> None:
    assert run("Redact([userPrincipalName])", userPrincipalName="a@x") == "a@x"


def test_ignore_flow_if_null_or_empty_drops_empty_values() -> None:
    assert run("IgnoreFlowIfNullOrEmpty([department])", department="") is None
    assert run("IgnoreFlowIfNullOrEmpty([department])", department="R&D") == "R&D"
    prefix = 'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof."))'
    assert run(prefix, prefix="9999") is None
    assert run(prefix, prefix="3443") == "Dr."


def test_documented_strip_domain_example() -> None:
    assert run('Replace([mail], "@contoso.com", , ,"", ,)', mail="john.doe@contoso.com") == "john.doe"
