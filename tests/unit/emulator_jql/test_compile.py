"""Compiler semantics over a fake resolver: every operator, function, sort and error."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from jirabridge.emulator.jql import (
    FieldRef,
    JqlError,
    SortSpec,
    compile_query,
    parse,
    pinned_literals,
)

from ._fake import FakeIssue, FakeResolver

NOW = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)  # a Tuesday

ISSUES = [
    FakeIssue(
        "OPS-1",
        "Printer on fire",
        status=1,
        priority=1,
        assignee="JIRAUSER1",
        labels=frozenset({"hw", "urgent"}),
        created=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        updated=datetime(2026, 11, 24, 3, 10, tzinfo=UTC),
        description="The printer is burning",
        comments=("Fire brigade called",),
        points=3.0,
        sprints=frozenset({2}),
    ),
    FakeIssue(
        "OPS-2",
        "Renew TLS certificates",
        status=3,
        priority=2,
        assignee="JIRAUSER2",
        labels=frozenset({"security"}),
        created=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        updated=datetime(2026, 11, 24, 3, 9, tzinfo=UTC),
        due=datetime(2026, 11, 24, tzinfo=UTC),
        points=5.0,
        sprints=frozenset({1, 2}),
    ),
    FakeIssue(
        "OPS-10",
        "Printing reports is slow",
        status=10001,
        priority=None,
        created=datetime(2026, 10, 1, tzinfo=UTC),
        updated=datetime(2026, 11, 1, tzinfo=UTC),
    ),
    FakeIssue(
        "DEV-1",
        "Fix login page",
        project=10001,
        status=1,
        priority=4,
        assignee="JIRAUSER3",
        reporter="JIRAUSER3",
        created=datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
        updated=datetime(2026, 11, 24, 3, 20, tzinfo=UTC),
        description="users cannot log in",
    ),
]


def keys(jql: str, *, viewer: str | None = "JIRAUSER1", tz=UTC, default=()) -> list[str]:
    compiled = compile_query(parse(jql), FakeResolver(NOW, viewer, tz), default_order=default)
    return [i.key for i in compiled.run(ISSUES)]


def error(jql: str) -> str:
    with pytest.raises(JqlError) as err:
        compile_query(parse(jql), FakeResolver(NOW))
    return err.value.message


def test_sync_poll_query_filters_and_orders() -> None:
    got = keys('project = OPS AND updated >= "2026/11/24 03:10" ORDER BY updated ASC, key ASC')
    assert got == ["OPS-1"]
    got = keys('project = OPS AND updated >= "2026/11/24 03:09" ORDER BY updated ASC, key ASC')
    assert got == ["OPS-2", "OPS-1"]


def test_empty_query_uses_default_order() -> None:
    default = (SortSpec(FieldRef("key"), True),)
    assert keys("", default=default) == ["OPS-10", "OPS-2", "OPS-1", "DEV-1"]
    assert keys("") == [i.key for i in ISSUES]  # no order: input order kept


def test_project_by_key_name_id_and_in() -> None:
    assert keys("project = ops") == ["OPS-1", "OPS-2", "OPS-10"]
    assert keys('project = "Development"') == ["DEV-1"]
    assert keys("project = 10001") == ["DEV-1"]
    assert keys("project in (DEV, OPS) ORDER BY key") == ["DEV-1", "OPS-1", "OPS-2", "OPS-10"]
    assert keys("project not in (OPS)") == ["DEV-1"]


def test_field_names_are_case_insensitive() -> None:
    assert keys("PROJECT = DEV") == keys("Project = DEV") == ["DEV-1"]


def test_key_equality_and_ranges_within_project() -> None:
    assert keys("key = OPS-2") == ["OPS-2"]
    assert keys("issuekey in (OPS-1, DEV-1)") == ["OPS-1", "DEV-1"]
    assert keys("key > OPS-1 ORDER BY key ASC") == ["OPS-2", "OPS-10"]
    assert keys("key <= OPS-2 ORDER BY key DESC") == ["OPS-2", "OPS-1"]
    assert error("key = NOPE-1") == "The value 'NOPE-1' does not exist for the field 'key'."
    assert error("key = foo") == "The issue key 'foo' for field 'key' is invalid."


def test_not_equals_skips_empty_values_like_jira() -> None:
    assert keys("assignee != alice") == ["OPS-2", "DEV-1"]  # OPS-10 unassigned: excluded
    assert keys("priority != High") == ["OPS-1", "DEV-1"]


def test_is_empty_and_equals_empty_and_in_with_empty() -> None:
    assert keys("assignee is EMPTY") == ["OPS-10"]
    assert keys("assignee = EMPTY") == ["OPS-10"]
    assert keys("assignee is not null") == ["OPS-1", "OPS-2", "DEV-1"]
    assert keys("assignee in (bob, EMPTY)") == ["OPS-2", "OPS-10"]
    assert keys("labels is empty") == ["OPS-10", "DEV-1"]
    assert keys("due is not empty") == ["OPS-2"]


def test_status_category_and_status_by_name_or_id() -> None:
    assert keys('statusCategory = "In Progress"') == ["OPS-2"]
    assert keys("statusCategory != Done") == ["OPS-1", "OPS-2", "DEV-1"]
    assert keys("status = 10001") == ["OPS-10"]
    assert keys('status in ("open", Done)') == ["OPS-1", "OPS-10", "DEV-1"]


def test_multi_valued_labels() -> None:
    assert keys("labels = hw") == ["OPS-1"]
    assert keys("labels in (security, hw)") == ["OPS-1", "OPS-2"]
    assert keys("labels != hw") == ["OPS-2"]  # issues without labels never match !=
    assert keys("labels not in (hw, security)") == []


def test_boolean_logic_and_not() -> None:
    assert keys("project = OPS AND NOT status = Done") == ["OPS-1", "OPS-2"]
    assert keys("status = Done OR assignee = carol") == ["OPS-10", "DEV-1"]
    assert keys("NOT (project = OPS OR priority = Low)") == []
    assert keys("project = OPS AND (status = Open OR status = Done)") == ["OPS-1", "OPS-10"]


def test_users_current_user_and_members_of() -> None:
    assert keys("assignee = currentUser()") == ["OPS-1"]
    assert keys("assignee = currentUser()", viewer="JIRAUSER3") == ["DEV-1"]
    assert keys("assignee = currentUser()", viewer=None) == []
    assert keys('assignee in membersOf("devs")') == ["OPS-1", "OPS-2"]
    assert keys("reporter not in membersOf(devs)") == ["DEV-1"]
    assert error('assignee in membersOf("ghosts")') == (
        "Function 'membersOf' can not generate a list of usernames for group 'ghosts'; "
        "the group does not exist."
    )
    assert error("assignee = membersOf()") == (
        "Function 'membersOf' expected '1' arguments but received '0'."
    )
    assert (
        error("assignee = nosuch") == "The value 'nosuch' does not exist for the field 'assignee'."
    )


def test_sprint_functions() -> None:
    assert keys("sprint in openSprints()") == ["OPS-1", "OPS-2"]
    assert keys("sprint in closedSprints()") == ["OPS-2"]
    assert keys('sprint = "Sprint 1"') == ["OPS-2"]
    assert keys("sprint = 2") == ["OPS-1", "OPS-2"]
    assert keys("sprint is empty") == ["OPS-10", "DEV-1"]


def test_absolute_dates_all_formats() -> None:
    assert keys('created >= "2026/11/23"') == ["OPS-2", "DEV-1"]
    assert keys('created >= "2026-11-23 12:00"') == ["OPS-2", "DEV-1"]
    assert keys('created > "2026/11/23 12:00"') == ["DEV-1"]
    assert keys("created < 2026-11-01") == ["OPS-10"]
    # a date-only literal with = means that whole day
    assert keys('created = "2026/11/24"') == ["DEV-1"]
    assert keys('created != "2026/11/24"') == ["OPS-1", "OPS-2", "OPS-10"]
    # <= a date means <= its midnight (Jira's well-known behaviour)
    assert keys('created <= "2026/11/20"') == ["OPS-10"]


def test_dates_are_read_in_site_time_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")  # 2026/11/24 00:00 JST == 2026/11/23 15:00 UTC
    assert keys('created >= "2026/11/24"', tz=tokyo) == ["DEV-1"]
    assert keys('created >= "2026/11/23 20:00"', tz=tokyo) == ["OPS-2", "DEV-1"]


def test_relative_dates() -> None:
    assert keys("updated >= -1h") == ["OPS-1", "OPS-2", "DEV-1"]
    assert keys("updated >= -20m") == ["OPS-1", "DEV-1"]
    assert keys("updated >= -15m") == ["DEV-1"]
    assert keys('created > "-1d 2h"') == ["OPS-2", "DEV-1"]
    assert keys("created > -2w") == ["OPS-1", "OPS-2", "DEV-1"]
    assert keys("created < -30d") == ["OPS-10"]
    assert keys("created < -60d") == []
    assert keys("created < 4w") == [i.key for i in ISSUES]


def test_date_functions_with_offsets() -> None:
    assert keys("created >= startOfDay()") == ["DEV-1"]
    assert keys("created >= startOfDay(-1d)") == ["OPS-2", "DEV-1"]
    assert keys("created >= startOfDay(-1)") == ["OPS-2", "DEV-1"]
    assert keys("due <= endOfDay()") == ["OPS-2"]
    assert keys("created >= startOfWeek()") == ["OPS-2", "DEV-1"]  # week began Sunday 22nd
    assert keys("created >= startOfMonth()") == ["OPS-1", "OPS-2", "DEV-1"]
    assert keys("created >= startOfMonth(-1M)") == [i.key for i in ISSUES]
    assert keys("updated <= now()") == [i.key for i in ISSUES]
    assert error("created > startOfDay(yesterday)") == (
        "Duration for function 'startOfDay' should have the format (+/-)n(yMwdm), "
        "e.g -1M for 1 month earlier."
    )


def test_bad_dates_get_jira_message() -> None:
    assert error('created > "2026/13/45"') == (
        "Date value '2026/13/45' for field 'created' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
        "format e.g. '-5d', '4w 2d'."
    )
    assert "is invalid" in error('updated >= "yesterday"')


def test_text_contains() -> None:
    assert keys('summary ~ "printer"') == ["OPS-1"]
    assert keys('summary ~ "print*"') == ["OPS-1", "OPS-10"]
    assert keys('summary ~ "PRINTER fire"') == ["OPS-1"]  # every word, any order, any case
    assert keys('summary ~ "fire printer"') == ["OPS-1"]
    assert keys('summary ~ "\\"printer on fire\\""') == ["OPS-1"]
    assert keys('summary ~ "\\"fire printer\\""') == []  # a phrase keeps word order
    assert keys('summary ~ "the printers"') == ["OPS-1"]  # stop word dropped, plural folded
    assert keys('summary ~ "certificate"') == ["OPS-2"]
    assert keys('summary ~ "report"') == ["OPS-10"]
    assert keys('summary ~ "the"') == []  # only stop words: nothing to search
    assert keys('summary !~ "print*"') == ["OPS-2", "DEV-1"]
    assert keys("summary ~ TLS") == ["OPS-2"]


def test_text_field_covers_description_and_comments() -> None:
    assert keys('text ~ "brigade"') == ["OPS-1"]
    assert keys('text ~ "burning"') == ["OPS-1"]
    assert keys('text ~ "log"') == ["DEV-1"]
    assert keys("description is empty") == ["OPS-2", "OPS-10"]


def test_text_errors() -> None:
    assert error('summary ~ "*fire"') == (
        "The text query '*fire' for field 'summary' is not allowed to start with a wildcard."
    )
    assert error("summary = fire") == "The operator '=' is not supported by the 'summary' field."
    assert error("summary is empty") == (
        "The field 'summary' does not support searching for EMPTY values."
    )


def test_custom_field_by_id_and_name_numbers() -> None:
    assert keys("cf[10016] > 3") == ["OPS-2"]
    assert keys('"Story Points" >= 3 ORDER BY cf[10016] DESC') == ["OPS-2", "OPS-1"]
    assert keys("cf[10016] in (3, 5)") == ["OPS-1", "OPS-2"]
    assert keys("cf[10016] is empty") == ["OPS-10", "DEV-1"]
    assert error("cf[10016] = many") == "The value 'many' for field 'cf[10016]' is invalid."
    assert error("cf[99999] = 1") == (
        "Field 'cf[99999]' does not exist or you do not have permission to view it."
    )


def test_semantic_errors_use_jira_wording() -> None:
    assert error("nosuch = 1") == (
        "Field 'nosuch' does not exist or you do not have permission to view it."
    )
    assert error("project = XYZ") == "The value 'XYZ' does not exist for the field 'project'."
    assert error("project ~ OPS") == "The operator '~' is not supported by the 'project' field."
    assert error("project > OPS") == "The operator '>' is not supported by the 'project' field."
    assert error("assignee = nosuchFn()") == "Unable to find JQL function 'nosuchFn()'."
    assert error("project = currentUser()") == (
        "The function 'currentUser' is not supported by the 'project' field."
    )
    assert error("order by description") == "Field 'description' does not support sorting."
    assert error("project = (OPS, DEV)") == (
        "The operator '=' does not support multiple values for the field 'project'."
    )


def test_sorting_rules() -> None:
    # empty values last ascending, first descending
    assert keys("project = OPS ORDER BY priority ASC") == ["OPS-1", "OPS-2", "OPS-10"]
    assert keys("project = OPS ORDER BY priority DESC") == ["OPS-10", "OPS-2", "OPS-1"]
    # key sorts by project then number (OPS-10 after OPS-2)
    assert keys("order by key") == ["DEV-1", "OPS-1", "OPS-2", "OPS-10"]
    # multi-key with ties: status then key desc
    assert keys("ORDER BY status ASC, key DESC") == ["OPS-1", "DEV-1", "OPS-2", "OPS-10"]
    assert keys("order by created desc") == ["DEV-1", "OPS-2", "OPS-1", "OPS-10"]


def test_compile_once_run_many() -> None:
    compiled = compile_query(parse("project = OPS"), FakeResolver(NOW))
    assert [compiled.matches(i) for i in ISSUES] == [True, True, True, False]
    assert compiled.run(reversed(ISSUES))[0].key == "OPS-10"


def test_pinned_literals_for_fast_paths() -> None:
    names = {"project"}
    assert pinned_literals(parse("project = OPS AND status = Done").where, names) == {"OPS"}
    assert pinned_literals(parse("project in (A, B) OR project = C").where, names) == {
        "A",
        "B",
        "C",
    }
    assert pinned_literals(parse("project = A OR status = Done").where, names) is None
    assert pinned_literals(parse("NOT project = A").where, names) is None
    assert pinned_literals(parse("project != A").where, names) is None
    assert pinned_literals(parse("").where, names) is None
    assert pinned_literals(parse("key in (A-1, A-2)").where, {"key", "issuekey"}) == {"A-1", "A-2"}


def test_scan_speed_smoke() -> None:
    """Not a timing assertion: a 20k scan must simply work with compile-once closures."""
    many = [
        FakeIssue(f"OPS-{n}", f"issue {n}", status=(1, 3, 10001)[n % 3]) for n in range(1, 20001)
    ]
    compiled = compile_query(parse("project = OPS AND status = Done"), FakeResolver(NOW))
    assert len([i for i in many if compiled.matches(i)]) == 6667


def test_every_validation_problem_is_reported_at_once() -> None:
    with pytest.raises(JqlError) as err:
        compile_query(parse("project = 99999 AND project = 88888"), FakeResolver(NOW))
    assert err.value.error_messages == (
        "A value with ID '99999' does not exist for the field 'project'.",
        "A value with ID '88888' does not exist for the field 'project'.",
    )
    assert err.value.jira is not None
    assert list(err.value.jira.error_messages) == list(err.value.error_messages)
    # a quoted number is a name, not an id
    assert error('project = "99999"') == "The value '99999' does not exist for the field 'project'."
    both = compile_error("nosuch = 1 AND project = XYZ ORDER BY bogus")
    assert both == (
        "Field 'nosuch' does not exist or you do not have permission to view it.",
        "The value 'XYZ' does not exist for the field 'project'.",
        "Not able to sort using field 'bogus'.",
    )


def compile_error(jql: str) -> tuple[str, ...]:
    with pytest.raises(JqlError) as err:
        compile_query(parse(jql), FakeResolver(NOW))
    return err.value.error_messages


def test_sort_validation() -> None:
    assert error("order by bogus") == "Not able to sort using field 'bogus'."
    assert error("order by key, key desc") == (
        "The sort field 'key' is referenced multiple times in the JQL sort."
    )
    assert error("order by key, issuekey") == (
        "The sort field 'issuekey' is referenced multiple times in the JQL sort. "
        "Field 'issuekey' is an alias for field 'key'."
    )


def test_long_period_units_and_commas() -> None:
    assert keys('updated >= "-20minutes"') == keys("updated >= -20m") == ["OPS-1", "DEV-1"]
    assert keys('created > "-1days, 2hours"') == ["OPS-2", "DEV-1"]
    assert keys('created > "-2weeks"') == keys("created > -2w")
    for bad in ("-100milestone", "-4humor", "-10wombat"):
        assert error(f'updated >= "{bad}"').startswith(f"Date value '{bad}' for field 'updated'")


def test_is_takes_only_empty() -> None:
    assert error("assignee is bob") == (
        "The operator 'is' only supports the use of EMPTY or NULL (field 'assignee')."
    )


def test_free_text_without_order_by_ranks_by_relevance() -> None:
    default = (SortSpec(FieldRef("key"), True),)
    ranked = [
        FakeIssue("OPS-1", "printer"),
        FakeIssue("OPS-2", "printer printer jam in the printer room"),
        FakeIssue("OPS-3", "the new printer for the big office on the second floor"),
        FakeIssue("OPS-4", "scanner"),
    ]

    def run(jql: str) -> list[str]:
        compiled = compile_query(parse(jql), FakeResolver(NOW), default_order=default)
        return [i.key for i in compiled.run(ranked)]

    # more hits and shorter texts first; the default order only breaks ties
    assert run("summary ~ printer") == ["OPS-2", "OPS-1", "OPS-3"]
    # an explicit ORDER BY wins over relevance; non-text queries keep the default order
    assert run("summary ~ printer ORDER BY key ASC") == ["OPS-1", "OPS-2", "OPS-3"]
    assert run("project = OPS") == ["OPS-4", "OPS-3", "OPS-2", "OPS-1"]


def test_warn_validation_runs_the_query_with_faulty_clauses_matching_nothing() -> None:
    from jirabridge.emulator.jql import Validation

    def run(jql: str, validation: str) -> tuple[list[str], tuple[str, ...]]:
        compiled = compile_query(parse(jql), FakeResolver(NOW), validation=validation)
        return [i.key for i in compiled.run(ISSUES)], compiled.warnings

    for bad in (
        "colour = red",
        "status = Shipped",
        "assignee = nosuchFn()",
        "updated >= yesterday",
    ):
        assert run(bad, "warn")[0] == []
        assert run(bad, "none") == ([], ())
    keys_, warnings = run("project = DEV OR colour = red ORDER BY zzfield, key", "warn")
    assert keys_ == ["DEV-1"]
    assert warnings == (
        "Field 'colour' does not exist or you do not have permission to view it.",
        "Not able to sort using field 'zzfield'.",
    )
    assert run("project = OPS ORDER BY zzfield", Validation.NONE.value)[0] == [
        "OPS-1",
        "OPS-2",
        "OPS-10",
    ]
    with pytest.raises(JqlError, match="'lenient' for 'validateQuery' is not valid"):
        compile_query(parse("project = OPS"), FakeResolver(NOW), validation="lenient")
