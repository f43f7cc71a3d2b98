"""A deleted issue deletes its mirror only when the pair says ``deletes: mirror``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from jirabridge.errors import SkipItemError
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.store import AuditEntry, IssuePair, Snapshot, Store

from .test_apply_emulator import World, build_world
from .test_apply_scenarios import paired


async def delete_and_apply(world: World, site: str, key: str, issue_id: str) -> object:
    await world.bot[site].delete_issue(key)
    world.queue.enqueue(
        ChangeNotice(
            site=site,
            issue_id=issue_id,
            issue_key=key,
            event=EventKind.ISSUE_DELETED,
            observed_at=datetime.now(UTC),
        ),
        immediate=True,
    )
    [job] = world.queue.lease("t")
    result = await world.applier.apply(job)
    assert world.queue.stats().leased == 0 and world.queue.stats().queued == 0
    return result


def audit(world: World) -> list[AuditEntry]:
    with world.queue.store.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.kind.like("%deleted"))))


@pytest.mark.parametrize("site", ["srv", "cld"])
async def test_deletes_mirror_removes_the_mirror_and_the_pair(store: Store, site: str) -> None:
    async with build_world(store, {"deletes": "mirror"}) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        key, issue_id = (s_key, s_id) if site == "srv" else (c_key, c_id)
        other, mirror = ("cld", c_key) if site == "srv" else ("srv", s_key)
        result = await delete_and_apply(world, site, key, issue_id)
        assert getattr(result, "action") == "deleted"
        with pytest.raises(SkipItemError):
            await world.bot[other].get_issue(mirror)
        with world.queue.store.session() as s:
            assert s.scalars(select(IssuePair)).all() == []
            assert s.scalars(select(Snapshot)).all() == []
        [entry] = audit(world)
        assert entry.kind == "mirror_deleted" and mirror in entry.message
        assert world.queue.dead_letters() == []


async def test_default_log_keeps_the_mirror_and_records_it(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, _ = await paired(world)
        result = await delete_and_apply(world, "srv", s_key, s_id)
        assert getattr(result, "action") == "ignored"
        assert (await world.bot["cld"].get_issue(c_key)).key == c_key
        [entry] = audit(world)
        assert entry.kind == "issue_deleted" and c_key in entry.message
        with world.queue.store.session() as s:
            assert len(s.scalars(select(IssuePair)).all()) == 1


async def test_none_ignores_the_deletion(store: Store) -> None:
    async with build_world(store, {"deletes": "none"}) as world:
        s_key, s_id, c_key, _ = await paired(world)
        await delete_and_apply(world, "srv", s_key, s_id)
        assert (await world.bot["cld"].get_issue(c_key)).key == c_key
        assert audit(world) == []


async def test_mirror_already_gone_is_not_an_error(store: Store) -> None:
    async with build_world(store, {"deletes": "mirror"}) as world:
        s_key, s_id, c_key, _ = await paired(world)
        await world.bot["cld"].delete_issue(c_key)
        await delete_and_apply(world, "srv", s_key, s_id)
        [entry] = audit(world)
        assert "already gone" in entry.message
        assert world.queue.dead_letters() == []
