from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jirabridge.errors import SkipItemError
from jirabridge.sync.config import (
    ConflictRule,
    Direction,
    FieldRule,
    PairConfig,
    PairSide,
    Side,
    Unmapped,
    ValueMap,
)
from jirabridge.sync.diff import SKIP, Translator, plan_fields, value_hash

T = datetime(2026, 1, 1, tzinfo=UTC)


def pair(*rules: FieldRule, **tables: ValueMap) -> PairConfig:
    return PairConfig(
        id="p",
        server=PairSide(site="s", project="A"),
        cloud=PairSide(site="c", project="B"),
        fields=list(rules),
        translations=tables,
    )


PRIORITY = ValueMap(map={"Blocker": "Highest", "Major": "Medium"})


def hashes(values: dict[str, Any]) -> dict[str, str]:
    return {k: value_hash(v) for k, v in values.items()}


def plan(
    p: PairConfig,
    last_s: dict[str, Any],
    last_c: dict[str, Any],
    now_s: dict[str, Any],
    now_c: dict[str, Any],
    **kw: Any,
):  # type: ignore[no-untyped-def]
    return plan_fields(
        p.fields,
        Translator(p),
        server_now=now_s,
        cloud_now=now_c,
        server_hashes=hashes(last_s),
        cloud_hashes=hashes(last_c),
        **kw,
    )


def test_value_hash_is_order_insensitive_for_keys() -> None:
    assert value_hash({"a": 1, "b": [1, 2]}) == value_hash({"b": [1, 2], "a": 1})
    assert value_hash(["x"]) == value_hash(("x",))
    assert value_hash("a") != value_hash("b")


def test_one_side_changed_flows_translated() -> None:
    p = pair(FieldRule(name="priority"), FieldRule(name="summary"), priority=PRIORITY)
    last_s, last_c = {"priority": "Major", "summary": "x"}, {"priority": "Medium", "summary": "x"}
    result = plan(p, last_s, last_c, {"priority": "Blocker", "summary": "x"}, last_c)
    assert result.to_cloud.fields == {"priority": "Highest"}
    assert not result.to_server
    back = plan(p, last_s, last_c, last_s, {"priority": "Highest", "summary": "y"})
    assert back.to_server.fields == {"priority": "Blocker", "summary": "y"}


def test_no_echo_when_nothing_changed_since_our_write() -> None:
    p = pair(FieldRule(name="summary"))
    same = {"summary": "x"}
    result = plan(p, same, same, same, same)
    assert not result.to_cloud and not result.to_server and not result.conflicts


def test_direction_is_respected() -> None:
    p = pair(FieldRule(name="summary", direction=Direction.SERVER_TO_CLOUD))
    result = plan(p, {"summary": "a"}, {"summary": "a"}, {"summary": "a"}, {"summary": "b"})
    assert not result.to_server and not result.to_cloud


def test_field_ids_differ_per_side() -> None:
    p = pair(FieldRule(name="sev", server="customfield_1", cloud="customfield_9"))
    result = plan(p, {"sev": "1"}, {"sev": "1"}, {"sev": "2"}, {"sev": "1"})
    assert result.to_cloud.fields == {"customfield_9": "2"}


def test_both_changed_to_the_same_value_is_no_conflict() -> None:
    p = pair(FieldRule(name="priority"), priority=PRIORITY)
    result = plan(
        p,
        {"priority": "Major"},
        {"priority": "Medium"},
        {"priority": "Blocker"},
        {"priority": "Highest"},
    )
    assert not result.conflicts and not result.to_cloud and not result.to_server


@pytest.mark.parametrize(
    ("rule", "s_at", "c_at", "winner"),
    [
        (ConflictRule.LATEST, T + timedelta(minutes=2), T + timedelta(minutes=1), Side.SERVER),
        (ConflictRule.LATEST, T + timedelta(minutes=1), T + timedelta(minutes=2), Side.CLOUD),
        (ConflictRule.SERVER_WINS, T, T + timedelta(hours=1), Side.SERVER),
        (ConflictRule.CLOUD_WINS, T + timedelta(hours=1), T, Side.CLOUD),
    ],
)
def test_conflicts_follow_the_rule_and_are_recorded(
    rule: ConflictRule, s_at: datetime, c_at: datetime, winner: Side
) -> None:
    p = pair(FieldRule(name="summary", conflict=rule))
    result = plan(
        p,
        {"summary": "a"},
        {"summary": "a"},
        {"summary": "S"},
        {"summary": "C"},
        server_changed_at={"summary": s_at},
        cloud_changed_at={"summary": c_at},
    )
    [conflict] = result.conflicts
    assert conflict.winner is winner
    if winner is Side.SERVER:
        assert result.to_cloud.fields == {"summary": "S"} and not result.to_server
    else:
        assert result.to_server.fields == {"summary": "C"} and not result.to_cloud


def test_conflict_without_times_writes_nothing_but_is_recorded() -> None:
    p = pair(FieldRule(name="summary"))
    result = plan(p, {"summary": "a"}, {"summary": "a"}, {"summary": "S"}, {"summary": "C"})
    assert result.conflicts[0].winner is None
    assert not result.to_cloud and not result.to_server


def test_new_pair_takes_the_origin_side() -> None:
    p = pair(FieldRule(name="summary"), FieldRule(name="labels"))
    result = plan_fields(
        p.fields,
        Translator(p),
        server_now={"summary": "x", "labels": ["a"]},
        cloud_now={},
        server_hashes=None,
        cloud_hashes=None,
        origin=Side.SERVER,
    )
    assert result.to_cloud.fields == {"summary": "x", "labels": ["a"]}


def test_unmapped_values() -> None:
    skip = pair(
        FieldRule(name="priority"),
        priority=ValueMap(map={"Major": "Medium"}, unmapped=Unmapped.SKIP),
    )
    result = plan(
        skip,
        {"priority": "Major"},
        {"priority": "Medium"},
        {"priority": "Odd"},
        {"priority": "Medium"},
    )
    assert not result.to_cloud and result.skipped == (("priority", "no Cloud value for 'Odd'"),)
    strict = pair(
        FieldRule(name="priority"),
        priority=ValueMap(map={"Major": "Medium"}, unmapped=Unmapped.ERROR),
    )
    with pytest.raises(SkipItemError):
        plan(
            strict,
            {"priority": "Major"},
            {"priority": "Medium"},
            {"priority": "Odd"},
            {"priority": "Medium"},
        )


def test_list_values_translate_per_item_and_users_go_through_the_mapper() -> None:
    p = pair(
        FieldRule(name="labels", values="lab"),
        FieldRule(name="assignee"),
        lab=ValueMap(map={"a": "A"}, unmapped=Unmapped.SKIP),
    )
    tr = Translator(p, users=lambda v, side: {"accountId": "acc-" + v["name"]})
    assert tr.translate(p.fields[0], ["a", "zz"], Side.CLOUD) == ["A"]
    assert tr.translate(p.fields[1], {"name": "bob"}, Side.CLOUD) == {"accountId": "acc-bob"}
    assert tr.translate(p.fields[1], None, Side.CLOUD) is None
    assert SKIP is not None
