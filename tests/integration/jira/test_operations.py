"""Every operation of the interface against both emulators, through the same code."""

from __future__ import annotations

import pytest

from jirabridge.errors import BadInputError, SkipItemError
from jirabridge.jira import IssueInput, LinkDirection, PlainCodec, RemoteLink

CODEC = PlainCodec()


async def test_site_and_identity(emu) -> None:
    client = emu.client()
    info = await client.server_info()
    assert info.deployment_type == ("Cloud" if emu.cloud else "Server")
    me = await client.myself()
    if emu.cloud:
        assert me.account_id and me.name is None
    else:
        assert me.name == "admin"
    fields = await client.fields()
    assert "summary" in fields and "description" in fields


async def test_issue_lifecycle(emu) -> None:
    client = emu.client()
    doc = CODEC.to_adf("First paragraph\n\nSecond one")
    key = await client.create_issue(
        IssueInput(
            project_key="PRJ",
            issue_type="Task",
            summary="Hello",
            description=doc,
            labels=("b", "a"),
        )
    )
    issue = await client.get_issue(key)
    assert issue.summary == "Hello"
    assert issue.description == doc
    assert issue.labels == ("a", "b")
    assert issue.project_key == "PRJ" and issue.created is not None
    assert issue.created.tzinfo is not None

    await client.edit_issue(key, IssueInput(summary="Hello again"))
    assert (await client.get_issue(key)).summary == "Hello again"

    comment = await client.add_comment(key, CODEC.to_adf("a comment"))
    assert comment.body == CODEC.to_adf("a comment")
    updated = await client.update_comment(key, comment.id, CODEC.to_adf("edited"))
    assert updated.body == CODEC.to_adf("edited")
    comments = [c async for c in client.comments(key)]
    assert [c.body for c in comments] == [CODEC.to_adf("edited")]
    await client.delete_comment(key, comment.id)
    assert [c async for c in client.comments(key)] == []

    transitions = await client.transitions(key)
    assert transitions
    target = transitions[-1]
    await client.transition(key, target.id)
    assert (await client.get_issue(key)).status == target.to_status

    me = await client.myself()
    await client.assign(key, me)
    assert (await client.get_issue(key)).assignee == me
    await client.assign(key, None)
    assert (await client.get_issue(key)).assignee is None

    await client.set_property(key, "jirabridge.origin", {"site": "a", "key": "X-1"})
    assert await client.get_property(key, "jirabridge.origin") == {"site": "a", "key": "X-1"}
    await client.delete_property(key, "jirabridge.origin")
    assert await client.get_property(key, "jirabridge.origin") is None

    await client.delete_issue(key)
    with pytest.raises(SkipItemError):
        await client.get_issue(key)


async def test_links_and_remote_links(emu) -> None:
    client = emu.client()
    a = await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary="a"))
    b = await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary="b"))
    types = await client.link_types()
    assert types
    name = types[0]["name"]
    await client.create_link(name, a, b)
    issue_a = await client.get_issue(a)
    issue_b = await client.get_issue(b)
    assert [(x.type_name, x.other_key) for x in issue_a.links] == [(name, b)]
    assert {issue_a.links[0].direction, issue_b.links[0].direction} == {
        LinkDirection.OUTWARD,
        LinkDirection.INWARD,
    }
    await client.delete_link(issue_a.links[0].id)
    assert (await client.get_issue(a)).links == ()

    link = RemoteLink(url="https://example.org/x", title="X", global_id="jb:1")
    link_id = await client.put_remote_link(a, link)
    again = await client.put_remote_link(a, link)  # same globalId: updated, not doubled
    assert again == link_id
    assert [r.url for r in await client.remote_links(a)] == ["https://example.org/x"]
    await client.delete_remote_link(a, link_id)
    assert await client.remote_links(a) == []


async def test_attachments(emu) -> None:
    client = emu.client()
    key = await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary="f"))
    payload = bytes(range(256)) * 10
    [att] = await client.add_attachment(key, "data.bin", payload)
    assert att.filename == "data.bin" and att.size == len(payload)
    assert await client.download_attachment(att) == payload
    issue = await client.get_issue(key)
    assert [a.filename for a in issue.attachments] == ["data.bin"]
    with pytest.raises(BadInputError, match="unsafe attachment file name"):
        await client.add_attachment(key, "../evil", b"x")
    issue = await client.get_issue(key)
    assert [a.filename for a in issue.attachments] == ["data.bin"]  # nothing was sent


async def test_search_pages_through_everything(emu) -> None:
    client = emu.client()
    items = [IssueInput(project_key="PRJ", issue_type="Task", summary=f"s{n}") for n in range(60)]
    results = await client.bulk_create(items)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    keys = [i.key async for i in client.search("project = PRJ ORDER BY key ASC", page_size=25)]
    assert len(keys) == 60 == len(set(keys))
    assert set(keys) == {r.key for r in results}


async def test_bulk_create_matches_failures(emu) -> None:
    client = emu.client()
    items = [IssueInput(project_key="PRJ", issue_type="Task", summary=f"ok{n}") for n in range(5)]
    items.insert(2, IssueInput(project_key="NOPE", issue_type="Task", summary="bad"))
    results = await client.bulk_create(items)
    assert [r.ok for r in results] == [True, True, False, True, True, True]
    assert isinstance(results[2].error, SkipItemError)
    summaries = [(await client.get_issue(r.key)).summary for r in results if r.ok]
    assert summaries == [f"ok{n}" for n in range(5)]


async def test_changelog(emu) -> None:
    client = emu.client()
    key = await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary="1"))
    await client.edit_issue(key, IssueInput(summary="2"))
    await client.edit_issue(key, IssueInput(summary="3"))
    log = await client.changelog(key)
    changes = [(i.from_string, i.to_string) for e in log for i in e.items if i.field == "summary"]
    assert changes == [("1", "2"), ("2", "3")]
    bulk = await client.bulk_changelog([key])
    assert [e.items for e in bulk[key]] == [e.items for e in log]


async def test_agile(emu) -> None:
    site = emu.site
    board = site.create_board("PRJ board", project_ref="PRJ")
    client = emu.client()
    boards = [b async for b in client.boards(project_key="PRJ")]
    assert [b.id for b in boards] == [board.id]
    sprint = await client.create_sprint(board.id, "Sprint 1")
    keys = [
        r.key
        for r in await client.bulk_create(
            [IssueInput(project_key="PRJ", issue_type="Task", summary=f"t{n}") for n in range(55)]
        )
    ]
    await client.move_to_sprint(sprint.id, keys)
    sprints = [s async for s in client.sprints(board.id)]
    assert [s.name for s in sprints] == ["Sprint 1"]
    await client.move_to_backlog(keys[:3])
