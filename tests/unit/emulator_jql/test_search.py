"""search(): JQL over a real model Site, per flavour, with permissions and paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jirabridge.emulator.jql import JqlError
from jirabridge.emulator.model import Flavour, Site
from jirabridge.emulator.search import (
    UNBOUNDED,
    PageTokenError,
    SearchResult,
    plain_text,
    search,
)

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def _adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


@dataclass
class World:
    site: Site
    admin: str
    bob: str
    carol: str

    def keys(self, jql: str, viewer: str | None = "admin", **kw: Any) -> list[str]:
        viewer_key = self.admin if viewer == "admin" else viewer
        return [i.key for i in search(self.site, jql, viewer_key=viewer_key, **kw).issues]


def _build(flavour: Flavour) -> World:
    site = Site(flavour)
    site.clock.freeze(T0)
    server = flavour is Flavour.SERVER
    bob = site.create_user("Bob Builder", name="bob" if server else None, email="bob@corp.io")
    carol = site.create_user("Carol Jones", name="carol" if server else None, email="c@corp.io")
    site.create_group("devs")
    site.add_to_group("devs", bob.key)
    admin = site.admin_key
    site.create_project("OPS", "Operations", admin)
    site.create_project("DEV", "Development", admin)

    def user(u: Any) -> dict[str, str]:
        return {"name": u.name} if server else {"accountId": u.key}

    def text(t: str) -> Any:
        return t if server else _adf(t)

    rows = [
        ("OPS", "Printer on fire", bob, "Highest", ["hw"], "The printer is burning", -72),
        ("OPS", "Renew TLS certificates", carol, "High", ["security"], None, -24),
        ("OPS", "Printing reports is slow", None, "Low", [], None, -1),
        ("DEV", "Fix login page", bob, "Medium", ["web"], "users cannot log in", -2),
    ]
    for project, summary, assignee, prio, labels, desc, hours in rows:
        fields: dict[str, Any] = {
            "project": {"key": project},
            "summary": summary,
            "issuetype": {"name": "Task"},
            "priority": {"name": prio},
            "labels": labels,
        }
        if assignee is not None:
            fields["assignee"] = user(assignee)
        if desc is not None:
            fields["description"] = text(desc)
        site.clock.freeze(T0 + timedelta(hours=hours))
        site.create_issue(admin, fields)
    site.clock.freeze(T0 + timedelta(minutes=10))
    site.add_comment(admin, "OPS-2", text("Fire brigade called"))
    site.clock.freeze(T0 + timedelta(minutes=30))
    return World(site, admin, bob.key, carol.key)


@pytest.fixture(params=[Flavour.SERVER, Flavour.CLOUD], ids=["server", "cloud"])
def world(request: pytest.FixtureRequest) -> World:
    return _build(request.param)


@pytest.fixture
def server() -> World:
    return _build(Flavour.SERVER)


@pytest.fixture
def cloud() -> World:
    return _build(Flavour.CLOUD)


def test_sync_poll_query(world: World) -> None:
    jql = 'project = OPS AND updated >= "2026/11/23 03:00" ORDER BY updated ASC, key ASC'
    assert world.keys(jql) == ["OPS-3", "OPS-2"]  # OPS-2 touched by its comment at 03:10
    jql = 'project = OPS AND updated >= "2026/11/24 03:05" ORDER BY updated ASC, key ASC'
    assert world.keys(jql) == ["OPS-2"]


def test_default_order_is_key_desc(world: World) -> None:
    assert world.keys("") == ["OPS-3", "OPS-2", "OPS-1", "DEV-1"]
    assert world.keys("project in (OPS, DEV)") == ["OPS-3", "OPS-2", "OPS-1", "DEV-1"]


def test_fast_paths_agree_with_full_scan(world: World) -> None:
    # the same predicate written so no fast path applies
    assert world.keys("project = OPS") == world.keys("project = OPS OR project = OPS")
    assert world.keys("project = OPS") == world.keys("NOT project != OPS")
    assert world.keys("key in (OPS-1, DEV-1) order by key") == ["DEV-1", "OPS-1"]
    assert world.keys("key = ops-2") == ["OPS-2"]
    assert world.keys("key = OPS-2 AND status = Done") == []
    first = world.site.issues_by_key["OPS-1"]
    assert world.keys(f"id = {first}") == ["OPS-1"]


def test_project_by_name_and_id(world: World) -> None:
    pid = world.site.projects_by_key["DEV"]
    assert world.keys('project = "Development"') == ["DEV-1"]
    assert world.keys(f"project = {pid}") == ["DEV-1"]


def test_users_by_username_on_server(server: World) -> None:
    assert server.keys("assignee = bob ORDER BY key") == ["DEV-1", "OPS-1"]
    assert server.keys('assignee = "bob@corp.io"') == ["OPS-1", "DEV-1"]
    assert server.keys(f"assignee = {server.bob}") == ["OPS-1", "DEV-1"]
    assert server.keys("assignee in membersOf(devs)") == ["OPS-1", "DEV-1"]
    assert server.keys('assignee = "Carol Jones"') == ["OPS-2"]  # full name fallback
    assert server.keys("assignee = currentUser()", viewer=server.carol) == ["OPS-2"]


def test_users_by_account_id_on_cloud(cloud: World) -> None:
    assert cloud.keys(f'assignee = "{cloud.bob}"') == ["OPS-1", "DEV-1"]
    with pytest.raises(JqlError) as err:
        search(cloud.site, "assignee = bob", viewer_key=cloud.admin)
    assert err.value.message == "The value 'bob' does not exist for the field 'assignee'."


def test_status_priority_type_category(world: World) -> None:
    assert world.keys("status = 'To Do'") == ["OPS-3", "OPS-2", "OPS-1", "DEV-1"]
    assert world.keys('statusCategory = "To Do"') == ["OPS-3", "OPS-2", "OPS-1", "DEV-1"]
    assert world.keys("statusCategory = Done") == []
    assert world.keys("issuetype = Task AND priority in (Highest, Low)") == ["OPS-3", "OPS-1"]
    assert world.keys("resolution = Unresolved AND project = DEV") == ["DEV-1"]
    assert world.keys("project = OPS ORDER BY priority DESC") == ["OPS-1", "OPS-2", "OPS-3"]
    assert world.keys("project = OPS ORDER BY priority ASC") == ["OPS-3", "OPS-2", "OPS-1"]
    # no direction: the field's default, Highest first for priority, newest first for dates
    assert world.keys("project = OPS ORDER BY priority") == ["OPS-1", "OPS-2", "OPS-3"]
    assert world.keys("ORDER BY created") == ["OPS-3", "DEV-1", "OPS-2", "OPS-1"]
    assert world.keys("ORDER BY summary") == ["DEV-1", "OPS-1", "OPS-3", "OPS-2"]


def test_text_search_in_native_rich_text_and_comments(world: World) -> None:
    assert world.keys('summary ~ "print*" ORDER BY key') == ["OPS-1", "OPS-3"]
    assert world.keys('description ~ "burning"') == ["OPS-1"]
    assert world.keys('text ~ "brigade"') == ["OPS-2"]
    assert world.keys('comment ~ "brigade"') == ["OPS-2"]
    assert world.keys('text ~ "log"') == ["DEV-1"]
    assert world.keys("description is empty") == ["OPS-3", "OPS-2"]


def test_labels_and_dates_relative(world: World) -> None:
    assert world.keys("labels in (hw, web)") == ["OPS-1", "DEV-1"]
    assert world.keys("created >= -3h") == ["OPS-3", "DEV-1"]
    assert world.keys("created < startOfDay(-1d)") == ["OPS-1"]


def test_sprints(world: World) -> None:
    site = world.site
    board = site.create_board("OPS board", project_ref="OPS")
    s1 = site.create_sprint(world.admin, board.id, "Sprint 1")
    s2 = site.create_sprint(world.admin, board.id, "Sprint 2")
    site.move_to_sprint(world.admin, s1.id, ["OPS-1"])
    site.move_to_sprint(world.admin, s2.id, ["OPS-2"])
    site.start_sprint(world.admin, s1.id, start_date=T0, end_date=T0 + timedelta(days=14))
    assert world.keys("sprint in openSprints()") == ["OPS-2", "OPS-1"]
    assert world.keys("sprint in futureSprints()") == ["OPS-2"]
    assert world.keys('sprint = "Sprint 1"') == ["OPS-1"]
    assert world.keys(f"sprint = {s2.id}") == ["OPS-2"]
    site.close_sprint(world.admin, s1.id)
    assert world.keys("sprint in closedSprints()") == ["OPS-1"]
    assert world.keys("sprint is empty") == ["OPS-3", "DEV-1"]


def test_order_by_rank_follows_the_site_ranking(world: World) -> None:
    site = world.site
    site.rank_issues(world.admin, ["OPS-3"], before="OPS-1")
    expected = ["OPS-3", "OPS-1", "OPS-2"]
    assert world.keys("project = OPS ORDER BY Rank ASC") == expected
    assert world.keys("project = OPS ORDER BY rank DESC") == expected[::-1]
    cf = int(site.agile.rank.rsplit("_", 1)[1])
    assert world.keys(f"project = OPS ORDER BY cf[{cf}]") == expected


def test_watchers_voters_attachments_and_epic_link(server: World) -> None:
    site = server.site
    site.add_watcher(server.admin, "OPS-2", server.bob)
    assert server.keys("watcher = bob") == ["OPS-2"]
    assert server.keys("watcher = currentUser()", viewer=server.bob) == ["OPS-2"]
    assert server.keys("voter is EMPTY AND project = DEV") == ["DEV-1"]
    site.add_attachment(server.admin, "DEV-1", "a.txt", b"hi", "text/plain")
    assert server.keys("attachments is not EMPTY") == ["DEV-1"]
    epic_link = site.agile.epic_link
    assert epic_link is not None
    epic = site.create_issue(
        server.admin,
        {
            "project": {"key": "OPS"},
            "summary": "Epic",
            "issuetype": {"name": "Epic"},
            site.agile.epic_name: "E",
        },
    )
    site.edit_issue(server.admin, "OPS-1", {epic_link: epic.key})
    assert server.keys(f'"Epic Link" = {epic.key}') == ["OPS-1"]


def test_anonymous_and_inactive_viewers_see_nothing(world: World) -> None:
    assert world.keys("", viewer=None) == []
    assert world.keys("", viewer="no-such-user") == []


def test_errors_come_back_in_jira_wording(world: World) -> None:
    def message(jql: str) -> str:
        with pytest.raises(JqlError) as err:
            search(world.site, jql, viewer_key=world.admin)
        return err.value.message

    assert message("project = XYZ") == "The value 'XYZ' does not exist for the field 'project'."
    assert message("nosuch = 1") == (
        "Field 'nosuch' does not exist or you do not have permission to view it."
    )
    assert message("key = OPS-99") == "An issue with key 'OPS-99' does not exist for field 'key'."
    assert message("key = banana") == "The issue key 'banana' for field 'key' is invalid."
    assert message("parent = OPS-99") == (
        "An issue with key 'OPS-99' does not exist for field 'parent'."
    )
    assert message("project is EMPTY") == (
        "The field 'project' does not support searching for EMPTY values."
    )
    assert message("project = 99999 OR status = 77777") == (
        "A value with ID '99999' does not exist for the field 'project'.; "
        "A value with ID '77777' does not exist for the field 'status'."
    )
    assert message("project = OPS foo").startswith(
        "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'."
    )
    with pytest.raises(JqlError) as err:
        search(world.site, "order by key", viewer_key=world.admin, require_bounded=True)
    assert err.value.message == UNBOUNDED


def test_custom_fields_by_id_and_name(server: World) -> None:
    site = server.site
    points = site.agile.story_points
    site.edit_issue(server.admin, "OPS-1", {points: 5})
    site.edit_issue(server.admin, "OPS-2", {points: 2})
    cf = int(points.rsplit("_", 1)[1])
    assert server.keys(f"cf[{cf}] > 3") == ["OPS-1"]
    assert server.keys(f'"Story Points" >= 2 ORDER BY cf[{cf}] ASC') == ["OPS-2", "OPS-1"]
    notes = site.create_custom_field("Notes", "textarea")
    link = site.create_custom_field("Homepage", "url")
    site.edit_issue(
        server.admin, "OPS-3", {notes.id: "gojira sighted", link.id: "http://x.io/gojira"}
    )
    assert server.keys("text ~ gojira") == ["OPS-3"]
    assert server.keys("text ~ x.io") == []  # URL fields are not free text
    assert server.keys("Notes ~ sighted") == ["OPS-3"]
    field = site.create_custom_field("Team", "select", options=["Red", "Blue"])
    red = next(o.id for o in field.options.values() if o.value == "Red")
    site.edit_issue(server.admin, "DEV-1", {field.id: {"id": str(red)}})
    assert server.keys("Team = red") == ["DEV-1"]
    assert server.keys(f"cf[{field.custom_id}] in (Blue, Red)") == ["DEV-1"]


def test_server_paging_and_the_10000_window(world: World) -> None:
    result = search(world.site, "", viewer_key=world.admin)
    page = result.server_page(1, 2)
    assert [i.key for i in page.issues] == ["OPS-2", "OPS-1"]
    assert (page.start_at, page.max_results, page.total) == (1, 2, 4)
    cut = result.server_page(0, 50, window=3)
    assert len(cut.issues) == 3 and cut.total == 4
    assert result.server_page(3, 50, window=3).issues == ()
    assert result.server_page(10, 5).issues == ()


def test_cloud_token_paging(world: World) -> None:
    now = world.site.now()
    result = search(world.site, "order by key", viewer_key=world.admin)
    seen: list[str] = []
    token: str | None = None
    for _ in range(5):
        page = result.cloud_page(now, token, max_results=3)
        seen += [i.key for i in page.issues]
        token = page.next_page_token
        if page.is_last:
            assert token is None
            break
    assert seen == ["DEV-1", "OPS-1", "OPS-2", "OPS-3"]


def test_cloud_tokens_are_checked(world: World) -> None:
    now = world.site.now()
    result = search(world.site, "order by key", viewer_key=world.admin)
    token = result.cloud_page(now, None, 1).next_page_token
    assert token is not None
    other = SearchResult("project = OPS", result.issues)
    with pytest.raises(PageTokenError):
        other.cloud_page(now, token, 1)  # token of another query
    with pytest.raises(PageTokenError):
        result.cloud_page(now + timedelta(days=8), token, 1)  # expired
    for junk in ("", "%%%", "bm90IGpzb24", "e30"):
        if junk:
            with pytest.raises(PageTokenError):
                result.cloud_page(now, junk, 1)


def test_plain_text_of_adf_and_wiki() -> None:
    doc = {
        "type": "doc",
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Hello"},
                    {"type": "mention", "attrs": {"id": "x", "text": "@Bob"}},
                ],
            }
        ],
    }
    assert plain_text(doc) == "Hello @Bob"
    assert plain_text("h1. Wiki") == "h1. Wiki"
    assert plain_text(None) == ""


def test_field_functions(server: World) -> None:
    site = server.site
    v1 = site.create_version("OPS", "1.0", released=True)
    v2 = site.create_version("OPS", "2.0")
    v3 = site.create_version("OPS", "3.0")
    site.create_version("DEV", "9.0", released=True)
    site.edit_issue(server.admin, "OPS-1", {"fixVersions": [{"id": str(v1.id)}]})
    site.edit_issue(server.admin, "OPS-2", {"fixVersions": [{"id": str(v2.id)}]})
    site.edit_issue(server.admin, "OPS-3", {"fixVersions": [{"id": str(v3.id)}]})
    assert server.keys("fixVersion in releasedVersions()") == ["OPS-1"]
    assert server.keys("fixVersion in unreleasedVersions(OPS)") == ["OPS-3", "OPS-2"]
    assert server.keys("fixVersion = earliestUnreleasedVersion(OPS)") == ["OPS-2"]
    assert server.keys("fixVersion = latestReleasedVersion(OPS)") == ["OPS-1"]
    assert server.keys("fixVersion in releasedVersions(DEV)") == []
    comp = site.create_component("OPS", "Printers", lead_key=server.bob)
    site.edit_issue(server.admin, "OPS-1", {"components": [{"id": str(comp.id)}]})
    assert server.keys("component in componentsLeadByUser(bob)") == ["OPS-1"]
    assert server.keys("component in componentsLeadByUser()", viewer=server.bob) == ["OPS-1"]
    assert server.keys("project in projectsLeadByUser(admin)") == [
        "OPS-3",
        "OPS-2",
        "OPS-1",
        "DEV-1",
    ]
    assert server.keys("issuetype in standardIssueTypes()") == ["OPS-3", "OPS-2", "OPS-1", "DEV-1"]
    assert server.keys("issuetype in subTaskIssueTypes()") == []
    site.add_watcher(server.admin, "OPS-3", server.carol)
    assert server.keys("key in watchedIssues()", viewer=server.carol) == ["OPS-3"]
    assert server.keys("issue in issueHistory()") == []

    def message(jql: str) -> str:
        with pytest.raises(JqlError) as err:
            search(site, jql, viewer_key=server.admin)
        return err.value.message

    assert message("fixVersion in releasedVersions(NOPE)") == (
        "Could not resolve the project 'NOPE' provided to function 'releasedVersions'."
    )
    assert message("fixVersion = earliestUnreleasedVersion()") == (
        "Function 'earliestUnreleasedVersion' expected '1' arguments but received '0'."
    )
    assert message("issuetype in standardIssueTypes(x)") == (
        "Function 'standardIssueTypes' expected '0' arguments but received '1'."
    )
    assert message("status in standardIssueTypes()") == (
        "Unable to find JQL function 'standardIssueTypes()'."
    )


def test_plain_text_survives_deep_documents() -> None:
    doc: dict[str, Any] = {"type": "text", "text": "bottom"}
    for _ in range(5000):
        doc = {"type": "paragraph", "content": [doc]}
    assert plain_text(doc) == "bottom"
    assert plain_text({"type": "doc", "content": "not a list"}) == ""


def test_cloud_style_lenient_validation(cloud: World) -> None:
    result = search(cloud.site, "colour = red", viewer_key=cloud.admin, validation="warn")
    assert result.issues == ()
    assert result.warnings == (
        "Field 'colour' does not exist or you do not have permission to view it.",
    )
    ok = search(cloud.site, "project = DEV AND status = 'To Do'", viewer_key=cloud.admin)
    assert [i.key for i in ok.issues] == ["DEV-1"] and ok.warnings == ()
    with pytest.raises(JqlError):
        search(cloud.site, "colour = red", viewer_key=cloud.admin)  # strict by default


def test_restricted_comments_and_inactive_viewers(server: World) -> None:
    from jirabridge.emulator.model import Visibility

    site = server.site
    site.add_comment(
        server.admin, "DEV-1", "secret rollout plan", visibility=Visibility("group", "devs")
    )
    assert server.keys('comment ~ "rollout"', viewer=server.bob) == ["DEV-1"]  # in devs
    assert server.keys('comment ~ "rollout"', viewer=server.carol) == []  # not in devs
    assert server.keys('text ~ "rollout"', viewer=server.carol) == []
    site.set_user_active(server.carol, False)
    assert server.keys("project = OPS", viewer=server.carol) == []
