"""Specification of Replace's forms (Microsoft's documented examples) and of .NET regex syntax."""

from __future__ import annotations

from typing import Any

import pytest

from enlist.provisioning.mapping.dotnet_regex import RegexError, compile_dotnet, expand_replacement, translate
from enlist.provisioning.mapping.errors import EvaluationError
from enlist.provisioning.mapping.expression import Value, evaluate, parse_expression


def run(text: str, **source: Any) -> Value:
    return evaluate(parse_expression(text), source)


def test_old_value_and_replacement_value_replace_every_occurrence() -> None:
    text = 'Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )'
    assert run(text, BusinessTitle="Product Developer") == "Software Engineer"
    assert run('Replace([v], "a", , , "o", , )', v="banana") == "bonono"


def test_plain_replacement_is_case_sensitive() -> None:
    assert run('Replace([v], "A", , , "o", , )', v="banana") == "banana"


def test_old_value_and_template_insert_the_source_into_the_template() -> None:
    text = 'Replace([UserID],"<username>", , , , , "<username>@contoso.com")'
    assert run(text, UserID="jsmith") == "jsmith@contoso.com"


def test_regex_and_replacement_expand_named_groups() -> None:
    text = (
        r'Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )'
    )
    assert run(text, telephoneNumber="+91 9998887777") == "9998887777"


def test_regex_and_empty_replacement_remove_what_matches() -> None:
    assert run(r'Replace([mobile], , "[()\\s-]+", , "", , )', mobile="+1 (999) 888-7777") == "+19998887777"
    assert run('Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', mailNickname="john_doe72") == "72"


def test_regex_group_and_replacement_replace_only_the_group() -> None:
    text = r'Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )'
    assert run(text, AddressLineData="545 Tremont Street") == "888 Tremont Street"
    suffix = 'Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )'
    assert run(suffix, userPrincipalName="jsmith@contoso.com") == "jsmith"


def test_regex_group_and_replacement_attribute_fall_back_when_the_source_is_empty() -> None:
    text = r'Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )'
    assert run(text, telephoneNumber="", mobile="+91 8887779999") == "8887779999"
    assert run(text, mobile="+91 8887779999") == "8887779999"
    assert run(text, telephoneNumber="+1 555", mobile="+91 8887779999") == "+1 555"
    assert run(text, telephoneNumber="", mobile="no digits") is None


def test_documented_object_id_example_with_utf8_hex() -> None:
    text = 'Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))'
    # "00aa00aa-bb" is 30 30 61 61 30 30 61 61 2D 62 62 in UTF-8; the regex drops the letter D
    assert run(text, objectId="00aa00aa-bb") == "1000" + "303061613030616126262"


def test_a_null_source_gives_null() -> None:
    assert run('Replace([mail], "@contoso.com", , , "", , )') is None
    assert run('Replace([mail], , "x", , "", , )') is None


def test_a_null_written_argument_gives_null() -> None:
    assert run('Replace([mail], "@x", , , [other], , )', mail="a@x") is None


def test_an_empty_old_value_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="Replace needs a non-empty oldValue"):
        run('Replace([mail], [old], , , "y", , )', mail="a", old="")


def test_a_pattern_from_an_attribute_is_compiled_when_evaluated() -> None:
    assert run('Replace([v], , [p], , "-", , )', v="a1b22", p=r"\d+") == "a-b-"
    with pytest.raises(EvaluationError, match="Replace regexPattern does not compile"):
        run('Replace([v], , [p], , "-", , )', v="a", p="(")


def test_a_group_name_from_an_attribute_must_name_a_group() -> None:
    with pytest.raises(EvaluationError, match='Replace regexGroupName "nope" names no group of the pattern'):
        run('Replace([v], , "(?<x>a)", [g], "-", , )', v="a", g="nope")


# --- .NET regular expressions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dotnet", "python"),
    [
        ("(?<name>a)", "(?P<name>a)"),
        ("(?'name'a)", "(?P<name>a)"),
        (r"(?<n>a)\k<n>", "(?P<n>a)(?P=n)"),
        (r"(?<n>a)\k'n'", "(?P<n>a)(?P=n)"),
        ("(?<=a)(?<!b)", "(?<=a)(?<!b)"),
        (r"[(?<x>]", r"[(?<x>]"),
        (r"[]a](?<x>b)", r"[]a](?P<x>b)"),
        (r"\(?<x>", r"\(?<x>"),
        ("[[a]", r"[\[a]"),  # a bracket inside a class is a plain character in .NET
        ("[a&&b||c~~d--e]", r"[a&\&b|\|c~\~d-\-e]"),
    ],
)
def test_translation_rewrites_named_groups_and_class_characters_only(dotnet: str, python: str) -> None:
    assert translate(dotnet) == python


def test_class_characters_python_reserves_match_literally() -> None:
    assert compile_dotnet("^[[a&&]+$").search("[a&")


def test_a_pattern_that_does_not_compile_raises_regex_error() -> None:
    with pytest.raises(RegexError):
        compile_dotnet("a{99999999999}")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${last}, ${first}", "Doe, John"),
        ("$2 $1", "Doe John"),
        ("$0|$&", "John Doe|John Doe"),
        ("$$1", "$1"),
        ("${missing}", "${missing}"),
        ("$9", "$9"),
        (r"\1 stays", r"\1 stays"),
    ],
)
def test_replacements_expand_dotnet_substitutions(template: str, expected: str) -> None:
    match = compile_dotnet("(?<first>\\w+) (?<last>\\w+)").search("John Doe")
    assert match is not None
    assert expand_replacement(template, match) == expected
