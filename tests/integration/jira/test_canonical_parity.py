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
        # the self links are site-local (left out of equality): each names its own API
        assert s_issue.url == f"{server.app.base_url}/rest/api/2/issue/{s_issue.id}"
        assert c_issue.url == f"{cloud.app.base_url}/rest/api/3/issue/{c_issue.id}"
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


async def test_custom_fields_read_equal_on_both_sites() -> None:
    from datetime import date

    from jirabridge.jira import CustomFieldValue, MarkupCodec

    server, cloud = Emu("server"), Emu("cloud")
    try:
        for emu in (server, cloud):
            await emu.control("/clock", {"freeze": FROZEN})
            site = emu.site
            site.create_custom_field(
                "Colour", "select", options=["Red", "Green"], field_id="customfield_20001"
            )
            site.create_custom_field("Points", "float", field_id="customfield_20002")
            site.create_custom_field("Notes", "textarea", field_id="customfield_20003")
            site.create_custom_field("Reviewers", "multiuserpicker", field_id="customfield_20004")
            site.create_custom_field("Tags", "labels", field_id="customfield_20005")
            site.create_custom_field("Due", "datepicker", field_id="customfield_20006")
            site.create_custom_field(
                "Checks", "multicheckboxes", options=["a", "b", "c"], field_id="customfield_20007"
            )
        admin = UserRef(account_id=cloud.site.admin_key, name="admin", key="admin")
        people = UserTable([admin])
        codec = MarkupCodec.for_people([admin])
        s_client = server.client(users=people, codec=codec)
        c_client = cloud.client(users=people, codec=codec)
        notes = codec.to_adf("Some *notes* for [~admin]")
        custom = {
            "customfield_20001": CustomFieldValue("customfield_20001", "option", "Green"),
            "customfield_20002": CustomFieldValue("customfield_20002", "number", 3.5),
            "customfield_20003": CustomFieldValue("customfield_20003", "string", notes),
            "customfield_20004": CustomFieldValue(
                "customfield_20004", "array", (UserRef(name="admin"),), items="user"
            ),
            "customfield_20005": CustomFieldValue(
                "customfield_20005", "array", ("x", "y"), items="string"
            ),
            "customfield_20006": CustomFieldValue("customfield_20006", "date", date(2026, 5, 1)),
            "customfield_20007": CustomFieldValue(
                "customfield_20007", "array", ("a", "c"), items="option"
            ),
        }
        data = IssueInput(project_key="PRJ", issue_type="Task", summary="cf", custom_fields=custom)
        s_issue = await s_client.get_issue(await s_client.create_issue(data))
        c_issue = await c_client.get_issue(await c_client.create_issue(data))
        assert set(s_issue.custom_fields) >= set(custom)
        for field_id in custom:
            assert s_issue.custom_fields[field_id] == c_issue.custom_fields[field_id], field_id
        assert s_issue.custom_fields["customfield_20001"].value == "Green"
        assert s_issue.custom_fields["customfield_20003"].value == notes
        assert s_issue.custom_fields["customfield_20004"].value == (admin,)
        assert s_issue == c_issue
    finally:
        await server.aclose()
        await cloud.aclose()
