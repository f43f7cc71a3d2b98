# ruff: noqa: E501 (a table of Jira sentences reads best one case per line)
"""Syntax errors as Jira's own parser words them (cases from Jira's JQL parsing behaviour).

Each case: the query and the exact sentence Jira answers, after ``Error in the JQL Query: ``.
"""

from __future__ import annotations

import pytest

from jirabridge.emulator.jql import JqlError, ListOperand, Terminal, Value, parse

VALID_ESCAPES = "The valid escape sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX."
OPS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)
RANGE = "Numbers must be between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807."

CASES = [
    # unfinished strings (a newline inside shows as a space)
    ("comment ~ 'test", "The quoted string 'test' has not been completed. (line 1, character 11)"),
    ("comment ~ 'test\n", "The quoted string 'test ' has not been completed. (line 1, character 11)"),
    ('priority="test\nword', "The quoted string 'test word' has not been completed. (line 1, character 10)"),
    ("comment ~ '", "The quoted string has not been completed. (line 1, character 11)"),
    # escapes
    ("comme\\unt ~ 'test", f"'\\un' is an illegal JQL escape sequence. {VALID_ESCAPES} (line 1, character 6)"),
    ("status =\n\n\n\n\n\n \\c", f"'\\c' is an illegal JQL escape sequence. {VALID_ESCAPES} (line 7, character 2)"),
    ("status =\n\n\n\n\\", f"The escape sequence has not been completed. {VALID_ESCAPES} (line 5, character 1)"),
    ("status =\n\n\n\n\\u", f"'\\u' is an illegal JQL escape sequence. {VALID_ESCAPES} (line 5, character 1)"),
    ("status =\n\n\n\n'\\u'", f"'\\u'' is an illegal JQL escape sequence. {VALID_ESCAPES} (line 5, character 2)"),
    # reserved and illegal characters
    ("mine{www = qwwr", "The character '{' is a reserved JQL character. You must enclose it in a string or use the escape '\\u007b' instead. (line 1, character 5)"),
    ("minewww# = qwwr", "The character '#' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0023' instead. (line 1, character 8)"),
    ("minewww = qwwr}", "The character '}' is a reserved JQL character. You must enclose it in a string or use the escape '\\u007d' instead. (line 1, character 15)"),
    ("minewww =\u007fqwwr", "The character 'U+007F' on line 1 at position 10 must be escaped. Use the escape '\\u007f' instead. (line 1, character 10)"),
    ("mqwwr\u007f", "The character 'U+007F' on line 1 at position 6 must be escaped. Use the escape '\\u007f' instead. (line 1, character 6)"),
    ('mqwwr="\u007f this is broken"', "The character 'U+007F' on line 1 at position 8 must be escaped. Use the escape '\\u007f' instead. (line 1, character 8)"),
    # numbers
    ("aaaaa=-3482094382084092840932809482", f"'-3482094382084092840932809482' is not a valid number. {RANGE} (line 1, character 7)"),
    ("cf[1002020202002020202020202020020202822]=a", f"'1002020202002020202020202020020202822' is not a valid number. {RANGE} (line 1, character 4)"),
    # ORDER BY
    ("a =b order", "Expecting 'by' before the end of the query."),
    ("a =b order summary", "Expecting 'by' but got 'summary'. (line 1, character 12)"),
    ("a =b order by", "Expecting a field name at the end of the query."),
    ("a =b order by asc", "Expecting a field name but got 'asc'. You must surround 'asc' in quotation marks to use it as a field name. (line 1, character 15)"),
    ("a =b order by ajsks blah", "Expecting either 'ASC' or 'DESC' but got 'blah'. (line 1, character 21)"),
    ("order by a desc d", "Expecting ',' but got 'd'. (line 1, character 17)"),
    # empty names
    ('a =b order by "" desc', "A field name cannot be empty. (line 1, character 15)"),
    ("'' = c", "A field name cannot be empty. (line 1, character 1)"),
    ("a = ''()", "A function name cannot be empty. (line 1, character 5)"),
    ('a = ""()', "A function name cannot be empty. (line 1, character 5)"),
    # operators
    ("a", f"Expecting operator before the end of the query. {OPS}"),
    ("a blah >", f"Expecting operator but got 'blah'. {OPS} (line 1, character 3)"),
    ("a =a and j not is empty", "Expecting 'IN' but got 'is'. (line 1, character 16)"),
    ("a =a and j is ! empty", "Expecting 'NOT' but got '!'. (line 1, character 15)"),
    # custom field ids
    ("cf", "Expecting '[' before the end of the query."),
    ("a = b and not (cf = 6)", "Expecting '[' but got '='. (line 1, character 19)"),
    ("cf[", "Expecting a custom field id (a positive number) before the end of the query."),
    ("cf[ = 9", "Expecting a custom field id (a positive number) but got '='. (line 1, character 5)"),
    ("cf[] = 1", "Expecting a custom field id (a positive number) but got ']'. (line 1, character 4)"),
    ("cf[29829k] = ", "Expecting a custom field id (a positive number) but got '29829k'. (line 1, character 4)"),
    ("cf[-29829] = ", "Expecting a custom field id (a positive number) but got '-29829'. (line 1, character 4)"),
    ("cf[29829 = world", "Expecting ']' but got '='. (line 1, character 10)"),
    ("cf[29829", "Expecting ']' before the end of the query."),
    ("[brenden] = a", "Expecting a field name but got '['. Did you mean 'cf['? (line 1, character 1)"),
    ("a = brenden and [78] = q", "Expecting a field name but got '['. Did you mean 'cf['? (line 1, character 17)"),
    # functions
    ("a = func(", "Expecting ')' before the end of the query."),
    ("a = func(, and not (a = x)", "Expecting ')' but got ','. (line 1, character 10)"),
    ("b=func(bad", "Expecting ')' before the end of the query."),
    ("bas=func(bad,)", "Function argument must be specified. (line 1, character 14)"),
    ("bas=func(bad,", "Expecting a function argument at the end of the query."),
    ("k = func(!", "Expecting a function argument but got '!'. You must surround '!' in quotation marks to use it as an argument. (line 1, character 10)"),
    ("k = func(abc, jk!)", "Expecting ')' or ',' but got '!'. (line 1, character 17)"),
    # brackets
    ("(a=b and c = d", "Expecting ')' before the end of the query."),
    ("a=b or (c=d and not l ~ kate", "Expecting ')' before the end of the query."),
    ("b in ((12, (288)", "Expecting ')' before the end of the query."),
    ("abc IN ((foo) abc = a", "Expecting ')' but got 'abc'. (line 1, character 15)"),
    # operands
    ("a=", "Expecting either a value, list or function before the end of the query."),
    ("a=!", "Expecting either a value, list or function but got '!'. You must surround '!' in quotation marks to use it as a value. (line 1, character 3)"),
    ("a=b c=d", "Expecting either 'OR' or 'AND' but got 'c'. (line 1, character 5)"),
    ("a=b !c=d", "Expecting either 'OR' or 'AND' but got '!'. (line 1, character 5)"),
    ("a=(a,", "Expecting either a value, list or function before the end of the query."),
    ("a=(a,(,bad))", "Expecting either a value, list or function but got ','. You must surround ',' in quotation marks to use it as a value. (line 1, character 7)"),
    ("a = ((c,d), d, e, f, yyy) and", "Expecting a field name at the end of the query."),
    ('comment !~ "brenden" and', "Expecting a field name at the end of the query."),
    ('comment !~ "brenden" jack = jill', "Expecting either 'OR' or 'AND' but got 'jack'. (line 1, character 22)"),
    ('comment !~ "brenden" and cf[1000] = jill order by a desc b', "Expecting ',' but got 'b'. (line 1, character 58)"),
    (", a = b", "Expecting a field name but got ','. You must surround ',' in quotation marks to use it as a field name. (line 1, character 1)"),
    ("a not was \"Open\"", "Expecting 'IN' but got 'was'. (line 1, character 7)"),
    ("summary ~ abort", "'abort' is a reserved JQL word. You must surround it in quotation marks to use it in a query. (line 1, character 11)"),
    ("summary ~ select", "'select' is a reserved JQL word. You must surround it in quotation marks to use it in a query. (line 1, character 11)"),
]  # fmt: skip


@pytest.mark.parametrize(("jql", "detail"), CASES, ids=[c[0] for c in CASES])
def test_parse_error_matches_jira(jql: str, detail: str) -> None:
    with pytest.raises(JqlError) as err:
        parse(jql)
    assert err.value.message == f"Error in the JQL Query: {detail}"


def test_nested_lists_flatten() -> None:
    clause = parse("a in ((c, d), e)").where
    assert isinstance(clause, Terminal)
    assert clause.operand == ListOperand((Value("c"), Value("d"), Value("e")))


def test_numbers_at_the_edge_of_long_are_fine() -> None:
    clause = parse("votes = -9223372036854775808").where
    assert isinstance(clause, Terminal) and clause.operand == Value("-9223372036854775808")


def test_history_operators_are_refused_clearly() -> None:
    with pytest.raises(JqlError, match="'WAS' is not supported"):
        parse("status was Open")
    with pytest.raises(JqlError, match="'CHANGED' is not supported"):
        parse("assignee changed")


@pytest.mark.parametrize(
    "jql",
    [
        "(" * 5000 + "a = b" + ")" * 5000,
        "NOT " * 5000 + "a = b",
        "a in " + "(" * 5000 + "b" + ")" * 5000,
    ],
    ids=["parentheses", "not", "lists"],
)
def test_hostile_nesting_is_refused_not_crashed(jql: str) -> None:
    with pytest.raises(JqlError, match="more than 100 levels deep"):
        parse(jql)


def test_reasonable_nesting_parses() -> None:
    assert parse("(" * 50 + "a = b" + ")" * 50).where == parse("a = b").where
    assert parse("a in " + "(" * 50 + "b" + ")" * 50).where == parse("a in (b)").where


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\x00", "\x85", "\ufffe"])
def test_characters_that_must_be_escaped_are_refused_everywhere(bad: str) -> None:
    for jql in (f"summary ~ 'a{bad}b'", f"a{bad} = b", f"a = b{bad}"):
        with pytest.raises(JqlError) as err:
            parse(jql)
        assert f"U+{ord(bad):04X}" in err.value.message
        err.value.message.encode("utf-8")  # the message itself is safe to send
