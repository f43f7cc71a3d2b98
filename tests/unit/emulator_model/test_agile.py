from __future__ import annotations

from datetime import timedelta

import pytest

from jirabridge.emulator.model import (
    BoardType,
    Flavour,
    Site,
    SprintClosed,
    SprintStarted,
    SprintState,
    ValidationFailed,
)

from .conftest import FROZEN, bug


@pytest.fixture
def board(site: Site) -> int:
    return site.create_board("CLS board", BoardType.SCRUM, project_ref="CLS").id


def _sprint(site: Site, board: int, name: str = "S1") -> int:
    return site.create_sprint(
        site.admin_key, board, name, start_date=FROZEN, end_date=FROZEN + timedelta(days=14)
    ).id


def test_sprint_lifecycle_and_membership(site: Site, board: int, events: list) -> None:
    issues = [bug(site, f"b{n}") for n in range(3)]
    s1, s2 = _sprint(site, board), _sprint(site, board, "S2")
    site.move_to_sprint(site.admin_key, s1, [i.key for i in issues])
    fid = site.agile.sprint
    assert all(i.fields[fid] == [s1] for i in issues)
    assert [i.key for i in site.sprint_issues(s1)] == [i.key for i in issues]
    item = site.issue_changelog(issues[0].key)[-1].items[0]
    assert (item.field, item.fieldtype, item.to_value, item.to_string) == (
        "Sprint",
        "custom",
        str(s1),
        "S1",
    )
    site.start_sprint(site.admin_key, s1)
    assert isinstance(events[-1], SprintStarted)
    site.transition_issue(site.admin_key, issues[0].key, 5)  # resolved: done
    site.close_sprint(site.admin_key, s1, move_incomplete_to=s2)
    assert isinstance(events[-1], SprintClosed)
    assert site.sprints[s1].state is SprintState.CLOSED
    assert site.sprints[s1].complete_date == FROZEN
    assert issues[0].fields[fid] == [s1]
    assert issues[1].fields[fid] == [s1, s2]
    assert site.current_sprint(issues[1]).id == s2  # type: ignore[union-attr]
    assert site.current_sprint(issues[0]) is None


def test_agile_move_limits(site: Site, board: int) -> None:
    s1 = _sprint(site, board)
    many = [bug(site, f"b{n}").key for n in range(51)]
    with pytest.raises(ValidationFailed) as err:
        site.move_to_sprint(site.admin_key, s1, many)
    assert "50" in err.value.error_messages[0]
    assert all(site.agile.sprint not in site.get_issue(k).fields for k in many)
    site.move_to_sprint(site.admin_key, s1, many[:50])
    site.start_sprint(site.admin_key, s1)
    site.close_sprint(site.admin_key, s1)
    with pytest.raises(ValidationFailed) as err:
        site.move_to_sprint(site.admin_key, s1, many[50:])
    assert err.value.error_messages == ["You must specify a sprint which has not been completed."]
    with pytest.raises(ValidationFailed):
        site.update_sprint(site.admin_key, s1, name="again")
    with pytest.raises(ValidationFailed) as err:
        bug(site, "x", **{site.agile.sprint: s1})
    assert err.value.errors == {
        site.agile.sprint: "Issue can be assigned only active or future sprints."
    }


def test_sprint_field_takes_a_plain_number(site: Site, board: int) -> None:
    s1 = _sprint(site, board)
    for bad in ({"id": s1}, [s1], str(s1)):
        with pytest.raises(ValidationFailed) as err:
            bug(site, "x", **{site.agile.sprint: bad})
        assert err.value.error_messages == ["Number value expected as the Sprint id."]
        assert err.value.errors == {}
    with pytest.raises(ValidationFailed) as err:
        bug(site, "x", **{site.agile.sprint: 999})
    assert err.value.errors == {site.agile.sprint: "Sprint with id 999 does not exist."}
    issue = bug(site, "ok", **{site.agile.sprint: s1})
    assert issue.fields[site.agile.sprint] == [s1]
    site.edit_issue(site.admin_key, issue.key, {site.agile.sprint: None})
    assert site.agile.sprint not in issue.fields


def test_backlog_and_subtasks_follow_parent(site: Site, board: int) -> None:
    s1 = _sprint(site, board)
    parent = bug(site)
    child = site.create_issue(
        site.admin_key,
        {
            "project": {"key": "CLS"},
            "issuetype": {"name": "Sub-task"},
            "summary": "c",
            "parent": {"key": parent.key},
        },
    )
    with pytest.raises(ValidationFailed):
        site.move_to_sprint(site.admin_key, s1, [child.key])
    site.move_to_sprint(site.admin_key, s1, [parent.key])
    assert child.fields[site.agile.sprint] == [s1]
    assert parent.key not in [i.key for i in site.backlog_issues(board)]
    site.move_to_backlog(site.admin_key, [parent.key])
    assert site.agile.sprint not in parent.fields and site.agile.sprint not in child.fields
    assert [i.key for i in site.backlog_issues(board)] == [parent.key]


def test_sprint_rules(site: Site, board: int) -> None:
    future = site.create_sprint(site.admin_key, board, "No dates")
    with pytest.raises(ValidationFailed):
        site.start_sprint(site.admin_key, future.id)
    with pytest.raises(ValidationFailed):
        site.create_sprint(
            site.admin_key, board, "Backwards", start_date=FROZEN, end_date=FROZEN - timedelta(1)
        )
    kanban = site.create_board("K", BoardType.KANBAN, project_ref="SMP")
    with pytest.raises(ValidationFailed):
        site.create_sprint(site.admin_key, kanban.id, "S")
    updated = site.update_sprint(site.admin_key, future.id, goal="Ship it", name="Renamed")
    assert (updated.goal, updated.name) == ("Ship it", "Renamed")
    site.update_sprint(
        site.admin_key,
        future.id,
        state="active",
        start_date=FROZEN,
        end_date=FROZEN + timedelta(days=7),
    )
    assert future.state is SprintState.ACTIVE
    site.delete_sprint(site.admin_key, future.id)
    assert future.id not in site.sprints


def test_rank_order(site: Site) -> None:
    a, b, c, d = (bug(site, n) for n in "abcd")

    def order() -> list[str]:
        return [i.fields["summary"] for i in sorted(site.issues.values(), key=lambda i: i.rank)]

    assert order() == ["a", "b", "c", "d"]
    site.rank_issues(site.admin_key, [d.key, c.key], before=a.key)
    assert order() == ["d", "c", "a", "b"]
    site.rank_issues(site.admin_key, [d.key], after=b.key)
    assert order() == ["c", "a", "b", "d"]
    item = site.issue_changelog(d.key)[-1].items[0]
    assert (item.field, item.to_string) == ("Rank", "Ranked lower")
    with pytest.raises(ValidationFailed):
        site.rank_issues(site.admin_key, [a.key], before=b.key, after=c.key)
    assert site.lexo_rank(a) < site.lexo_rank(b)


def test_rank_renumbers_when_out_of_room(site: Site) -> None:
    a, b = bug(site, "a"), bug(site, "b")
    b.rank = a.rank + 1  # no room between them
    c = bug(site, "c")
    site.rank_issues(site.admin_key, [c.key], after=a.key)
    ranked = sorted(site.issues.values(), key=lambda i: i.rank)
    assert [i.fields["summary"] for i in ranked] == ["a", "c", "b"]


def test_epics(site: Site) -> None:
    fields = {"project": {"key": "CLS"}, "issuetype": {"name": "Epic"}, "summary": "E"}
    if site.agile.epic_name:
        fields[site.agile.epic_name] = "Epic one"
    epic = site.create_issue(site.admin_key, fields)
    s1, s2 = bug(site, "s1"), bug(site, "s2")
    site.set_epic(site.admin_key, epic.key, [s1.key, s2.key])
    assert [i.key for i in site.epic_issues(epic.key)] == [s1.key, s2.key]
    field = "Epic Link" if site.flavour is Flavour.SERVER else "IssueParentAssociation"
    item = site.issue_changelog(s1.key)[-1].items[0]
    assert (item.field, item.to_value, item.to_string) == (field, str(epic.id), epic.key)
    site.set_epic(site.admin_key, None, [s1.key])
    assert site.epic_of(s1) is None
    with pytest.raises(ValidationFailed):
        site.set_epic(site.admin_key, s2.key, [s1.key])  # s2 is no epic
    site.delete_issue(site.admin_key, epic.key)
    assert site.epic_of(s2) is None
