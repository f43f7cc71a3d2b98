"""Whatever JSON a site (or something pretending to be one) sends, reading it either works
or fails with BadInputError: never another exception, never a silent mangling."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jirabridge.errors import BadInputError
from jirabridge.jira import FieldInfo, IssueReader, JiraFlavour, PlainCodec

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "key",
                    "name",
                    "value",
                    "type",
                    "content",
                    "accountId",
                    "fields",
                    "created",
                    "items",
                    "text",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
FIELD_NAMES = [
    "summary",
    "description",
    "labels",
    "status",
    "assignee",
    "created",
    "comment",
    "issuelinks",
    "attachment",
    "components",
    "duedate",
    "customfield_1",
    "customfield_2",
    "parent",
    "project",
    "issuetype",
    "priority",
]
SCHEMAS = {
    "customfield_1": FieldInfo("customfield_1", "n", True, "number"),
    "customfield_2": FieldInfo("customfield_2", "o", True, "array", "option"),
}


@settings(max_examples=120, deadline=None)
@given(
    flavour=st.sampled_from(list(JiraFlavour)),
    fields=st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=8),
    changelog=json_values,
)
def test_any_issue_json_reads_or_is_rejected(flavour, fields, changelog) -> None:
    reader = IssueReader(flavour, PlainCodec(), fields=SCHEMAS)
    data = {"id": "1", "key": "A-1", "fields": fields, "changelog": changelog}
    try:
        issue = reader.issue(data)
    except BadInputError:
        return
    assert issue.key == "A-1"
    assert all(isinstance(label, str) for label in issue.labels)


@pytest.mark.parametrize(
    "bad",
    [
        {"key": "A-1", "fields": {"labels": "not-a-list"}},
        {"key": "A-1", "fields": {"comment": {"comments": [{"body": 5}]}}},
        {"key": "A-1", "fields": {"issuelinks": [{"outwardIssue": {}}]}},
        {"key": "A-1", "fields": {"customfield_1": "ten"}},
        {"key": "A-1", "fields": {"created": "yesterday"}},
        {"key": "A-1", "changelog": {"histories": [{"items": []}]}},
    ],
)
def test_known_bad_shapes(bad) -> None:
    with pytest.raises(BadInputError):
        IssueReader(JiraFlavour.SERVER, PlainCodec(), fields=SCHEMAS).issue(
            json.loads(json.dumps(bad))
        )


def test_unknown_cloud_account_is_no_identity() -> None:
    reader = IssueReader(JiraFlavour.CLOUD, PlainCodec())
    assert reader.user({"accountId": "unknown", "displayName": "Former user"}) is None
