from __future__ import annotations

import pytest

from jirabridge.emulator.model import (
    FieldConfiguration,
    Flavour,
    NotFound,
    Site,
    ValidationFailed,
)

from .conftest import bug


def test_field_configuration_screens_required_and_defaults(site: Site) -> None:
    colour = site.create_custom_field(
        "Colour", "select", options=["Red", "Green"], on_screens=False
    )
    red = next(o.id for o in colour.options.values() if o.value == "Red")
    project = site.get_project("SMP")
    task = site.issue_type_by_name("Task")
    site.set_field_configuration(
        "SMP",
        FieldConfiguration(
            create_fields=["project", "issuetype", "summary", "reporter", colour.id, "priority"],
            edit_fields=["summary", colour.id],
            required={"summary", colour.id},
            defaults={"priority": 2},
        ),
        issue_type_id=task.id,
    )
    assert site.create_fields_for(project.id, task.id)[-2:] == [colour.id, "priority"]
    base = {"project": {"key": "SMP"}, "issuetype": {"id": str(task.id)}, "summary": "s"}
    with pytest.raises(ValidationFailed) as err:
        site.create_issue(site.admin_key, {**base, "labels": ["x"]})
    assert err.value.errors == {
        "labels": "Field 'labels' cannot be set. It is not on the appropriate screen, or unknown.",
        colour.id: "Colour is required.",
    }
    issue = site.create_issue(site.admin_key, {**base, colour.id: {"value": "Red"}})
    assert issue.fields[colour.id] == red
    assert issue.fields["priority"] == 2
    with pytest.raises(ValidationFailed) as err:
        site.edit_issue(site.admin_key, issue.key, {colour.id: None})
    assert err.value.errors == {colour.id: "Colour is required."}
    with pytest.raises(ValidationFailed):
        site.edit_issue(site.admin_key, issue.key, {"priority": {"id": "1"}})
    # other issue types of the project keep the default screens
    assert "labels" in site.create_fields_for(project.id, site.issue_type_by_name("Bug").id)
    with pytest.raises(ValidationFailed):
        site.set_field_configuration("SMP", FieldConfiguration(["nope"], []))


def test_components_and_versions_lifecycle(site: Site) -> None:
    backend, frontend = site.project_components("CLS")
    v1, v2 = site.project_versions("CLS")
    issue = bug(
        site,
        components=[{"id": str(backend.id)}, {"id": str(frontend.id)}],
        fixVersions=[{"name": "1.0"}],
        versions=[{"name": "1.0"}, {"name": "2.0"}],
    )
    with pytest.raises(ValidationFailed):
        site.create_component("CLS", "Backend")
    site.update_component(backend.id, name="Server side")
    assert site.get_component(backend.id).name == "Server side"
    site.delete_component(backend.id)
    assert issue.fields["components"] == [frontend.id]
    site.delete_version(v1.id)
    assert "fixVersions" not in issue.fields
    assert issue.fields["versions"] == [v2.id]
    with pytest.raises(NotFound):
        site.get_component(backend.id)
    released = site.update_version(v2.id, released=True)
    assert released.released
    with pytest.raises(ValidationFailed):
        site.update_version(v2.id, colour="red")


def test_user_updates_and_browse(site: Site) -> None:
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    site.update_user(bob.key, email="robert@jirabridge.test", display_name="Robert")
    assert site.find_user("robert@jirabridge.test") is bob
    assert site.find_user("bob@jirabridge.test") is None
    with pytest.raises(ValidationFailed):
        site.update_user(bob.key, email="admin@jirabridge.test")
    assert bob.email == "robert@jirabridge.test"
    project = site.get_project("CLS")
    assert site.can_browse(bob.key, project.id)
    site.set_user_active(bob.key, False)
    assert not site.can_browse(bob.key, project.id)
    assert not site.can_browse("nobody", project.id)


def test_project_rules(site: Site) -> None:
    with pytest.raises(ValidationFailed) as err:
        site.create_project("cls", "", "ghost")
    assert set(err.value.errors) == {"projectKey", "projectName", "projectLead"}
    with pytest.raises(ValidationFailed) as err:
        site.create_project("CLS", "Another", site.admin_key)
    assert "uses this project key" in err.value.errors["projectKey"]
    with pytest.raises(NotFound):
        site.get_project("NOPE")


def test_server_and_cloud_field_sets(site: Site) -> None:
    fields = site.fields
    if site.flavour is Flavour.SERVER:
        assert fields["customfield_10200"].name == "Sprint"
        assert fields["customfield_10201"].name == "Epic Link"
        assert fields["components"].name == "Component/s"
    else:
        assert fields["customfield_10021"].name == "Sprint"
        assert site.agile.epic_link is None and site.agile.epic_name is None
        assert fields["components"].name == "Components"
    sprint = fields[site.agile.sprint]
    assert (sprint.schema_type, sprint.items, sprint.custom) == (
        "array",
        "string",
        "com.pyxis.greenhopper.jira:gh-sprint",
    )


def test_delete_project_removes_everything_in_it(site: Site, events: list) -> None:
    from jirabridge.emulator.model import BoardType, IssueDeleted, PermissionDenied

    keep = bug(site, "other project", project="SMP")
    parent = bug(site, "parent")
    child = site.create_issue(
        site.admin_key,
        {
            "project": {"key": "CLS"},
            "issuetype": {"name": "Sub-task"},
            "summary": "c",
            "parent": {"key": parent.key},
        },
    )
    site.add_comment(
        site.admin_key,
        parent.key,
        "x"
        if site.flavour is Flavour.SERVER
        else {"type": "doc", "version": 1, "content": [{"type": "paragraph"}]},
    )
    site.create_link(site.admin_key, "Relates", parent.key, keep.key)
    board = site.create_board("b", BoardType.SCRUM, project_ref="CLS")
    site.create_sprint(site.admin_key, board.id, "s")
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    with pytest.raises(PermissionDenied):
        site.delete_project(bob.key, "CLS")
    site.delete_project(site.admin_key, "CLS")
    deleted = [e.issue.key for e in events if isinstance(e, IssueDeleted)]
    assert deleted == [child.key, parent.key]
    assert site.find_issue(parent.key) is None and site.find_issue(child.key) is None
    assert not site.comments and not site.boards and not site.sprints
    assert site.issue_links(keep.key) == []
    assert all(c.project_id != parent.project_id for c in site.components.values())
    with pytest.raises(NotFound):
        site.get_project("CLS")
    assert site.get_issue(keep.key) is keep
    site.create_project("CLS", "Classic again", site.admin_key)
    assert bug(site).key == "CLS-1"


def test_project_key_change_rekeys_issues(site: Site) -> None:
    a, b = bug(site, "a"), bug(site, "b")
    site.update_project("CLS", key="NEW", name="Renamed")
    assert (a.key, b.key) == ("NEW-1", "NEW-2")
    assert site.get_issue("CLS-2") is b and site.get_issue("NEW-2") is b
    assert site.get_project("NEW").name == "Renamed"
    with pytest.raises(NotFound):
        site.get_project("CLS")
    assert bug(site, "c", project="NEW").key == "NEW-3"
    with pytest.raises(ValidationFailed):
        site.update_project("NEW", key="SMP")
    with pytest.raises(ValidationFailed):
        site.update_project("NEW", key="bad key")


def test_server_username_rename_keeps_the_key(site: Site) -> None:
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    key = bob.key
    site.update_user(key, name="robert")
    if site.flavour is Flavour.SERVER:
        assert site.find_user("robert") is bob and site.find_user("bob") is None
        assert bob.key == key and bob.name == "robert"
        with pytest.raises(ValidationFailed):
            site.update_user(key, name="admin")
    else:
        assert bob.name is None  # Cloud users have no username
