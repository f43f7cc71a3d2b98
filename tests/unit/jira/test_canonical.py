"""Reading a Server issue and a Cloud issue with the same content gives equal canonical issues."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from jirabridge.errors import BadInputError
from jirabridge.jira import (
    CustomFieldValue,
    FieldInfo,
    IssueInput,
    IssueReader,
    IssueWriter,
    JiraFlavour,
    PlainCodec,
    UserRef,
    UserTable,
)
from jirabridge.jira._convert import parse_datetime

SERVER_FIXTURE = "fixtures/webhooks/server/webhook-server-issue-updated-commented-mention-user.json"
CLOUD_FIXTURE = "fixtures/webhooks/cloud/webhook-cloud-issue-created-many-fields.json"
CODEC = PlainCodec()


def _account(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:24]


def _to_cloud(server_issue: dict) -> dict:
    """What Cloud shows for the same issue: accountIds, hidden emails, ADF, another offset."""
    cloud = copy.deepcopy(server_issue)
    cloud["id"] = "20" + cloud["id"]
    cloud["self"] = "https://example.atlassian.net/rest/api/3/issue/" + cloud["id"]

    def convert(node):
        if isinstance(node, dict):
            if "name" in node and "key" in node and "avatarUrls" in node and "displayName" in node:
                return {
                    "accountId": _account(node["name"]),
                    "displayName": node["displayName"] + " (cloud)",
                    "emailAddress": None,
                    "active": True,
                }
            return {k: convert(v) for k, v in node.items()}
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node

    cloud = convert(cloud)
    f = cloud["fields"]
    if isinstance(f.get("description"), str):
        f["description"] = CODEC.to_adf(f["description"])
    for c in f.get("comment", {}).get("comments", []):
        c["body"] = CODEC.to_adf(c["body"])
    for k in ("created", "updated"):
        if f.get(k):
            instant = parse_datetime(f[k]).astimezone(timezone(timedelta(hours=-7)))
            f[k] = (
                instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}-0700"
            )
    return cloud


def _people(server_issue: dict) -> UserTable:
    names: set[tuple[str, str]] = set()

    def walk(node):
        if isinstance(node, dict):
            if "name" in node and "key" in node and "avatarUrls" in node:
                names.add((node["name"], node["key"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(server_issue)
    return UserTable(UserRef(account_id=_account(n), name=n, key=k) for n, k in names)


def test_server_and_cloud_read_into_equal_issues(shared_dir) -> None:
    server_json = json.loads((shared_dir / SERVER_FIXTURE).read_text())["issue"]
    cloud_json = _to_cloud(server_json)
    people = _people(server_json)
    server = IssueReader(JiraFlavour.SERVER, CODEC, users=people).issue(server_json)
    cloud = IssueReader(JiraFlavour.CLOUD, CODEC, users=people).issue(cloud_json)
    assert server.comments and server.description is not None
    assert server.reporter is not None and server.reporter.account_id is not None
    assert server == cloud
    # and a real difference is seen
    changed = copy.deepcopy(cloud_json)
    changed["fields"]["labels"] = ["other"]
    assert IssueReader(JiraFlavour.CLOUD, CODEC, users=people).issue(changed) != server


def test_without_a_user_map_users_differ(shared_dir) -> None:
    server_json = json.loads((shared_dir / SERVER_FIXTURE).read_text())["issue"]
    server = IssueReader(JiraFlavour.SERVER, CODEC).issue(server_json)
    cloud = IssueReader(JiraFlavour.CLOUD, CODEC).issue(_to_cloud(server_json))
    assert server != cloud  # we cannot know they are the same people


def test_cloud_custom_fields_by_schema_type(shared_dir) -> None:
    data = json.loads((shared_dir / CLOUD_FIXTURE).read_text())["issue"]
    schemas = {
        "customfield_10069": FieldInfo("customfield_10069", "Date", True, "date"),
        "customfield_10070": FieldInfo("customfield_10070", "When", True, "datetime"),
        "customfield_10072": FieldInfo("customfield_10072", "Points", True, "number"),
        "customfield_10073": FieldInfo("customfield_10073", "Radio", True, "option"),
        "customfield_10075": FieldInfo("customfield_10075", "Checks", True, "array", "option"),
        "customfield_10071": FieldInfo("customfield_10071", "Labels", True, "array", "string"),
    }
    issue = IssueReader(JiraFlavour.CLOUD, CODEC, fields=schemas).issue(data)
    cf = issue.custom_fields
    assert cf["customfield_10069"].value == date(2019, 8, 12)
    assert cf["customfield_10070"].value == datetime(2019, 8, 29, 19, 40, tzinfo=UTC)
    assert cf["customfield_10072"].value == 23.0
    assert cf["customfield_10073"].value == "1"
    assert cf["customfield_10075"] == CustomFieldValue(
        "customfield_10075", "array", ("1", "2"), items="option"
    )
    assert cf["customfield_10071"].value == ("value1", "value2")
    assert "customfield_10060" not in cf  # nulls are left out
    assert issue.assignee == UserRef(account_id="5cedcb4355a88a0fc86388ba")
    assert issue.fix_versions == ("version1", "version2")
    assert issue.labels == ("Label1", "Label2")
    assert issue.priority == "Medium" and issue.status == "To Do"


def test_writer_speaks_each_flavour() -> None:
    people = UserTable([UserRef(account_id="acc-1", name="jdoe", key="JIRAUSER1")])
    schemas = {
        "customfield_1": FieldInfo("customfield_1", "Sel", True, "option"),
        "customfield_2": FieldInfo(
            "customfield_2",
            "Notes",
            True,
            "string",
            custom_key="com.atlassian.jira.plugin.system.customfieldtypes:textarea",
        ),
        "customfield_3": FieldInfo("customfield_3", "People", True, "array", "user"),
    }
    doc = CODEC.to_adf("Hello\n\nworld")
    data = IssueInput(
        project_key="P",
        issue_type="Bug",
        summary="s",
        description=doc,
        assignee=UserRef(account_id="acc-1"),
        labels=("a",),
        custom_fields={
            "customfield_1": CustomFieldValue("customfield_1", "option", "Red"),
            "customfield_2": CustomFieldValue("customfield_2", "string", doc),
            "customfield_3": CustomFieldValue(
                "customfield_3", "array", (UserRef(name="jdoe"),), items="user"
            ),
        },
    )
    server = IssueWriter(JiraFlavour.SERVER, CODEC, fields=schemas, users=people).fields_of(data)
    cloud = IssueWriter(JiraFlavour.CLOUD, CODEC, fields=schemas, users=people).fields_of(data)
    assert server["description"] == "Hello\n\nworld" and cloud["description"] == doc
    assert server["assignee"] == {"name": "jdoe"} and cloud["assignee"] == {"accountId": "acc-1"}
    assert server["customfield_1"] == cloud["customfield_1"] == {"value": "Red"}
    assert server["customfield_2"] == "Hello\n\nworld" and cloud["customfield_2"] == doc
    assert server["customfield_3"] == [{"name": "jdoe"}]
    assert cloud["customfield_3"] == [{"accountId": "acc-1"}]


def test_writer_refuses_unknown_identity() -> None:
    writer = IssueWriter(JiraFlavour.CLOUD, CODEC)
    with pytest.raises(BadInputError):
        writer.fields_of(IssueInput(assignee=UserRef(name="nobody")))


@pytest.mark.parametrize(
    "bad", ["yesterday", "2026-13-01T00:00:00.000+0000", "2026-01-01T00:00:00"]
)
def test_bad_datetimes_are_rejected(bad) -> None:
    with pytest.raises(BadInputError):
        parse_datetime(bad)


def test_bad_issue_json_is_rejected() -> None:
    reader = IssueReader(JiraFlavour.SERVER, CODEC)
    with pytest.raises(BadInputError):
        reader.issue({"fields": {}})
    with pytest.raises(BadInputError):
        reader.issue({"key": "A-1", "fields": {"description": {"type": "paragraph"}}})
    with pytest.raises(ValueError):
        UserRef()


def test_plain_codec_round_trip() -> None:
    text = "first line\nsecond line\n\nnext paragraph"
    assert CODEC.to_wiki(CODEC.to_adf(text)) == text
