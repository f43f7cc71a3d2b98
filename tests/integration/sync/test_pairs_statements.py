"""find_pair / load_snapshot / save_snapshot as prebuilt table statements: each touches
its own (pair, side) row only, a second save updates in place, and a first save inserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from jirabridge.sync.config import Side
from jirabridge.sync.pairs import (
    find_pair,
    link_pair,
    load_snapshot,
    load_snapshots,
    save_snapshot,
)
from jirabridge.sync.store import Snapshot, Store

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_saves_touch_only_their_own_pair_and_side(store: Store) -> None:
    with store.session() as s:
        one = link_pair(
            s, pair_id="p", server=("1", "A-1"), cloud=("2", "B-1"), origin=Side.SERVER, now=NOW
        )
        two = link_pair(
            s, pair_id="p", server=("3", "A-2"), cloud=("4", "B-2"), origin=Side.CLOUD, now=NOW
        )
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
        one = link_pair(
            s, pair_id="p", server=("1", "A-1"), cloud=("2", "B-1"), origin=Side.SERVER, now=NOW
        )
        two = link_pair(
            s, pair_id="p", server=("3", "A-2"), cloud=("4", "B-2"), origin=Side.CLOUD, now=NOW
        )
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
