"""Specification of the .NET regular expressions admins write (scoping filters, Replace), and of
the time limit that stops a pattern which backtracks catastrophically.

Each row is (pattern, text, whether .NET's `Regex.IsMatch` finds a match): what a scoping filter's
REGEX MATCH answers.
"""

from __future__ import annotations

import pytest

from enlist.provisioning.mapping.dotnet_regex import TIME_LIMIT_MS, compile_dotnet
from enlist.provisioning.mapping.errors import EvaluationError, RegexTimeoutError
from enlist.provisioning.mapping.expression import evaluate, parse_expression
from enlist.provisioning.mapping.scoping import ScopingClause, ScopingFilter, explain, in_scope

DOTNET_SEMANTICS = [
    # case: sensitive by default, the inline option (?i) and a scoped (?i:…)
    ("sales", "Sales", False),
    ("(?i)sales", "SALES", True),
    ("(?i:s)ales", "Sales", True),
    ("(?i:s)ales", "SALES", False),
    # anchors: a match anywhere unless anchored; $ also before a final newline, as in .NET
    ("ada", "Lovelace, ada", True),
    ("^ada", "x ada", False),
    ("^ada$", "ada", True),
    ("^ada$", "ada\n", True),
    ("(?m)^b$", "a\nb\nc", True),
    (r"\bAda\b", "Ada Lovelace", True),
    (r"\bAda\b", "Adam", False),
    # named groups, .NET spellings, and named and numbered backreferences
    (r"^(?<local>[^@]+)@contoso\.com$", "ada@contoso.com", True),
    (r"^(?'local'[^@]+)@contoso\.com$", "ada@contoso.com", True),
    (r"^(?<c>\w)\k<c>", "aab", True),
    (r"^(?<c>\w)\k'c'", "abb", False),
    (r"^(\w)\1$", "zz", True),
    (r"^(\w)\1$", "zy", False),
    # lookahead and lookbehind, including .NET's variable-length lookbehind
    (r"^(?=.*\d)\w+$", "ada1", True),
    (r"^(?=.*\d)\w+$", "ada", False),
    (r"^(?!test)\w+$", "tester", False),
    (r"(?<=@)contoso", "ada@contoso.com", True),
    (r"(?<!@)contoso", "ada@contoso.com", False),
    (r"(?<=@\w+\.)com", "ada@contoso.com", True),
    # \d, \w and \s are Unicode-aware in .NET, as here
    (r"^\d{3}$", "123", True),
    (r"^\d{3}$", "١٢٣", True),  # Arabic-Indic digits are Nd
    (r"^\w+$", "Zoë", True),
    (r"^\w+$", "Zoë!", False),
    (r"^\s$", "\u00a0", True),
    # Unicode categories and named blocks
    (r"^\p{Lu}", "Éva", True),
    (r"^\p{Lu}", "éva", False),
    (r"^\P{L}+$", "123", True),
    (r"^\p{IsGreek}+$", "Αλφα", True),
    # atomic groups: no backtracking into them
    (r"^(?>a+)a$", "aaa", False),
    (r"^(?>a+)b$", "aaab", True),
    # character classes, with a bracket being a plain character
    (r"^[[a]+$", "[a[", True),
    ("^[^0-9]+$", "abc", True),
    # alternation, quantifiers, lazy quantifiers
    ("^(Sales|Marketing)$", "Marketing", True),
    ("^a{2,3}$", "aaaa", False),
    ("^<.+?>", "<a><b>", True),
]


@pytest.mark.parametrize(("pattern", "text", "found"), DOTNET_SEMANTICS)
def test_patterns_match_as_dotnet_matches_them(pattern: str, text: str, found: bool) -> None:
    assert (compile_dotnet(pattern).search(text) is not None) is found
    clause = ScopingClause("displayName", "REGEX MATCH", pattern)
    assert in_scope([ScopingFilter((clause,))], {"displayName": text}) is found


def test_lazy_quantifiers_and_named_groups_select_what_dotnet_selects() -> None:
    match = compile_dotnet(r"^(?<first>\w+?)(?<rest>a*)$").search("Maria")
    assert match is not None
    assert (match.group("first"), match.group("rest")) == ("Mari", "a")


RUNAWAY = r"^(\w|\w\w)+$"  # every split of a word into ones and twos: exponential in its length


@pytest.mark.parametrize("length", [20, 25, 29, 40])
def test_the_reported_pattern_answers_at_every_length(length: int) -> None:
    """`^(\\w+\\s?)+$` over a long name that ends in a non-word character stalled `re` for
    13.5 s at 29 characters; the engine answers (no match) at once."""
    name = ("Maximilian " * 5)[: length - 1] + "!"
    assert compile_dotnet(r"^(\w+\s?)+$").search(name) is None


@pytest.mark.parametrize("length", [29, 40, 1000])
def test_a_runaway_pattern_is_stopped_at_the_time_limit_with_a_clear_error(length: int) -> None:
    text = "a" * length + "!"
    with pytest.raises(RegexTimeoutError) as raised:
        compile_dotnet(RUNAWAY).search(text)
    assert str(raised.value) == (
        f'the regular expression "{RUNAWAY}" took longer than {TIME_LIMIT_MS} ms '
        f"on a {length + 1}-character value; simplify it"
    )
    assert isinstance(raised.value, EvaluationError), "a per-object failure, not a broken mapping"


def test_a_runaway_scoping_clause_names_itself_in_in_scope_and_explain() -> None:
    runaway = ScopingFilter((ScopingClause("displayName", "NOT REGEX MATCH", RUNAWAY),))
    source = {"displayName": "a" * 40 + "!"}
    for evaluate_scope in (in_scope, explain):
        with pytest.raises(
            RegexTimeoutError, match=r"^scoping filter displayName NOT REGEX MATCH: the regular"
        ):
            evaluate_scope([runaway], source)


def test_a_runaway_replace_pattern_is_an_evaluation_error_of_that_object() -> None:
    expression = parse_expression(f'Replace([displayName], , "{RUNAWAY}", , "x", , )')
    assert evaluate(expression, {"displayName": "Ada"}) == "x"
    with pytest.raises(RegexTimeoutError, match="took longer than"):
        evaluate(expression, {"displayName": "a" * 40 + "!"})


def test_each_runaway_call_is_stopped_and_returns() -> None:
    """Counting, not timing: three runaway searches in a row all come back with the error."""
    pattern = compile_dotnet(RUNAWAY)
    stopped = 0
    for _ in range(3):
        try:
            pattern.search("a" * 60 + "!")
        except RegexTimeoutError:
            stopped += 1
    assert stopped == 3
