"""Specification of the expression parser and renderer: the syntax, its errors and positions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlist.provisioning.mapping.errors import EvaluationError
from enlist.provisioning.mapping.expression import (
    MAX_DEPTH,
    MAX_LENGTH,
    AttributeRef,
    Call,
    Comparison,
    Expression,
    ExpressionError,
    NumberLiteral,
    Omitted,
    StringLiteral,
    attribute_names,
    evaluate,
    parse_expression,
    render,
)
from enlist.provisioning.mapping.functions import FUNCTIONS


def error_of(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    return caught.value


# --- the syntax ---------------------------------------------------------------------------------


def test_a_call_with_attributes_and_strings_parses_to_a_tree() -> None:
    assert parse_expression('Join(" ", [givenName], [surname])') == Call(
        "Join", (StringLiteral(" "), AttributeRef("givenName"), AttributeRef("surname"))
    )


def test_nested_calls_parse() -> None:
    assert parse_expression("ToLower(Mid([givenName], 1, 3))") == Call(
        "ToLower", (Call("Mid", (AttributeRef("givenName"), NumberLiteral(1), NumberLiteral(3))),)
    )


def test_function_names_match_in_any_case_and_keep_the_canonical_spelling() -> None:
    assert parse_expression('jOIN("", [a])') == Call("Join", (StringLiteral(""), AttributeRef("a")))
    assert parse_expression("iif([a]=1, 2, 3)").name == "IIF"  # type: ignore[union-attr]


def test_string_escapes_are_backslash_quote_and_backslash_backslash() -> None:
    assert parse_expression(r'"Company name: \"Contoso\" \\ end"') == StringLiteral(
        'Company name: "Contoso" \\ end'
    )


def test_a_backslash_before_another_character_is_kept_as_written() -> None:
    assert parse_expression(r'"\d{10}"') == StringLiteral(r"\d{10}")


def test_entra_doubles_backslashes_in_regex_patterns_which_decode_to_single_ones() -> None:
    assert parse_expression(r'"\\+(?<isdCode>\\d* )"') == StringLiteral(r"\+(?<isdCode>\d* )")


def test_numbers_are_whole_and_may_be_negative() -> None:
    assert parse_expression("Left([a], -1)") == Call("Left", (AttributeRef("a"), NumberLiteral(-1)))


def test_attribute_names_may_hold_any_character_but_brackets_and_quotes() -> None:
    assert parse_expression("[extension_9a1b_cost-center.x]") == AttributeRef("extension_9a1b_cost-center.x")
    assert parse_expression("[ mail ]") == AttributeRef("mail")


def test_an_empty_argument_is_omitted_as_in_the_default_active_mapping() -> None:
    tree = parse_expression('Switch([IsSoftDeleted], , "False", "True", "True", "False")')
    assert tree == Call(
        "Switch",
        (
            AttributeRef("IsSoftDeleted"),
            Omitted(),
            StringLiteral("False"),
            StringLiteral("True"),
            StringLiteral("True"),
            StringLiteral("False"),
        ),
    )


def test_trailing_empty_arguments_are_omitted() -> None:
    tree = parse_expression('Replace([mail], "@contoso.com", , , "", , )')
    assert isinstance(tree, Call)
    assert tree.args[2:] == (Omitted(), Omitted(), StringLiteral(""), Omitted(), Omitted())


def test_empty_parentheses_are_no_arguments() -> None:
    assert parse_expression("Guid( )") == Call("Guid", ())


@pytest.mark.parametrize(("written", "op"), [("=", "="), ("==", "="), ("<>", "<>"), (">", ">"), (">=", ">=")])
def test_conditions_use_entras_comparison_operators(written: str, op: str) -> None:
    tree = parse_expression(f'IIF([country]{written}"FR","fr","en")')
    assert tree == Call(
        "IIF",
        (
            Comparison(AttributeRef("country"), op, StringLiteral("FR")),
            StringLiteral("fr"),
            StringLiteral("en"),
        ),  # type: ignore[arg-type]
    )


def test_a_bare_attribute_or_literal_is_a_whole_expression() -> None:
    assert parse_expression("[mail]") == AttributeRef("mail")
    assert parse_expression('"constant"') == StringLiteral("constant")


def test_nodes_carry_their_positions() -> None:
    tree = parse_expression('Join(" ", [givenName])')
    assert isinstance(tree, Call)
    assert (tree.position, tree.args[0].position, tree.args[1].position) == (0, 5, 10)


def test_attribute_names_lists_what_an_expression_reads() -> None:
    tree = parse_expression('IIF([a]="x", Join(" ", [b], [A]), IsSoftDeleted())')
    assert attribute_names(tree) == ["a", "b", "A", "IsSoftDeleted"]


# --- errors and their positions -----------------------------------------------------------------


def test_an_unclosed_call_names_the_call_and_where_it_opened() -> None:
    error = error_of('Join(" ", [givenName], [surname]')
    assert str(error) == 'expected ")" to close Join( opened at 0, at character 32'
    assert error.position == 32


def test_a_missing_comma_says_what_was_expected_and_found() -> None:
    error = error_of('Append([a] "x")')
    assert (
        str(error) == 'expected "," or ")" to close Append( opened at 0, at character 11, found a string "x"'
    )
    assert error.position == 11


def test_an_unclosed_inner_call_reports_the_inner_call() -> None:
    error = error_of('Join(" ", ToLower([a])')
    assert str(error) == 'expected ")" to close Join( opened at 0, at character 22'


def test_an_unknown_function_suggests_the_closest_name() -> None:
    error = error_of('Jion(" ", [a])')
    assert str(error) == 'unknown function "Jion" at character 0; did you mean Join?'
    assert error.position == 0


def test_an_unknown_function_far_from_any_name_gets_no_suggestion() -> None:
    assert str(error_of("Append([a], Zzqx())")) == 'unknown function "Zzqx" at character 12'


@pytest.mark.parametrize(
    "name", ["CDate", "FormatDateTime", "SingleAppRoleAssignment", "DefaultDomain", "InStr"]
)
def test_entra_functions_enlist_does_not_implement_are_refused_by_name(name: str) -> None:
    error = error_of(f"{name.lower()}([a])")
    assert str(error) == f'function "{name}" at character 0 is an Entra function enlist does not support'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Left([a])", "Left at character 0 takes 2 arguments, got 1"),
        ('Join(" ")', "Join at character 0 takes at least 2 arguments, got 1"),
        ("PCase([a], [b], [c])", "PCase at character 0 takes 1 to 2 arguments, got 3"),
        ("Guid([a])", "Guid at character 0 takes 0 arguments, got 1"),
        ('Append([a], Not([b], "x"))', "Not at character 12 takes 1 argument, got 2"),
        ('Replace([a], "x", "y")', "Replace at character 0 takes 7 arguments, got 3"),
    ],
)
def test_each_function_checks_its_argument_count(text: str, message: str) -> None:
    assert str(error_of(text)) == message


def test_switch_needs_key_value_pairs() -> None:
    error = error_of('Switch([a], "d", "k1", "v1", "k2")')
    assert str(error) == (
        "Switch at character 0 takes a source, a default and key/value pairs "
        "(an even number of arguments), got 5"
    )


def test_empty_text_is_refused() -> None:
    error = error_of("   ")
    assert (str(error), error.position) == ("the expression is empty", 0)


def test_text_over_entras_limit_of_ten_thousand_characters_is_refused() -> None:
    text = 'Append([a], "' + "x" * (MAX_LENGTH - 15) + '")'
    assert len(text) == MAX_LENGTH
    assert parse_expression(text) is not None
    error = error_of(text + " ")
    assert (str(error), error.position) == ("the expression is longer than 10000 characters", 10000)


def test_nesting_up_to_fifty_calls_parses_and_deeper_is_refused() -> None:
    def nested(depth: int) -> str:
        return "ToLower(" * depth + "[a]" + ")" * depth

    assert parse_expression(nested(MAX_DEPTH)) is not None
    error = error_of(nested(MAX_DEPTH + 1))
    assert str(error) == "functions nest deeper than 50 levels at character 400"
    assert error.position == 400


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ('Append([a], "x)', "unterminated string starting at character 12", 12),
        (
            "Append([a, [b])",
            'expected "]" to close the attribute name opened at 7, at character 11, found "["',
            11,
        ),
        ("Append([], [b])", "expected an attribute name inside [] at character 8", 8),
        ('IIF([a] != "x", 1, 2)', 'unexpected "!" at character 8; write "<>" for "not equal"', 8),
        ("Append([a], &HF)", 'unexpected "&" at character 12', 12),
        ("Left([a], 1.5)", 'unexpected "." at character 11: numbers are whole numbers such as 3 or -1', 11),
        ("Left([a], 1234567890123456789)", "number at character 10 has more than 18 digits", 10),
        ("Guid", 'expected "(" after Guid at character 4, found the end of the text', 4),
        ("[a] [b]", 'expected the end of the expression at character 4, found "[b]"', 4),
        ("Append(, [b]) )", 'expected the end of the expression at character 14, found ")"', 14),
        (
            "IIF([a] = [b] = [c], 1, 2)",
            'unexpected "=" at character 14: a condition compares two values, chain IIF calls for more',
            14,
        ),
        (
            "Append(=, 1)",
            'expected a function, an [attribute], a "string" or a number at character 7, found "="',
            7,
        ),
        ('Append([a], "x\x00")', "U+0000 at character 14 is not allowed in an expression", 14),
    ],
)
def test_syntax_errors_say_what_was_expected_and_where(text: str, message: str, position: int) -> None:
    error = error_of(text)
    assert (str(error), error.position) == (message, position)


def test_an_invalid_literal_regex_in_replace_is_a_parse_error_at_the_pattern() -> None:
    error = error_of('Replace([a], , "(unclosed", , "", , )')
    assert error.position == 15
    assert str(error).startswith("invalid regexPattern at character 15: missing )")


def test_a_literal_group_name_missing_from_the_literal_pattern_is_a_parse_error() -> None:
    error = error_of('Replace([a], , "(?<x>y)", "z", "", , )')
    assert (str(error), error.position) == (
        'regexGroupName "z" at character 26 names no group of the pattern',
        26,
    )


def test_replace_without_a_usable_form_is_a_parse_error() -> None:
    error = error_of('Replace([a], , , , "x", , )')
    assert error.position == 0
    assert str(error).startswith("Replace at character 0 needs oldValue with replacementValue or template")


def test_parse_errors_are_value_errors() -> None:
    assert isinstance(error_of("Jion()"), ValueError)


def _parses_or_refuses(text: str) -> bool:
    """True when `text` parses, or is refused with an ExpressionError positioned inside it."""
    try:
        parse_expression(text)
    except ExpressionError as error:
        return 0 <= error.position <= len(text)
    return True


@given(st.text(max_size=200))
def test_arbitrary_text_only_ever_raises_expression_error(text: str) -> None:
    assert _parses_or_refuses(text)


_GRAMMAR_TEXT = st.text(alphabet=st.sampled_from(list('Join(Left[a],"\\ 1=<>-)IIF')), max_size=60)


@given(_GRAMMAR_TEXT)
def test_near_miss_text_only_ever_raises_expression_error(text: str) -> None:
    assert _parses_or_refuses(text)


# --- render -------------------------------------------------------------------------------------


def test_render_writes_canonical_text() -> None:
    text = 'switch( [IsSoftDeleted],,"False","True" ,"True","False")'
    assert render(parse_expression(text)) == 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'


def test_render_re_escapes_strings_and_spaces_conditions() -> None:
    text = r'IIF([a]=="say \"hi\" \\",[b],Replace([c],"x",,,"y",,))'
    assert (
        render(parse_expression(text)) == r'IIF([a] = "say \"hi\" \\", [b], Replace([c], "x", , , "y", , ))'
    )


_NAMES = sorted({spec.name for spec in FUNCTIONS.values()} - {"Replace", "Switch", "Guid", "IsSoftDeleted"})
_LEAVES: st.SearchStrategy[Expression] = st.one_of(
    st.builds(AttributeRef, st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,12}", fullmatch=True)),
    st.builds(
        StringLiteral, st.text(max_size=12).filter(lambda s: "\x00" not in s and not _has_surrogate(s))
    ),
    st.builds(NumberLiteral, st.integers(min_value=-(10**17), max_value=10**17)),
)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def _call(children: st.SearchStrategy[Expression]) -> st.SearchStrategy[Expression]:
    def build(name: str, args: list[Expression]) -> Expression:
        spec = FUNCTIONS[name.casefold()]
        count = max(spec.min_args, min(len(args), spec.max_args if spec.max_args is not None else len(args)))
        padded = (args + [StringLiteral("p")] * count)[:count]
        if len(padded) == 1 and isinstance(padded[0], Omitted):
            padded = [StringLiteral("p")]  # a lone empty argument renders as no argument at all
        return Call(spec.name, tuple(padded))

    argument = st.one_of(children, st.just(Omitted()))
    comparison = st.builds(Comparison, _LEAVES, st.sampled_from(["=", "<>", ">", ">=", "<", "<="]), _LEAVES)
    return st.builds(build, st.sampled_from(_NAMES), st.lists(st.one_of(argument, comparison), max_size=4))


_EXPRESSIONS = st.recursive(_LEAVES, _call, max_leaves=12)


@given(_EXPRESSIONS)
def test_rendered_expressions_parse_back_to_an_equal_tree(tree: Expression) -> None:
    assert parse_expression(render(tree)) == tree


@given(_EXPRESSIONS)
def test_render_is_a_fixed_point_after_one_round(tree: Expression) -> None:
    text = render(tree)
    assert render(parse_expression(text)) == text


_SOURCES = st.dictionaries(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,12}", fullmatch=True),
    st.one_of(
        st.none(),
        st.text(max_size=8),
        st.booleans(),
        st.integers(),
        st.lists(st.text(max_size=4), max_size=3),
    ),
    max_size=4,
)


@given(_EXPRESSIONS, _SOURCES)
def test_evaluation_gives_a_value_or_an_evaluation_error(tree: Expression, source: dict[str, object]) -> None:
    try:
        value = evaluate(tree, source)
    except EvaluationError:
        return
    assert (
        value is None
        or isinstance(value, str | bool | int)
        or (isinstance(value, list) and all(isinstance(item, str) for item in value))
    )
