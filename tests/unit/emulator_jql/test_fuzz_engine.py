"""Property tests: any text either parses or fails with JqlError; never anything else."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jirabridge.emulator.jql import JqlError, compile_query, parse

from ._fake import FakeIssue, FakeResolver

NOW = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
ISSUES = [
    FakeIssue("OPS-1", "Printer on fire", labels=frozenset({"hw"}), assignee="JIRAUSER1"),
    FakeIssue("DEV-2", "Login", project=10001, status=3, priority=None, points=2.0),
]

FIELDS = st.sampled_from(
    [
        "project",
        "key",
        "status",
        "assignee",
        "summary",
        "text",
        "created",
        "labels",
        "due",
        "cf[10016]",
        '"Story Points"',
        "sprint",
        "statusCategory",
        "priority",
        "nosuch",
        "ORDER",
    ]
)
OPS = st.sampled_from(["=", "!=", ">", ">=", "<", "<=", "~", "!~", "in", "not in", "is", "is not"])
VALUES = st.one_of(
    st.sampled_from(
        [
            "OPS",
            "DEV-2",
            "OPS-1",
            "Done",
            "alice",
            "EMPTY",
            "null",
            '"-1d 2h"',
            "-4h",
            '"2026/11/24"',
            '"2026-11-24 03:10"',
            "currentUser()",
            "startOfDay(-1d)",
            "now()",
            "membersOf(devs)",
            "openSprints()",
            "(OPS, DEV)",
            '"print*"',
            '"*x"',
            "5",
            "nosuchFn()",
            "startOfMonth(+14d)",
            "endOfWeek()",
            '"a b"',
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
)


@st.composite
def clauses(draw: st.DrawFn, depth: int = 0) -> str:
    if depth < 2 and draw(st.booleans()):
        left = draw(clauses(depth + 1))
        right = draw(clauses(depth + 1))
        joiner = draw(st.sampled_from([" AND ", " OR ", " and ", " || ", " && "]))
        text = left + joiner + right
        if draw(st.booleans()):
            text = f"({text})"
        if draw(st.booleans()):
            text = "NOT " + text
        return text
    return f"{draw(FIELDS)} {draw(OPS)} {draw(VALUES)}"


@st.composite
def queries(draw: st.DrawFn) -> str:
    text = draw(st.one_of(st.just(""), clauses()))
    if draw(st.booleans()):
        text += " ORDER BY " + draw(FIELDS) + draw(st.sampled_from(["", " ASC", " DESC"]))
    return text


def _run(text: str) -> None:
    try:
        compiled = compile_query(parse(text), FakeResolver(NOW))
    except JqlError as exc:
        assert exc.message and exc.jira is not None and exc.jira.status == 400
        return
    compiled.run(ISSUES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_grammar_shaped_queries_never_crash(text: str) -> None:
    _run(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_random_text_never_crashes(text: str) -> None:
    _run(text)


# -- hostile text through the whole search over a model site ------------------------------

from jirabridge.emulator.model import Flavour, Site  # noqa: E402
from jirabridge.emulator.search import search  # noqa: E402

_SITE = Site(Flavour.SERVER)
_SITE.create_project("OPS", "Operations", _SITE.admin_key)
_SITE.create_issue(
    _SITE.admin_key,
    {"project": {"key": "OPS"}, "summary": "Printer", "issuetype": {"name": "Task"}},
)

HOSTILE_VALUES = st.one_of(
    st.sampled_from(
        [
            "²",
            "٣",
            "OPS-²",
            "-99999999999999999999d",
            "startOfDay(-99999999y)",
            "startOfMonth(-999999999999M)",
            '"9999999999999999"',
            '"99999/01/01"',
            "\\ud800",
            '"\\ud83d"',
            "1e400",
            "nan",
            "-0",
            "endOfMonth(+99999M)",
            '"-1d, -2h"',
            '"a\ud800b"',  # a real lone surrogate, as a JSON body can carry
            "x\udfff",
            "\x00",
            '"\x85"',
        ]
    ),
    st.text(max_size=6).map(lambda t: '"' + t.replace("\\\\", "").replace('"', "") + '"'),
)
HOSTILE_FIELDS = st.sampled_from(
    [
        "project",
        "key",
        "id",
        "created",
        "updated",
        "due",
        "votes",
        "summary",
        "text",
        "status",
        "assignee",
        "sprint",
        "parent",
        "fixVersion",
        "cf[10200]",
    ]
)


@settings(max_examples=300, deadline=None)
@given(HOSTILE_FIELDS, OPS, HOSTILE_VALUES)
def test_hostile_values_only_ever_raise_jql_errors(field: str, op: str, value: str) -> None:
    jql = f"{field} {op} {value}"
    try:
        search(_SITE, jql, viewer_key=_SITE.admin_key)
    except JqlError as exc:
        for message in exc.error_messages:
            message.encode("utf-8")  # every message can go out as JSON


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_text_through_search_only_raises_jql_errors(text: str) -> None:
    try:
        search(_SITE, text, viewer_key=_SITE.admin_key, validation="warn")
    except JqlError as exc:
        for message in exc.error_messages:
            message.encode("utf-8")
