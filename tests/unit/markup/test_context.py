"""Translation between the sites through MarkupContext, and the report of what was not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jirabridge.errors import BadInputError
from jirabridge.markup import (
    MappingUserDirectory,
    MarkupContext,
    ReportKind,
    ResolvedUser,
    UserDirectory,
    UserEntry,
    adf_to_wiki,
    load_user_map,
    wiki_to_adf,
)

ACC = "5b10ac8d82e05b22cc7d4ef5"
USERS = MappingUserDirectory(
    [
        UserEntry(
            account_id=ACC,
            username="jsmith",
            key="JIRAUSER10000",
            email="john@corp.example.org",
            display_name="John Smith",
        )
    ]
)


def inline(doc: dict[str, Any]) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = doc["content"][0]["content"]
    return content


@pytest.mark.parametrize("ref", ["jsmith", "JSMITH", "JIRAUSER10000", "john@corp.example.org"])
def test_mentions_resolve_by_name_key_or_email(ref: str) -> None:
    ctx = MarkupContext(users=USERS)
    [mention] = inline(wiki_to_adf(f"[~{ref}]", ctx))
    assert mention == {
        "type": "mention",
        "attrs": {"id": ACC, "text": "@John Smith", "accessLevel": ""},
    }
    assert not ctx.report


def test_accountid_reference_resolves() -> None:
    ctx = MarkupContext(users=USERS)
    [mention] = inline(wiki_to_adf(f"[~accountid:{ACC}]", ctx))
    assert mention["attrs"]["id"] == ACC


def test_unresolved_user_keeps_a_readable_name_and_is_reported() -> None:
    ctx = MarkupContext(users=USERS)
    nodes = inline(wiki_to_adf("Hi [~ghost]!", ctx))
    assert "".join(n.get("text", "") for n in nodes) == "Hi @ghost!"
    assert ctx.report.unresolved_users == ["ghost"]


def test_mention_back_to_server_username() -> None:
    ctx = MarkupContext(users=USERS)
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [{"type": "mention", "attrs": {"id": ACC, "text": "@John Smith"}}],
            }
        ],
    }
    assert adf_to_wiki(doc, ctx) == "[~jsmith]"


def test_unknown_account_back_to_wiki_is_readable_and_reported() -> None:
    ctx = MarkupContext(users=USERS)
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [{"type": "mention", "attrs": {"id": "other", "text": "@Ann Lee"}}],
            }
        ],
    }
    assert adf_to_wiki(doc, ctx) == "@Ann Lee"
    assert ctx.report.unresolved_users == ["other"]
    assert ctx.report.of_kind(ReportKind.UNRESOLVED_USER)[0].path == "$.content[0].content[0]"


def test_custom_directory_protocol() -> None:
    class Upper:
        def resolve_wiki_user(self, reference: str) -> ResolvedUser | None:
            return ResolvedUser(reference.upper(), reference.title())

        def wiki_reference(self, account_id: str) -> str | None:
            return account_id.lower()

    assert isinstance(Upper(), UserDirectory)
    ctx = MarkupContext(users=Upper())
    doc = wiki_to_adf("[~amy]", ctx)
    assert inline(doc)[0]["attrs"]["id"] == "AMY"
    assert adf_to_wiki(doc, ctx) == "[~amy]"


def test_links_to_the_other_site_are_rewritten() -> None:
    ctx = MarkupContext(
        base_urls={"https://jira.corp.example.org": "https://corp.atlassian.net"},
        issue_keys={"OLD-1": "NEW-7"},
    )
    nodes = inline(
        wiki_to_adf("[see|https://jira.corp.example.org/browse/OLD-1] and OLD-1, not OLD-10", ctx)
    )
    assert nodes[0]["marks"][0]["attrs"]["href"] == "https://corp.atlassian.net/browse/NEW-7"
    assert nodes[1]["text"] == " and NEW-7, not OLD-10"


def test_links_rewritten_on_the_way_back_too() -> None:
    ctx = MarkupContext(
        base_urls={"https://corp.atlassian.net": "https://jira.corp.example.org"},
        issue_keys={"NEW-7": "OLD-1"},
    )
    doc = wiki_to_adf("[x|https://corp.atlassian.net/browse/NEW-7] NEW-7")
    assert adf_to_wiki(doc, ctx) == "[x|https://jira.corp.example.org/browse/OLD-1] OLD-1"


def test_attachments_are_repointed_and_unmapped_ones_reported() -> None:
    ctx = MarkupContext(attachments={"shot.png": "uuid-1"}, media_collection="col")
    doc = wiki_to_adf("!shot.png!\n\n[^missing.pdf]", ctx)
    single, group = doc["content"]
    assert single["content"][0]["attrs"]["id"] == "uuid-1"
    assert single["content"][0]["attrs"]["collection"] == "col"
    assert group["content"][0]["attrs"]["id"] == "missing.pdf"
    assert ctx.report.unmapped_attachments == ["missing.pdf"]
    back = MarkupContext(attachments={"uuid-1": "shot.png"})
    assert adf_to_wiki(doc, back).startswith("!shot.png!")


def test_load_user_map_forms(tmp_path: Path) -> None:
    simple = tmp_path / "a.json"
    simple.write_text(json.dumps({"jsmith": ACC}))
    assert load_user_map(simple).resolve_wiki_user("jsmith") == ResolvedUser(ACC, "jsmith")
    rich = tmp_path / "b.json"
    rich.write_text(json.dumps([{"accountId": ACC, "emailAddress": "j@x.org", "displayName": "J"}]))
    assert load_user_map(rich).resolve_wiki_user("j@x.org") == ResolvedUser(ACC, "J")
    assert load_user_map(rich).wiki_reference("nobody") is None


@pytest.mark.parametrize("content", ["", "{", "[1]", '{"a": 1}', '[{"username": "x"}]'])
def test_load_user_map_rejects_bad_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(BadInputError):
        load_user_map(path)


def test_missing_user_map_file() -> None:
    with pytest.raises(BadInputError, match="cannot read"):
        load_user_map("/nonexistent/users.json")


def test_display_name_given_with_at_sign_is_not_doubled() -> None:
    class AtNames:
        def resolve_wiki_user(self, reference: str) -> ResolvedUser | None:
            return ResolvedUser("acc-1", "@Ann Lee")

        def wiki_reference(self, account_id: str) -> str | None:
            return None

    [mention] = inline(wiki_to_adf("[~ann]", MarkupContext(users=AtNames())))
    assert mention["attrs"]["text"] == "@Ann Lee"


def test_report_stays_bounded_and_can_be_cleared() -> None:
    from jirabridge.markup import ConversionReport

    ctx = MarkupContext(users=USERS, report=ConversionReport(max_items=3))
    wiki_to_adf(" ".join(f"[~ghost{i}]" for i in range(10)), ctx)
    assert len(ctx.report.items) == 3
    assert ctx.report.dropped == 7
    ctx.report.clear()
    assert not ctx.report


def test_directory_matched_by_email_with_mapping_override() -> None:
    server = [
        {"name": "jsmith", "key": "JIRAUSER10000", "emailAddress": "John@Corp.example.org"},
        {"name": "hidden", "key": "JIRAUSER10001", "emailAddress": "hidden@corp.example.org"},
        {"name": "gone", "key": "JIRAUSER10002", "emailAddress": "gone@corp.example.org"},
    ]
    cloud = [
        {"accountId": "acc-john", "emailAddress": "john@corp.example.org", "displayName": "John S"},
        {"accountId": "acc-hidden", "emailAddress": None, "displayName": "Hidden H"},
    ]
    directory = MappingUserDirectory.by_email(server, cloud, mapping={"hidden": "acc-hidden"})
    assert directory.resolve_wiki_user("jsmith") == ResolvedUser("acc-john", "John S")
    assert directory.resolve_wiki_user("JIRAUSER10001") == ResolvedUser("acc-hidden", "Hidden H")
    assert directory.resolve_wiki_user("gone") is None
    assert directory.wiki_reference("acc-john") == "jsmith"
