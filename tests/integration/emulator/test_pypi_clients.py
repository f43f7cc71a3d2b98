"""The ``jira`` and ``atlassian-python-api`` clients work against both emulators over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from atlassian import Jira as AtlassianJira
from jira import JIRA

from jirabridge.emulator import create_app
from tests.support.served import base_url_of, bound_socket, serve_on
from tests.unit.emulator_http.sites import AUTH, small_site


@pytest.fixture(params=["server", "cloud"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, Any]]:
    flavour = str(request.param)
    sock = bound_socket()
    app = create_app(flavour, small_site(flavour), base_url=base_url_of(sock))
    with serve_on(app, sock) as url:
        yield flavour, url, app


def test_jira_client(served) -> None:
    flavour, url, app = served
    client = JIRA(server=url, basic_auth=AUTH[flavour], get_server_info=True)
    try:
        assert client._is_cloud is (flavour == "cloud")
        issue = client.create_issue(
            project="DEMO",
            summary="from jira lib",
            issuetype={"name": "Task"},
            description="wiki *text*",
        )
        assert issue.key.startswith("DEMO-")
        again = client.issue(issue.key)
        assert again.fields.summary == "from jira lib"
        assert again.fields.description == "wiki *text*"
        found = client.search_issues("project = DEMO ORDER BY key ASC", maxResults=50)
        assert issue.key in [i.key for i in found]
        transitions = {t["name"]: t["id"] for t in client.transitions(issue)}
        assert transitions
        client.transition_issue(issue, next(iter(transitions.values())))
        assert client.issue(issue.key).fields.status.name != "To Do"
        comment = client.add_comment(issue, "a comment from the jira lib")
        assert comment.body == "a comment from the jira lib"
        assert [c.body for c in client.comments(issue)] == ["a comment from the jira lib"]
        bob = "bob" if flavour == "server" else app.site.find_user("bob@example.org").key
        assert client.assign_issue(issue, bob if flavour == "server" else "Bob Baker")
        assert app.site.get_issue(issue.key).fields["assignee"] == app.site.get_user(bob).key
    finally:
        client.close()


def test_atlassian_client(served) -> None:
    flavour, url, app = served
    user, secret = AUTH[flavour]
    client = AtlassianJira(url=url, username=user, password=secret, cloud=flavour == "cloud")
    created = client.issue_create(
        fields={
            "project": {"key": "DEMO"},
            "issuetype": {"name": "Task"},
            "summary": "from atlassian",
        }
    )
    key = created["key"]
    got = client.issue(key)
    assert got["fields"]["summary"] == "from atlassian"
    found = client.jql("project = DEMO", fields=["summary"])
    assert key in [i["key"] for i in found["issues"]]
    transitions = client.get_issue_transitions(key)
    assert transitions
    client.set_issue_status(key, transitions[0]["name"])
    status = app.site.statuses[app.site.get_issue(key).status_id]
    assert status.name == transitions[0]["to"]
    client.issue_add_comment(key, "comment from atlassian")
    assert [c.body for c in app.site.issue_comments(key)][-1] in (
        "comment from atlassian",
        {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [{"type": "text", "text": "comment from atlassian"}],
                }
            ],
        },
    )
    bob = app.site.find_user("bob") or app.site.find_user("bob@example.org")
    client.assign_issue(key, bob.key if flavour == "cloud" else "bob")
    assert app.site.get_issue(key).fields["assignee"] == bob.key


def test_jira_client_agile(served) -> None:
    flavour, url, app = served
    client = JIRA(server=url, basic_auth=AUTH[flavour])
    try:
        boards = client.boards()
        assert [b.name for b in boards] == ["DEMO board"]
        sprints = client.sprints(boards[0].id)
        assert [s.name for s in sprints] == ["Sprint 1"]
        new = client.create_sprint("Sprint 2", boards[0].id)
        assert new.name == "Sprint 2"
        client.add_issues_to_sprint(new.id, ["DEMO-1", "DEMO-2"])
        assert {i.key for i in app.site.sprint_issues(new.id)} == {"DEMO-1", "DEMO-2"}
        sprint_field = app.site.agile.sprint
        issue = client.issue("DEMO-1")
        assert getattr(issue.fields, sprint_field)
    finally:
        client.close()


def test_jira_client_attachments_and_links(served) -> None:
    import io

    flavour, url, app = served
    client = JIRA(server=url, basic_auth=AUTH[flavour])
    try:
        attachment = client.add_attachment(
            "DEMO-1", attachment=io.BytesIO(b"notes"), filename="n.txt"
        )
        assert attachment.filename == "n.txt"
        fetched = client.issue("DEMO-1").fields.attachment
        assert [a.get() for a in fetched] == [b"notes"]
        client.create_issue_link("Blocks", "DEMO-1", "DEMO-2")
        links = client.issue("DEMO-2").fields.issuelinks
        assert links[0].inwardIssue.key == "DEMO-1"
        client.add_simple_link("DEMO-1", {"url": "https://example.org", "title": "Example"})
        assert [r.object.url for r in client.remote_links("DEMO-1")] == ["https://example.org"]
    finally:
        client.close()
