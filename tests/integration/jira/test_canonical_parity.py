"""The same content on a Server and a Cloud emulator reads into equal canonical issues."""

from __future__ import annotations

from dataclasses import fields

from jirabridge.jira import IssueInput, PlainCodec, UserRef, UserTable

from .conftest import Emu

FROZEN = "2026-02-03T10:20:30+00:00"


async def test_same_content_reads_equal() -> None:
    server, cloud = Emu("server"), Emu("cloud")
    try:
        for emu in (server, cloud):
            await emu.control("/clock", {"freeze": FROZEN})
        people = UserTable([UserRef(account_id=cloud.site.admin_key, name="admin", key="admin")])
        s_client = server.client(users=people)
        c_client = cloud.client(users=people)
        codec = PlainCodec()
        data = IssueInput(
            project_key="PRJ",
            issue_type="Task",
            summary="Same on both sides",
            description=codec.to_adf("Line one\nline two\n\nSecond paragraph"),
            labels=("sync", "parity"),
            assignee=UserRef(name="admin"),
        )
        s_key = await s_client.create_issue(data)
        c_key = await c_client.create_issue(data)
        assert s_key == c_key == "PRJ-1"
        for client, key in ((s_client, s_key), (c_client, c_key)):
            await client.add_comment(key, codec.to_adf("first comment"))
        s_issue = await s_client.get_issue(s_key)
        c_issue = await c_client.get_issue(c_key)
        differing = [
            f.name
            for f in fields(s_issue)
            if f.compare and getattr(s_issue, f.name) != getattr(c_issue, f.name)
        ]
        assert differing == []
        assert s_issue == c_issue
        assert s_issue.id != c_issue.id or s_issue.url != c_issue.url  # site-local parts differ
        assert s_issue.assignee == c_issue.assignee
        assert s_issue.assignee.account_id == cloud.site.admin_key
        assert s_issue.comments == c_issue.comments
        assert s_issue.created == c_issue.created
    finally:
        await server.aclose()
        await cloud.aclose()


async def test_rich_text_and_mentions_survive_both_sites() -> None:
    """Real converter: headings, marks, lists and a mention, written and read on both sites."""
    from jirabridge.jira import MarkupCodec

    server, cloud = Emu("server"), Emu("cloud")
    try:
        for emu in (server, cloud):
            await emu.control("/clock", {"freeze": FROZEN})
        admin = UserRef(
            account_id=cloud.site.admin_key, name="admin", key="admin", display_name="Administrator"
        )
        people = UserTable([admin])
        codec = MarkupCodec.for_people([admin])
        s_client = server.client(users=people, codec=codec)
        c_client = cloud.client(users=people, codec=codec)
        wiki = "h2. Plan\n\n*bold* and _italic_ for [~admin]\n\n* one\n* two"
        doc = codec.to_adf(wiki)
        mentions = [
            n for p in doc["content"] for n in p.get("content", []) if n.get("type") == "mention"
        ]
        assert mentions and mentions[0]["attrs"]["id"] == cloud.site.admin_key
        data = IssueInput(project_key="PRJ", issue_type="Task", summary="rich", description=doc)
        s_key = await s_client.create_issue(data)
        c_key = await c_client.create_issue(data)
        # what each site stores natively: wiki with [~admin] on Server, ADF on Cloud
        raw = await s_client.get_issue_raw(s_key, fields=["description"])
        assert "[~admin]" in raw["fields"]["description"]
        assert raw["fields"]["description"].startswith("h2. Plan")
        s_issue = await s_client.get_issue(s_key)
        c_issue = await c_client.get_issue(c_key)
        assert s_issue.description == c_issue.description == doc
    finally:
        await server.aclose()
        await cloud.aclose()
