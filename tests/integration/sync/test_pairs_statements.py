"""find_pair / load_snapshot / save_snapshot as prebuilt table statements: each touches
its own (pair, side) row only, a second save updates in place, and a first save inserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from jirabridge.sync.config import Side
from jirabridge.sync.diff import value_hash
from jirabridge.sync.pairs import (
    PairRef,
    find_pair,
    link_pair,
    load_snapshot,
    load_snapshots,
    pair_rows,
    save_snapshot,
    save_snapshots,
)
from jirabridge.sync.store import AttachmentPair, CommentPair, LinkPair, Snapshot, Store

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def two_pairs(s: Session) -> tuple[PairRef, PairRef]:
    """Two issue pairs of configured pair ``p``, one made from each side."""
    return (
        link_pair(
            s, pair_id="p", server=("1", "A-1"), cloud=("2", "B-1"), origin=Side.SERVER, now=NOW
        ),
        link_pair(
            s, pair_id="p", server=("3", "A-2"), cloud=("4", "B-2"), origin=Side.CLOUD, now=NOW
        ),
    )


def test_saves_touch_only_their_own_pair_and_side(store: Store) -> None:
    with store.session() as s:
        one, two = two_pairs(s)
        for ref in (one, two):
            for side in Side:
                save_snapshot(
                    s, ref.id, side, {"n": f"{ref.id}{side.value}"}, issue_updated=None, now=NOW
                )
    later = NOW + timedelta(minutes=5)
    with store.session() as s:
        saved = save_snapshot(s, one.id, Side.CLOUD, {"n": "new"}, issue_updated=later, now=later)
        assert saved.values == {"n": "new"} and saved.synced_at == later
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Snapshot)) == 4  # updated in place
        snaps = {
            (ref.id, side): load_snapshot(s, ref.id, side) for ref in (one, two) for side in Side
        }
    changed = snaps.pop((one.id, Side.CLOUD))
    assert changed is not None
    assert (changed.values, changed.issue_updated, changed.synced_at) == (
        {"n": "new"},
        later,
        later,
    )
    assert changed.hashes == saved.hashes
    for (pair_row, side), snap in snaps.items():
        assert snap is not None
        assert snap.values == {"n": f"{pair_row}{side.value}"}
        assert (snap.issue_updated, snap.synced_at) == (None, NOW)
    with store.session() as s:
        assert load_snapshot(s, one.id + two.id + 1, Side.SERVER) is None


def test_find_pair_by_side_and_configured_pair(store: Store) -> None:
    with store.session() as s:
        first = link_pair(
            s, pair_id="p", server=("1", "A-1"), cloud=("2", "B-1"), origin=Side.SERVER, now=NOW
        )
        # the same Server issue mirrored by a second configured pair
        other = link_pair(
            s, pair_id="q", server=("1", "A-1"), cloud=("7", "C-1"), origin=Side.SERVER, now=NOW
        )
    with store.session() as s:
        assert find_pair(s, side=Side.SERVER, issue_id="1") == first  # the oldest row
        assert find_pair(s, side=Side.SERVER, issue_id="1", pair_id="q") == other
        assert find_pair(s, side=Side.CLOUD, issue_id="7") == other
        assert find_pair(s, side=Side.CLOUD, issue_id="7", pair_id="p") is None
        assert find_pair(s, side=Side.CLOUD, issue_id="1") is None  # a Server id, not a Cloud one
        assert find_pair(s, side=Side.SERVER, issue_id="2") is None


def test_load_snapshots_reads_both_sides_of_one_pair_only(store: Store) -> None:
    with store.session() as s:
        one, two = two_pairs(s)
        save_snapshot(s, one.id, Side.SERVER, {"n": "1s"}, issue_updated=NOW, now=NOW)
        save_snapshot(s, two.id, Side.SERVER, {"n": "2s"}, issue_updated=None, now=NOW)
        save_snapshot(s, two.id, Side.CLOUD, {"n": "2c"}, issue_updated=None, now=NOW)
    with store.session() as s:
        first = load_snapshots(s, one.id)
        second = load_snapshots(s, two.id)
        assert first == {side: load_snapshot(s, one.id, side) for side in Side}
        assert second == {side: load_snapshot(s, two.id, side) for side in Side}
        assert load_snapshots(s, one.id + two.id + 1) == {Side.SERVER: None, Side.CLOUD: None}
    one_server = first[Side.SERVER]
    assert one_server is not None
    assert (one_server.values, one_server.issue_updated) == ({"n": "1s"}, NOW)
    assert first[Side.CLOUD] is None  # not synced yet: the other pair's row is not taken
    assert {s: v.values for s, v in second.items() if v is not None} == {
        Side.SERVER: {"n": "2s"},
        Side.CLOUD: {"n": "2c"},
    }


def test_save_snapshots_updates_both_rows_in_one_statement(store: Store) -> None:
    with store.session() as s:
        pair, other = two_pairs(s)
        save_snapshot(s, other.id, Side.SERVER, {"n": "untouched"}, issue_updated=None, now=NOW)
    later = NOW + timedelta(minutes=1)
    # the first save of a pair: no rows yet, both inserted
    with store.session() as s:
        save_snapshots(
            s,
            pair.id,
            {Side.SERVER: {"n": "s1"}, Side.CLOUD: {"n": "c1"}},
            issue_updated={Side.SERVER: NOW, Side.CLOUD: None},
            now=NOW,
        )
    # one side's row gone (as for a pair saved one side at a time): updated and inserted
    with store.session() as s:
        s.execute(
            delete(Snapshot).where(Snapshot.issue_pair_id == pair.id, Snapshot.side == "cloud")
        )
        save_snapshots(
            s,
            pair.id,
            {Side.SERVER: {"n": "s2"}, Side.CLOUD: {"n": "c2"}},
            issue_updated={Side.SERVER: later, Side.CLOUD: later},
            now=later,
        )
        assert {k: v.values if v else None for k, v in load_snapshots(s, pair.id).items()} == {
            Side.SERVER: {"n": "s2"},
            Side.CLOUD: {"n": "c2"},
        }
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement.split()[0])

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.session() as s:
            save_snapshots(
                s,
                pair.id,
                {Side.SERVER: {"n": "s3"}, Side.CLOUD: {"n": ["c", 3]}},
                issue_updated={Side.SERVER: None, Side.CLOUD: later},
                now=later,
            )
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert statements.count("UPDATE") == 1 and "INSERT" not in statements
    with store.session() as s:
        snaps = load_snapshots(s, pair.id)
        untouched = load_snapshot(s, other.id, Side.SERVER)
        assert s.scalar(select(func.count()).select_from(Snapshot)) == 3
    server, cloud = snaps[Side.SERVER], snaps[Side.CLOUD]
    assert server is not None and cloud is not None
    assert (server.values, server.issue_updated) == ({"n": "s3"}, None)
    assert (cloud.values, cloud.issue_updated) == ({"n": ["c", 3]}, later)
    assert cloud.hashes == {"n": value_hash(["c", 3])}
    assert untouched is not None and untouched.values == {"n": "untouched"}


def comment_pair(issue_pair_id: int, comment_id: str, origin: str) -> CommentPair:
    return CommentPair(
        issue_pair_id=issue_pair_id,
        server_comment_id=f"{comment_id}-s",
        cloud_comment_id=f"{comment_id}-c",
        origin=origin,
        server_hash=f"{comment_id}-hs",
        cloud_hash=f"{comment_id}-hc",
        synced_at=NOW,
    )


def attachment_pair(
    issue_pair_id: int, att_id: str, synced_at: datetime, media: str | None
) -> AttachmentPair:
    return AttachmentPair(
        issue_pair_id=issue_pair_id,
        server_attachment_id=f"{att_id}-s",
        cloud_attachment_id=f"{att_id}-c",
        filename=f"{att_id}.png",
        sha256=att_id * 64,
        synced_at=synced_at,
        cloud_media_id=media,
    )


def test_pair_rows_reads_the_three_tables_of_one_pair_as_plain_rows(store: Store) -> None:
    later = NOW + timedelta(hours=1)
    with store.session() as s:
        one, two = two_pairs(s)
        s.add_all(
            [
                comment_pair(one.id, "c", "server"),
                comment_pair(two.id, "other", "cloud"),
                attachment_pair(one.id, "a", later, None),
                attachment_pair(one.id, "b", NOW, "m-1"),
                LinkPair(
                    issue_pair_id=one.id,
                    server_link_id="l-s",
                    cloud_link_id="l-c",
                    link_type="Relates",
                    synced_at=later,
                ),
            ]
        )
    with store.session() as s:
        rows = pair_rows(s, one.id)
        others = pair_rows(s, two.id)
        empty = pair_rows(s, one.id + two.id + 1)
        orm = {t: s.scalars(select(t).where(t.issue_pair_id == one.id)).all() for t in rows}
    assert empty == {CommentPair: [], AttachmentPair: [], LinkPair: []}
    assert [r.server_comment_id for r in others[CommentPair]] == ["other-s"]
    assert others[AttachmentPair] == [] and others[LinkPair] == []
    assert [len(rows[t]) for t in (CommentPair, AttachmentPair, LinkPair)] == [1, 2, 1]
    for table, plain in rows.items():  # every column, as the ORM reads it
        names = [c.key for c in table.__table__.columns]
        as_orm = sorted((tuple(getattr(r, n) for n in names) for r in orm[table]), key=str)
        assert sorted((tuple(getattr(r, n) for n in names) for r in plain), key=str) == as_orm
    media = {r.cloud_attachment_id: r.cloud_media_id for r in rows[AttachmentPair]}
    assert media == {"a-c": None, "b-c": "m-1"}
    assert rows[LinkPair][0].synced_at == later and rows[LinkPair][0].link_type == "Relates"
