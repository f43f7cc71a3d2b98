from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from jirabridge.errors import SkipItemError
from jirabridge.sync.config import ConflictRule, FieldRule, PairConfig, PairSide, Side
from jirabridge.sync.diff import ConflictRecord, Translator, plan_fields
from jirabridge.sync.pairs import (
    find_comment_pair,
    find_pair,
    link_comments,
    link_pair,
    load_snapshot,
    record_conflict,
    save_snapshot,
    update_key,
)
from jirabridge.sync.store import Conflict, Store

NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)


def test_link_pair_is_idempotent_and_refuses_contradictions(store: Store) -> None:
    with store.session() as s:
        ref = link_pair(
            s,
            pair_id="p",
            server=("100", "OPS-1"),
            cloud=("900", "OPS-9"),
            origin=Side.CLOUD,
            now=NOW,
        )
        again = link_pair(
            s,
            pair_id="p",
            server=("100", "OPS-1"),
            cloud=("900", "OPS-9"),
            origin=Side.CLOUD,
            now=NOW,
        )
        assert again == ref
    with pytest.raises(SkipItemError, match="already paired"), store.session() as s:
        link_pair(
            s,
            pair_id="p",
            server=("100", "OPS-1"),
            cloud=("901", "OPS-10"),
            origin=Side.SERVER,
            now=NOW,
        )
    with store.session() as s:
        found = find_pair(s, side=Side.CLOUD, issue_id="900")
        assert found == ref and found.key(Side.SERVER) == "OPS-1"
        assert find_pair(s, side=Side.SERVER, issue_id="900") is None
        assert find_pair(s, side=Side.SERVER, issue_id="100", pair_id="other") is None
        update_key(s, ref, Side.SERVER, "NEW-1", now=NOW)
    with store.session() as s:
        assert find_pair(s, side=Side.SERVER, issue_id="100").server_key == "NEW-1"  # type: ignore[union-attr]


def test_snapshots_drive_an_echo_free_diff(store: Store) -> None:
    pair = PairConfig(
        id="p",
        server=PairSide(site="s", project="A"),
        cloud=PairSide(site="c", project="B"),
        fields=[FieldRule(name="summary"), FieldRule(name="labels")],
    )
    with store.session() as s:
        ref = link_pair(
            s, pair_id="p", server=("1", "A-1"), cloud=("2", "B-1"), origin=Side.SERVER, now=NOW
        )
        assert load_snapshot(s, ref.id, Side.SERVER) is None
        values = {"summary": "x", "labels": ("a", "b")}
        save_snapshot(s, ref.id, Side.SERVER, values, issue_updated=NOW, now=NOW)
        save_snapshot(s, ref.id, Side.CLOUD, values, issue_updated=NOW, now=NOW)
    with store.session() as s:
        snap_s = load_snapshot(s, ref.id, Side.SERVER)
        snap_c = load_snapshot(s, ref.id, Side.CLOUD)
    assert snap_s is not None and snap_c is not None
    assert snap_s.values == {"summary": "x", "labels": ["a", "b"]}
    assert snap_s.issue_updated == NOW
    # what we wrote comes back unchanged: nothing to do
    same = plan_fields(
        pair.fields,
        Translator(pair),
        server_now={"summary": "x", "labels": ["a", "b"]},
        cloud_now={"summary": "x", "labels": ["a", "b"]},
        server_hashes=snap_s.hashes,
        cloud_hashes=snap_c.hashes,
    )
    assert not same.to_cloud and not same.to_server
    edited = plan_fields(
        pair.fields,
        Translator(pair),
        server_now={"summary": "y", "labels": ["a", "b"]},
        cloud_now={"summary": "x", "labels": ["a", "b"]},
        server_hashes=snap_s.hashes,
        cloud_hashes=snap_c.hashes,
    )
    assert edited.to_cloud.fields == {"summary": "y"}
    with store.session() as s:
        later = NOW + timedelta(minutes=1)
        save_snapshot(s, ref.id, Side.SERVER, {"summary": "y"}, issue_updated=later, now=later)
    with store.session() as s:
        assert load_snapshot(s, ref.id, Side.SERVER).values == {"summary": "y"}  # type: ignore[union-attr]


def test_conflicts_and_comment_pairs(store: Store) -> None:
    with store.session() as s:
        ref = link_pair(
            s, pair_id="p", server=("1", "A-1"), cloud=("2", "B-1"), origin=Side.SERVER, now=NOW
        )
        record_conflict(
            s, ref.id, ConflictRecord("summary", "S", "C", ConflictRule.LATEST, Side.CLOUD), now=NOW
        )
        record_conflict(
            s, ref.id, ConflictRecord("labels", ["a"], None, ConflictRule.LATEST, None), now=NOW
        )
        link_comments(
            s,
            ref.id,
            server_comment_id="10",
            cloud_comment_id="20",
            origin=Side.SERVER,
            server_body="hi",
            cloud_body={"type": "doc"},
            now=NOW,
        )
        link_comments(
            s,
            ref.id,
            server_comment_id="10",
            cloud_comment_id="20",
            origin=Side.SERVER,
            server_body="hi!",
            cloud_body={"type": "doc"},
            now=NOW,
        )
    with store.session() as s:
        rows = s.scalars(select(Conflict).order_by(Conflict.id)).all()
        assert [(r.field, r.winner, r.server_value["value"]) for r in rows] == [
            ("summary", "cloud", "S"),
            ("labels", "none", ["a"]),
        ]
        by_cloud = find_comment_pair(s, ref.id, Side.CLOUD, "20")
        assert by_cloud is not None and by_cloud.server_comment_id == "10"
        assert find_comment_pair(s, ref.id, Side.SERVER, "20") is None
