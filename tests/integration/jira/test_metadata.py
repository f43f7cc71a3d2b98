"""Metadata, users, errors with Jira's own words, and epics against both emulators."""

from __future__ import annotations

import pytest

from jirabridge.errors import FixConfigError, SkipItemError
from jirabridge.jira import IssueInput, PlainCodec


async def test_create_and_edit_meta(emu) -> None:
    client = emu.client()
    issue_type = emu.site.issue_type_by_name("Task")
    meta = await client.create_meta("PRJ", str(issue_type.id))
    ids = {f.get("fieldId") or f.get("key") for f in meta}
    assert "summary" in ids
    key = await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary="m"))
    edit = await client.edit_meta(key)
    assert "summary" in edit


async def test_users(emu) -> None:
    client = emu.client()
    me = await client.myself()
    found = await client.find_users("admin")
    assert me in found
    assert me in await client.find_users("admin@jirabridge.test")  # by email too
    if emu.cloud:
        assert await client.get_user(account_id=me.account_id) == me
    else:
        assert await client.get_user(name="admin") == me
        assert await client.get_user(key=me.key) == me


async def test_bad_create_is_skipped_with_jiras_words(emu) -> None:
    client = emu.client()
    with pytest.raises(SkipItemError) as info:
        await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task"))
    assert info.value.jira is not None and info.value.jira.status == 400
    assert "summary" in info.value.jira.errors
    assert client.stats.count(method="POST", status=400) == 1  # not retried


async def test_unknown_endpoint_is_a_config_problem(emu) -> None:
    client = emu.client()
    with pytest.raises(FixConfigError):
        await client._json("GET", f"{client.api}/no-such-thing")


async def test_transition_with_a_comment(emu) -> None:
    client = emu.client()
    key = await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary="t"))
    target = (await client.transitions(key))[-1]
    await client.transition(key, target.id, comment=PlainCodec().to_adf("moving on"))
    issue = await client.get_issue(key)
    assert issue.status == target.to_status
    assert [c.body for c in issue.comments] == [PlainCodec().to_adf("moving on")]


async def test_epic_children(emu) -> None:
    client = emu.client()
    fields = await client.fields()
    epic_name = {
        f: "big"
        for f, info in fields.items()
        if info.custom_key == "com.pyxis.greenhopper.jira:gh-epic-label"
    }
    epic = await client.create_issue(
        IssueInput(project_key="PRJ", issue_type="Epic", summary="big", extra_fields=epic_name)
    )
    # the same canonical input on both flavours: Server writes the Epic Link field
    child = await client.create_issue(
        IssueInput(project_key="PRJ", issue_type="Task", summary="child", parent_key=epic)
    )
    assert (await client.get_issue(child)).parent_key == epic
    assert await client.epic_issue_keys(epic) == [child]
    sub = await client.create_issue(
        IssueInput(project_key="PRJ", issue_type="Sub-task", summary="sub", parent_key=child)
    )
    assert (await client.get_issue(sub)).parent_key == child


async def test_approximate_count(cloud_emu) -> None:
    client = cloud_emu.client()
    for n in range(3):
        await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary=f"c{n}"))
    assert await client.approximate_count("project = PRJ") == 3


async def test_forbidden_admin_call_is_a_config_problem(server_emu) -> None:
    from jirabridge.jira import basic_auth

    server_emu.site.create_user("Plain", name="plain", password="pw", groups=["jira-users"])
    client = server_emu.client(auth=basic_auth("plain", "pw"))
    with pytest.raises(FixConfigError) as info:
        await client.register_admin_webhook("x", "http://r.test/h", ["jira:issue_created"])
    assert info.value.jira is not None and info.value.jira.status == 403


async def test_cloud_old_search_is_gone(cloud_emu) -> None:
    client = cloud_emu.client()
    with pytest.raises(FixConfigError) as info:
        await client._json("GET", "/rest/api/3/search", params={"jql": "project = PRJ"})
    assert info.value.jira is not None and info.value.jira.status == 410
