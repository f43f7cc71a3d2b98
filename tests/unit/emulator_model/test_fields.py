from __future__ import annotations

from typing import Any

import pytest

from jirabridge.emulator.model import Flavour, NotFound, Site, ValidationFailed

from .conftest import bug


def _refused(site: Site, fields: dict[str, Any], **kw: Any) -> ValidationFailed:
    issues_before = len(site.issues)
    numbers_before = {p.key: p.next_number for p in site.projects.values()}
    base = {"project": {"key": "CLS"}, "issuetype": {"name": "Bug"}, "summary": "s"}
    with pytest.raises(ValidationFailed) as err:
        site.create_issue(site.admin_key, {**base, **fields}, **kw)
    assert len(site.issues) == issues_before, "a refused create must not leave an issue"
    assert {p.key: p.next_number for p in site.projects.values()} == numbers_before
    assert err.value.status == 400
    return err.value


def test_missing_summary(site: Site) -> None:
    with pytest.raises(ValidationFailed) as err:
        site.create_issue(site.admin_key, {"project": {"key": "CLS"}, "issuetype": {"id": "1"}})
    if site.flavour is Flavour.CLOUD:
        # Cloud numbers its issue types differently: id 1 does not exist there
        assert err.value.errors == {"issuetype": "Specify a valid issue type"}
    else:
        assert err.value.errors == {"summary": "You must specify a summary of the issue."}


def test_unknown_and_off_screen_fields(site: Site) -> None:
    err = _refused(site, {"foo": 1, "status": {"id": "3"}})
    assert err.errors == {
        "foo": "Field 'foo' cannot be set. It is not on the appropriate screen, or unknown.",
        "status": "Field 'status' cannot be set. It is not on the appropriate screen, or unknown.",
    }


def test_bad_project_and_issue_type(site: Site) -> None:
    with pytest.raises(ValidationFailed) as err:
        site.create_issue(site.admin_key, {"project": {"key": "NOPE"}, "summary": "x"})
    server = site.flavour is Flavour.SERVER
    assert err.value.errors == {
        "project": "valid project is required" if server else "Specify a valid project ID or key"
    }
    with pytest.raises(ValidationFailed) as err:
        site.create_issue(site.admin_key, {"project": {"key": "CLS"}, "issuetype": {"name": "X"}})
    assert err.value.errors == {
        "issuetype": "valid issue type is required" if server else "Specify a valid issue type"
    }


def test_many_field_errors_are_reported_together(site: Site) -> None:
    err = _refused(
        site,
        {
            "priority": {"name": "Urgent"},
            "labels": ["two words"],
            "components": [{"name": "Nope"}],
            "fixVersions": [{"id": "99999"}],
            "duedate": "2026-02-30",
        },
    )
    assert err.errors == {
        "priority": "Priority name 'Urgent' is not valid"
        if site.flavour is Flavour.SERVER
        else "Specify a valid 'id' or 'name' for Priority",
        "labels": "The label 'two words' contains spaces which is invalid.",
        "components": "Component name 'Nope' is not valid",
        "fixVersions": "Version id '99999' is not valid",
        "duedate": "Error parsing date string: 2026-02-30",
    }


def test_user_fields(site: Site) -> None:
    err = _refused(
        site,
        {
            "assignee": {"name": "ghost"}
            if site.flavour is Flavour.SERVER
            else {"accountId": "ghost"}
        },
    )
    if site.flavour is Flavour.SERVER:
        assert err.errors == {"assignee": "User 'ghost' cannot be assigned issues."}
        err = _refused(site, {"reporter": {"name": "ghost"}})
        assert err.errors == {"reporter": "User 'ghost' does not exist."}
    else:
        assert err.errors == {"assignee": "Specify a valid value for assignee"}
    ina = site.find_user("ina@jirabridge.test")
    assert ina is not None
    err = _refused(site, {"assignee": {"accountId": ina.key, "name": ina.name}})
    assert err.errors == {"assignee": f"User '{ina.key}' cannot be assigned issues."}
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    issue = bug(site, assignee={"key": bob.key})
    assert issue.fields["assignee"] == bob.key
    assert issue.fields["reporter"] == site.admin_key


def test_custom_field_values(site: Site) -> None:
    select = site.create_custom_field("Colour", "select", options=["Red", "Green"])
    number = site.create_custom_field("Size", "float")
    multi = site.create_custom_field("Tags", "multiselect", options=["a", "b"])
    disabled = site.add_field_option(select.id, "Old", disabled=True)
    err = _refused(
        site,
        {select.id: {"value": "Blue"}, number.id: "big", multi.id: [{"id": "1"}]},
    )
    if site.flavour is Flavour.SERVER:
        assert err.errors == {
            select.id: "Option value 'Blue' is not valid",
            number.id: "'big' is an invalid number",
            multi.id: "Option id '1' is not valid",
        }
    else:
        assert err.errors == {
            select.id: "Specify a valid 'id' or 'name' for Colour",
            number.id: "'big' is an invalid number",
            multi.id: "Specify a valid 'id' or 'name' for Tags",
        }
        # Cloud refuses a bare string or a {"name"} object for a select
        for raw in ("Red", {"name": "Red"}):
            assert _refused(site, {select.id: raw}).errors == {
                select.id: "Specify a valid 'id' or 'name' for Colour"
            }
    err = _refused(site, {select.id: {"id": str(disabled.id)}})
    assert list(err.errors) == [select.id]
    green = next(o for o in select.options.values() if o.value == "Green")
    issue = bug(site, **{select.id: {"value": "Green"}, number.id: 3, multi.id: [{"value": "b"}]})
    assert issue.fields[select.id] == green.id
    assert issue.fields[number.id] == 3.0
    assert len(issue.fields[multi.id]) == 1


def test_rich_text_must_be_native(site: Site) -> None:
    if site.flavour is Flavour.SERVER:
        err = _refused(site, {"description": {"type": "doc", "version": 1, "content": []}})
        assert err.errors == {"description": "Operation value must be a string"}
    else:
        err = _refused(site, {"description": 42})
        assert err.errors == {
            "description": "Operation value must be an Atlassian Document (see the Atlassian "
            "Document Format)"
        }


def test_summary_rules(site: Site) -> None:
    assert _refused(site, {"summary": "x" * 256}).errors == {
        "summary": "Summary must be less than 255 characters."
    }
    assert _refused(site, {"summary": 5}).errors == {"summary": "Operation value must be a string"}


def test_sub_task_needs_a_parent(site: Site) -> None:
    with pytest.raises(ValidationFailed) as err:
        site.create_issue(
            site.admin_key,
            {"project": {"key": "CLS"}, "issuetype": {"name": "Sub-task"}, "summary": "s"},
        )
    assert err.value.errors == {
        "parent": "Issue type is a sub-task but parent issue key or id not specified."
    }
    parent = bug(site)
    child = site.create_issue(
        site.admin_key,
        {
            "project": {"key": "CLS"},
            "issuetype": {"name": "Sub-task"},
            "summary": "s",
            "parent": {"key": parent.key},
        },
    )
    assert [i.key for i in site.issue_subtasks(parent.key)] == [child.key]
    with pytest.raises(ValidationFailed) as err:
        site.create_issue(
            site.admin_key,
            {
                "project": {"key": "CLS"},
                "issuetype": {"name": "Sub-task"},
                "summary": "s",
                "parent": {"key": child.key},
            },
        )
    assert "hierarchy" in err.value.errors["parent"]


def test_epic_name_required_on_server_only(site: Site) -> None:
    fields = {"project": {"key": "CLS"}, "issuetype": {"name": "Epic"}, "summary": "E"}
    if site.flavour is Flavour.SERVER:
        with pytest.raises(ValidationFailed) as err:
            site.create_issue(site.admin_key, fields)
        assert err.value.errors == {site.agile.epic_name: "Epic Name is required."}
    else:
        epic = site.create_issue(site.admin_key, fields)
        story = site.create_issue(
            site.admin_key,
            {**fields, "issuetype": {"name": "Story"}, "parent": {"key": epic.key}},
        )
        assert site.epic_of(story) is epic


def test_issue_lookup(site: Site) -> None:
    issue = bug(site)
    assert site.get_issue(issue.key.lower()) is issue
    assert site.get_issue(str(issue.id)) is issue
    with pytest.raises(NotFound) as err:
        site.get_issue("CLS-999")
    assert err.value.status == 404
    assert err.value.error_messages == [
        "Issue does not exist or you do not have permission to see it."
    ]
