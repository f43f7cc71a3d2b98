"""Parser: structure, precedence, and Jira's exact syntax-error wording."""

from __future__ import annotations

import pytest

from jirabridge.emulator.jql import (
    And,
    EmptyOperand,
    FunctionCall,
    JqlError,
    ListOperand,
    Not,
    Operator,
    Or,
    SortSpec,
    Terminal,
    Value,
    parse,
)
from jirabridge.errors import BadInputError

OPS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)


def test_sync_poll_query() -> None:
    q = parse('project = OPS AND updated >= "2026/11/24 03:10" ORDER BY updated ASC, key ASC')
    assert isinstance(q.where, And)
    first, second = q.where.children
    assert isinstance(first, Terminal) and isinstance(second, Terminal)
    assert (first.field.name, first.operator, first.operand) == (
        "project",
        Operator.EQ,
        Value("OPS"),
    )
    assert second.operator is Operator.GE
    assert second.operand == Value("2026/11/24 03:10", quoted=True)
    assert q.order_by is not None
    assert [(s.field.name, s.descending) for s in q.order_by] == [
        ("updated", False),
        ("key", False),
    ]


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    q = parse("a = 1 OR b = 2 AND NOT c = 3")
    assert isinstance(q.where, Or)
    left, right = q.where.children
    assert isinstance(left, Terminal)
    assert isinstance(right, And)
    assert isinstance(right.children[1], Not)


def test_parentheses_override_precedence() -> None:
    q = parse("(a = 1 OR b = 2) AND c = 3")
    assert isinstance(q.where, And)
    assert isinstance(q.where.children[0], Or)


def test_symbols_and_case_insensitive_keywords() -> None:
    q = parse("a = 1 && b = 2 || !c = 3 and d = 4 oR e = 5")
    assert isinstance(q.where, Or)
    assert len(q.where.children) == 3


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("f = x", Operator.EQ),
        ("f != x", Operator.NE),
        ("f > x", Operator.GT),
        ("f >= x", Operator.GE),
        ("f < x", Operator.LT),
        ("f <= x", Operator.LE),
        ("f ~ x", Operator.LIKE),
        ("f !~ x", Operator.NOT_LIKE),
        ("f in (x)", Operator.IN),
        ("f NOT IN (x)", Operator.NOT_IN),
        ("f is EMPTY", Operator.IS),
        ("f IS NOT null", Operator.IS_NOT),
    ],
)
def test_every_operator(text: str, op: Operator) -> None:
    clause = parse(text).where
    assert isinstance(clause, Terminal)
    assert clause.operator is op


def test_operands_lists_functions_empty_and_cf() -> None:
    q = parse('cf[10016] in (1, "two", currentUser(), EMPTY) and due < startOfDay(-1d)')
    assert isinstance(q.where, And)
    t1, t2 = q.where.children
    assert isinstance(t1, Terminal) and isinstance(t2, Terminal)
    assert t1.field.cf_id == 10016 and t1.field.display == "cf[10016]"
    assert t1.operand == ListOperand(
        (Value("1"), Value("two", True), FunctionCall("currentUser"), EmptyOperand())
    )
    assert t2.operand == FunctionCall("startOfDay", ("-1d",))


def test_quoted_field_escapes_and_quoted_keyword_value() -> None:
    q = parse('"Story Points" = \'it\\\'s\' AND summary ~ "EMPTY" AND x = \\u0040home')
    assert isinstance(q.where, And)
    a, b, c = q.where.children
    assert isinstance(a, Terminal) and a.field.name == "Story Points"
    assert a.operand == Value("it's", True)
    assert isinstance(b, Terminal) and b.operand == Value("EMPTY", True)
    assert isinstance(c, Terminal) and c.operand == Value("@home")


def test_empty_query_and_order_only() -> None:
    assert parse("").where is None
    assert parse("   ").order_by is None
    q = parse("order by created DESC, key")
    assert q.where is None
    assert q.order_by == (SortSpec(q.order_by[0].field, True), SortSpec(q.order_by[1].field, None))


def test_multiline_positions() -> None:
    with pytest.raises(JqlError) as err:
        parse("project = OPS\nAND status foo")
    assert err.value.message == (
        f"Error in the JQL Query: Expecting operator but got 'foo'. {OPS} (line 2, character 12)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "project = OPS foo",
            "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'. "
            "(line 1, character 15)",
        ),
        (
            "project foo",
            f"Error in the JQL Query: Expecting operator but got 'foo'. {OPS} "
            "(line 1, character 9)",
        ),
        (
            "project",
            f"Error in the JQL Query: Expecting operator before the end of the query. {OPS}",
        ),
        (
            "project = ",
            "Error in the JQL Query: Expecting either a value, list or function before the end of "
            "the query.",
        ),
        (
            "project = OR",
            "Error in the JQL Query: Expecting either a value, list or function but got 'OR'. You "
            "must surround 'OR' in quotation marks to use it as a value. (line 1, character 11)",
        ),
        (
            "status = End",
            "Error in the JQL Query: 'End' is a reserved JQL word. You must surround it in "
            "quotation marks to use it in a query. (line 1, character 10)",
        ),
        (
            "summary ~ foo@bar",
            "Error in the JQL Query: The character '@' is a reserved JQL character. You must "
            "enclose it in a string or use the escape '\\u0040' instead. (line 1, character 14)",
        ),
        (
            'summary ~ "open',
            "Error in the JQL Query: The quoted string 'open' has not been completed. "
            "(line 1, character 11)",
        ),
        ("(a = b", "Error in the JQL Query: Expecting ')' before the end of the query."),
        ("a in (b, c", "Error in the JQL Query: Expecting ')' before the end of the query."),
        (
            "a = b ORDER key",
            "Error in the JQL Query: Expecting 'by' but got 'key'. (line 1, character 13)",
        ),
        (
            "a = b ORDER BY",
            "Error in the JQL Query: Expecting a field name at the end of the query.",
        ),
        (
            "and = b",
            "Error in the JQL Query: Expecting a field name but got 'and'. You must surround "
            "'and' in quotation marks to use it as a field name. (line 1, character 1)",
        ),
        (
            "a = b)",
            "Error in the JQL Query: Expecting either 'OR' or 'AND' but got ')'. "
            "(line 1, character 6)",
        ),
        (
            "a = 'x\\q'",
            "Error in the JQL Query: '\\q' is an illegal JQL escape sequence. The valid "
            "escape sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX. "
            "(line 1, character 7)",
        ),
    ],
)
def test_syntax_errors_use_jira_wording(text: str, message: str) -> None:
    with pytest.raises(JqlError) as err:
        parse(text)
    assert err.value.message == message
    assert isinstance(err.value, BadInputError)
    assert err.value.jira is not None and err.value.jira.status == 400
    assert list(err.value.jira.error_messages) == [message]


def test_is_parses_any_operand() -> None:
    clause = parse("assignee is bob").where  # refused later, by the compiler
    assert isinstance(clause, Terminal) and clause.operand == Value("bob")
