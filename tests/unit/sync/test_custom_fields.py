"""Custom field values are shaped by the target's field schema and users are mapped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from jirabridge.errors import SkipItemError
from jirabridge.jira import CustomFieldValue, FieldInfo, UserRef
from jirabridge.sync.apply._values import _input
from jirabridge.sync.config import FieldRule, Side
from jirabridge.sync.diff import SKIP, Translator, is_user_list, is_user_value

CT = "com.atlassian.jira.plugin.system.customfieldtypes:"


def info(fid: str, schema: str, items: str | None = None, custom: str = "x") -> FieldInfo:
    return FieldInfo(fid, fid, True, schema_type=schema, items=items, custom_key=CT + custom)


FIELDS = {
    "customfield_1": info("customfield_1", "option", custom="select"),
    "customfield_2": info("customfield_2", "array", "option", "multiselect"),
    "customfield_3": info("customfield_3", "user", custom="userpicker"),
    "customfield_4": info("customfield_4", "array", "user", "multiuserpicker"),
    "customfield_5": info("customfield_5", "number", custom="float"),
    "customfield_6": info("customfield_6", "date", custom="datepicker"),
    "customfield_7": info("customfield_7", "datetime", custom="datetime"),
    "customfield_8": info("customfield_8", "option-with-child", custom="cascadingselect"),
    "customfield_9": info("customfield_9", "array", "version", "multiversion"),
    "customfield_10": info("customfield_10", "array", "string", "labels"),
}


def typed(fields: dict[str, Any]) -> dict[str, CustomFieldValue]:
    return dict(_input(fields, skip=frozenset(), info=FIELDS).custom_fields)


def test_each_schema_type_becomes_a_typed_value() -> None:
    out = typed(
        {
            "customfield_1": "Red",
            "customfield_2": ["A", "B"],
            "customfield_3": {"accountId": "abc"},
            "customfield_4": [{"name": "bob"}, {"name": "amy"}],
            "customfield_5": 3.5,
            "customfield_6": "2026-04-02",
            "customfield_7": "2026-04-02T10:30:00+00:00",
            "customfield_8": ["Europe", "Paris"],
            "customfield_9": ["1.0"],
            "customfield_10": ["x", "y"],
        }
    )
    assert out["customfield_1"] == CustomFieldValue("customfield_1", "option", "Red")
    assert out["customfield_2"].value == ("A", "B") and out["customfield_2"].items == "option"
    assert out["customfield_3"].value == UserRef(account_id="abc")
    assert out["customfield_4"].value == (UserRef(name="bob"), UserRef(name="amy"))
    assert out["customfield_5"].value == 3.5
    assert out["customfield_6"].value == date(2026, 4, 2)
    assert out["customfield_7"].value == datetime(2026, 4, 2, 10, 30, tzinfo=UTC)
    assert out["customfield_8"].value == ("Europe", "Paris")
    assert out["customfield_9"].items == "version"
    assert out["customfield_10"].value == ("x", "y")


def test_the_client_then_sends_jira_shapes() -> None:
    from jirabridge.jira._convert import IssueWriter
    from jirabridge.jira._model import JiraFlavour
    from jirabridge.jira._richtext import default_codec

    writer = IssueWriter(JiraFlavour.CLOUD, default_codec(), fields=FIELDS)
    data = _input(
        {
            "customfield_1": "Red",
            "customfield_2": ["A"],
            "customfield_3": {"accountId": "abc"},
            "customfield_9": ["1.0"],
        },
        skip=frozenset(),
        info=FIELDS,
    )
    sent = writer.fields_of(data)
    assert sent["customfield_1"] == {"value": "Red"}
    assert sent["customfield_2"] == [{"value": "A"}]
    assert sent["customfield_3"] == {"accountId": "abc"}
    assert sent["customfield_9"] == [{"name": "1.0"}]


def test_cleared_or_unknown_fields_pass_through_raw() -> None:
    data = _input(
        {"customfield_1": None, "customfield_99": {"raw": 1}}, skip=frozenset(), info=FIELDS
    )
    assert data.extra_fields == {"customfield_1": None, "customfield_99": {"raw": 1}}
    assert not data.custom_fields


@pytest.mark.parametrize(
    ("fid", "value"),
    [("customfield_5", "many"), ("customfield_6", "not a date"), ("customfield_3", "bob")],
)
def test_a_value_that_does_not_fit_the_type_is_a_clear_skip(fid: str, value: Any) -> None:
    with pytest.raises(SkipItemError, match=fid):
        _input({fid: value}, skip=frozenset(), info=FIELDS)


def test_user_values_of_any_field_go_through_the_user_mapping() -> None:
    assert is_user_value({"name": "bob", "email": "b@x.org"})
    assert not is_user_value({"type": "doc"}) and not is_user_value("bob")
    assert is_user_list([{"accountId": "1"}]) and not is_user_list(["a"])
    seen: list[Any] = []

    def users(value: Any, target: Side) -> Any:
        seen.append(value)
        return SKIP if value.get("name") == "nobody" else {"accountId": "id-" + value["name"]}

    from jirabridge.sync.config import PairConfig

    pair = PairConfig.model_validate(
        {
            "id": "p",
            "server": {"site": "s", "project": "A"},
            "cloud": {"site": "c", "project": "A"},
        }
    )
    tr = Translator(pair, users=users)
    reviewer = FieldRule.model_validate(
        {"name": "reviewer", "server": "customfield_3", "cloud": "customfield_3"}
    )
    assert tr.translate(reviewer, {"name": "bob"}, Side.CLOUD) == {"accountId": "id-bob"}
    many = [{"name": "bob"}, {"name": "nobody"}]
    assert tr.translate(reviewer, many, Side.CLOUD) == [{"accountId": "id-bob"}]
    assert len(seen) == 3
