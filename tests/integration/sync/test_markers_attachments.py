"""Attachments between the two emulators: an upload whose answer was lost, or that an attempt
which died made, is adopted (file name + size + uploaded by us) instead of copied twice; an
attachment over the size limit is recorded once as an audit entry that ``status`` shows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from jirabridge.cli import app
from jirabridge.jira import AmbiguousWriteError, Attachment
from jirabridge.sync.queue import Queue
from jirabridge.sync.state import status_report
from jirabridge.sync.store import AttachmentPair, AuditEntry, Store

from .test_apply_emulator import World, build_world
from .test_apply_scenarios import paired
from .test_markers_comments import set_faults


def _pairs(store: Store) -> list[tuple[str, str, str]]:
    with store.session() as s:
        return [
            (r.server_attachment_id, r.cloud_attachment_id, r.filename)
            for r in s.scalars(select(AttachmentPair))
        ]


async def _files(world: World, site: str, key: str) -> list[Attachment]:
    return list((await world.bot[site].get_issue(key, fields=["attachment"])).attachments)


async def test_a_lost_upload_answer_is_adopted_not_uploaded_twice(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        [source] = await world.alice["cld"].add_attachment(c_key, "plan.txt", b"the plan")
        await set_faults(
            world,
            "srv",
            {"lostAnswers": [{"rate": 1, "pattern": "*/attachments", "method": "POST"}]},
        )
        await world.apply("cld", c_id)
        await set_faults(world, "srv", {"clear": True})

        [copy] = await _files(world, "srv", s_key)
        assert (copy.filename, copy.size) == ("plan.txt", 8)
        assert _pairs(store) == [(copy.id, source.id, "plan.txt")]
        assert (await world.apply("cld", c_id)).writes == 0
        assert len(await _files(world, "srv", s_key)) == 1


async def test_an_ambiguous_upload_that_did_not_happen_is_sent_again(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        await world.alice["cld"].add_attachment(c_key, "plan.txt", b"the plan")
        client = world.bot["srv"]
        real = client.add_attachment
        calls = 0

        async def flaky(*args: Any, **kwargs: Any) -> list[Attachment]:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise AmbiguousWriteError("connection reset")
            return await real(*args, **kwargs)

        client.add_attachment = flaky
        try:
            await world.apply("cld", c_id)
        finally:
            del client.add_attachment
        assert calls == 2
        assert [a.filename for a in await _files(world, "srv", s_key)] == ["plan.txt"]
        assert len(_pairs(store)) == 1


async def test_an_upload_by_a_dead_attempt_is_adopted(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        [source] = await world.alice["cld"].add_attachment(c_key, "plan.txt", b"the plan")
        # the attempt that died had uploaded the copy but not recorded it
        [orphan] = await world.bot["srv"].add_attachment(s_key, "plan.txt", b"the plan")
        # someone else's file of the same name and size is not ours to adopt: it is a source
        [alices] = await world.alice["srv"].add_attachment(s_key, "plan.txt", b"the plot")
        result = await world.apply("cld", c_id)
        assert result.writes == 1  # Alice's file to Cloud; nothing uploaded to Server
        assert len(await _files(world, "srv", s_key)) == 2
        [copy] = [a for a in await _files(world, "cld", c_key) if a.id != source.id]
        assert sorted(_pairs(store)) == sorted(
            [(orphan.id, source.id, "plan.txt"), (alices.id, copy.id, "plan.txt")]
        )


async def test_an_orphan_of_ours_with_other_bytes_is_not_adopted(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        [source] = await world.alice["cld"].add_attachment(c_key, "plan.txt", b"the plan")
        [other] = await world.bot["srv"].add_attachment(s_key, "plan.txt", b"the plot")
        result = await world.apply("cld", c_id)
        assert result.writes == 1  # uploaded: the same name and size is not the same file
        [copy] = [a for a in await _files(world, "srv", s_key) if a.id != other.id]
        assert await world.bot["srv"].download_attachment(copy) == b"the plan"
        assert _pairs(store) == [(copy.id, source.id, "plan.txt")]


async def test_oversized_attachments_are_audited_once_and_shown_in_status(
    store: Store, store_url: tuple[str, str | None]
) -> None:
    async with build_world(store, {"max_attachment_bytes": 10}) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        await world.alice["cld"].add_attachment(c_key, "small.txt", b"tiny")
        [big] = await world.alice["cld"].add_attachment(c_key, "big.bin", b"x" * 11)
        await world.apply("cld", c_id)
        await world.apply("cld", c_id)  # seen again: still one entry

        assert [a.filename for a in await _files(world, "srv", s_key)] == ["small.txt"]
        with store.session() as s:
            [entry] = s.scalars(
                select(AuditEntry).where(AuditEntry.kind == "attachment_too_large")
            ).all()
            assert (entry.site, entry.subject) == ("cld", c_key)
            assert "big.bin" in entry.message and "11 bytes" in entry.message
            assert entry.details == {
                "pair": "ops",
                "issue": c_key,
                "attachment_id": big.id,
                "filename": "big.bin",
                "size": 11,
                "limit": 10,
            }
        report = status_report(Queue(store, site_sides={"srv": "server", "cld": "cloud"}))
        [shown] = report.too_large
        assert (shown.site, shown.subject) == ("cld", c_key)
        assert "big.bin" in shown.message
    url, schema = store_url
    if schema is None:  # the CLI's --store takes a URL (the SQLite run)
        runner = CliRunner()
        table = runner.invoke(app, ["status", "--store", url])
        assert table.exit_code == 0, table.output
        assert "too large" in table.output and "big.bin" in table.output
        as_json = runner.invoke(app, ["status", "--store", url, "--json"])
        [item] = json.loads(as_json.output)["attachments_too_large"]
        assert (item["site"], item["issue"]) == ("cld", c_key)
        assert "11 bytes" in item["message"]


async def test_an_upload_the_target_refuses_as_too_large_is_audited(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jirabridge.emulator.faces import _routes_social

    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        await world.alice["cld"].add_attachment(c_key, "big.bin", b"x" * 64)
        monkeypatch.setattr(_routes_social, "MAX_ATTACHMENT_BYTES", 32)  # Server's limit
        result = await world.apply("cld", c_id)
        assert result.action == "synced"
        assert await _files(world, "srv", s_key) == []
        with store.session() as s:
            [entry] = s.scalars(
                select(AuditEntry).where(AuditEntry.kind == "attachment_too_large")
            ).all()
        assert entry.details["limit"] is None
        assert "the target site's limit" in entry.message
