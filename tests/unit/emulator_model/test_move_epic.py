from __future__ import annotations

import pytest

from jirabridge.emulator.model import Flavour, IssueUpdated, Site, ValidationFailed

from .conftest import bug


def test_move_issue_to_another_project(site: Site, events: list) -> None:
    issue = bug(site, components=[{"name": "Backend"}])
    site.transition_issue(site.admin_key, issue.key, 4)  # In Progress: in both workflows
    child = site.create_issue(
        site.admin_key,
        {
            "project": {"key": "CLS"},
            "issuetype": {"name": "Sub-task"},
            "summary": "c",
            "parent": {"key": issue.key},
        },
    )
    old_key, old_child_key = issue.key, child.key
    history = site.move_issue(site.admin_key, issue.key, "SMP")
    assert issue.key == "SMP-1" and child.key == "SMP-2"
    assert site.get_issue(old_key) is issue and site.get_issue(old_child_key) is child
    assert issue.project_id == site.get_project("SMP").id
    assert [i.key for i in site.project_issues("SMP")] == ["SMP-1", "SMP-2"]
    assert site.project_issues("CLS") == []
    fields = [(i.field, i.from_string, i.to_string) for i in history.items]
    assert fields[:3] == [
        ("project", "Classic", "Simple"),
        ("Key", old_key, "SMP-1"),
        ("Workflow", "classic", "simplified"),
    ]
    assert ("Component", "Backend", None) in fields
    assert site.statuses[issue.status_id].name == "In Progress"
    assert site.statuses[child.status_id].name == "To Do"  # Open is not in the new workflow
    moved = [e for e in events if isinstance(e, IssueUpdated) and e.event_type == "issue_moved"]
    assert [e.issue.key for e in moved] == ["SMP-1", "SMP-2"]
    with pytest.raises(ValidationFailed):
        site.move_issue(site.admin_key, child.key, "CLS")
    with pytest.raises(ValidationFailed):
        site.move_issue(site.admin_key, issue.key, "SMP")
    # new issues in the old project keep counting from where they were
    assert bug(site).key == "CLS-3"


def test_epic_done_flag(site: Site) -> None:
    fields = {"project": {"key": "CLS"}, "issuetype": {"name": "Epic"}, "summary": "E"}
    if site.agile.epic_name:
        fields[site.agile.epic_name] = "E"
    epic = site.create_issue(site.admin_key, fields)
    if site.flavour is Flavour.CLOUD:
        with pytest.raises(ValidationFailed):
            site.set_epic_done(site.admin_key, epic.key, True)
        return
    status_field = site.agile.epic_status
    assert status_field is not None
    site.set_epic_done(site.admin_key, epic.key, True)
    option = site.fields[status_field].options[epic.fields[status_field]]
    assert option.value == "Done"
    item = site.issue_changelog(epic.key)[-1].items[0]
    assert (item.field, item.to_string) == ("Epic Status", "Done")
    site.set_epic_done(site.admin_key, epic.key, False)
    assert site.fields[status_field].options[epic.fields[status_field]].value == "To Do"
    with pytest.raises(ValidationFailed):
        site.set_epic_done(site.admin_key, bug(site).key, True)
