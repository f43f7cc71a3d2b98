"""Attachment copies: an ambiguous upload never adopts another file's copy made earlier in the
same job; a file the target refused as too large (413) is not downloaded again in later jobs;
a media id Cloud cannot tell now is left for a later job instead of failing this one; files
are streamed through a temporary file, not held in memory."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import IO, Any

import pytest
from sqlalchemy import select

from jirabridge.errors import RetryLaterError
from jirabridge.jira import AmbiguousWriteError, Attachment, UserRef
from jirabridge.sync.apply._attachments import _AttachmentsMixin
from jirabridge.sync.config import Side
from jirabridge.sync.store import AttachmentPair, AuditEntry, Store

from .test_apply_emulator import World, build_world
from .test_apply_scenarios import paired

BOT = UserRef(account_id="bot")


class Target:
    """A fake target site: the second upload's connection drops before Jira got it."""

    def __init__(self) -> None:
        self.stored: list[tuple[Attachment, bytes]] = []
        self.calls = 0

    async def add_attachment(
        self, key: str, name: str, content: bytes | IO[bytes], mime: str = ""
    ) -> list[Attachment]:
        content = content if isinstance(content, bytes) else content.read()
        self.calls += 1
        if self.calls == 2:
            raise AmbiguousWriteError("connection lost")
        made = Attachment(
            filename=name, size=len(content), mime_type=mime, author=BOT, id=str(500 + self.calls)
        )
        self.stored.append((made, content))
        return [made]

    async def get_issue(self, key: str, fields: Any = None) -> Any:
        return SimpleNamespace(attachments=[a for a, _ in self.stored])

    async def download_attachment_to(self, att: Attachment, sink: IO[bytes]) -> int:
        sink.seek(0)
        sink.truncate()
        return sink.write(next(content for a, content in self.stored if a.id == att.id))


def mixin() -> _AttachmentsMixin:
    m = _AttachmentsMixin.__new__(_AttachmentsMixin)
    m.config = SimpleNamespace(sites={"cloud": SimpleNamespace(integration_user="bot")})  # type: ignore[assignment]
    return m


def fake_ctx(target: Target) -> Any:
    pair = SimpleNamespace(
        server=SimpleNamespace(site="server"), cloud=SimpleNamespace(site="cloud")
    )
    return SimpleNamespace(
        pair=pair,
        clients={Side.CLOUD: target},
        writes=0,
        issues={Side.CLOUD: SimpleNamespace(key="CL-1", attachments=[])},
    )


def spooled(content: bytes) -> tuple[IO[bytes], str]:
    import hashlib

    return io.BytesIO(content), hashlib.sha256(content).hexdigest()


async def test_an_ambiguous_upload_never_adopts_the_copy_of_another_file() -> None:
    m, target = mixin(), Target()
    ctx = fake_ctx(target)
    first = Attachment(filename="shot.png", size=10, mime_type="image/png", id="1")
    second = Attachment(filename="shot.png", size=10, mime_type="image/png", id="2")
    paired_ids: set[str] = set()
    body, digest = spooled(b"AAAAAAAAAA")
    c1 = await m._upload_once(ctx, Side.CLOUD, first, body, digest, paired=paired_ids)
    assert c1.id is not None
    paired_ids.add(c1.id)
    body, digest = spooled(b"BBBBBBBBBB")
    c2 = await m._upload_once(ctx, Side.CLOUD, second, body, digest, paired=paired_ids)
    assert c1.id != c2.id
    assert [content for _, content in target.stored] == [b"AAAAAAAAAA", b"BBBBBBBBBB"]


async def test_an_ambiguous_upload_of_same_name_and_size_but_other_bytes_is_not_adopted() -> None:
    m, target = mixin(), Target()
    ctx = fake_ctx(target)
    # an upload of ours the job did not pair (e.g. someone's copy made by another pair)
    target.stored.append(
        (Attachment(filename="shot.png", size=10, author=BOT, id="400"), b"CCCCCCCCCC")
    )
    target.calls = 1  # the next upload's answer is lost and it did not happen
    att = Attachment(filename="shot.png", size=10, id="2")
    body, digest = spooled(b"BBBBBBBBBB")
    copy = await m._upload_once(ctx, Side.CLOUD, att, body, digest)
    assert copy.id == "503"
    assert target.stored[-1] == (copy, b"BBBBBBBBBB")


async def test_two_files_of_one_name_and_size_both_arrive_despite_a_lost_upload(
    store: Store,
) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        await world.alice["cld"].add_attachment(c_key, "shot.png", b"AAAAAAAAAA")
        await world.alice["cld"].add_attachment(c_key, "shot.png", b"BBBBBBBBBB")
        client = world.bot["srv"]
        real = client.add_attachment
        calls = 0

        async def flaky(*args: Any, **kwargs: Any) -> list[Attachment]:
            nonlocal calls
            calls += 1
            if calls == 2:  # lost before it reached Jira
                raise AmbiguousWriteError("connection reset")
            return await real(*args, **kwargs)

        client.add_attachment = flaky  # type: ignore[method-assign]
        try:
            await world.apply("cld", c_id)
        finally:
            del client.add_attachment
        copies = (await client.get_issue(s_key, fields=["attachment"])).attachments
        contents = sorted([await client.download_attachment(a) for a in copies])
        assert contents == [b"AAAAAAAAAA", b"BBBBBBBBBB"]
        with store.session() as s:
            rows = s.scalars(select(AttachmentPair)).all()
        assert sorted(r.server_attachment_id for r in rows) == sorted(str(a.id) for a in copies)


async def test_a_file_the_target_refused_is_not_downloaded_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jirabridge.emulator.faces import _routes_social

    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        await world.alice["cld"].add_attachment(c_key, "big.bin", b"x" * 64)
        monkeypatch.setattr(_routes_social, "MAX_ATTACHMENT_BYTES", 32)  # Server's limit
        downloads = count_downloads(world, "cld", monkeypatch)
        assert (await world.apply("cld", c_id)).action == "synced"
        assert len(downloads) == 1
        await world.alice["cld"].add_attachment(c_key, "small.txt", b"tiny")
        await world.apply("cld", c_id)
        await world.apply("cld", c_id)
        assert [a.filename for a in downloads] == ["big.bin", "small.txt"]
        files = (await world.bot["srv"].get_issue(s_key, fields=["attachment"])).attachments
        assert [a.filename for a in files] == ["small.txt"]
        with store.session() as s:
            entries = s.scalars(
                select(AuditEntry).where(AuditEntry.kind == "attachment_too_large")
            ).all()
        assert len(entries) == 1


def count_downloads(world: World, site: str, monkeypatch: pytest.MonkeyPatch) -> list[Attachment]:
    client = world.bot[site]
    real = client.download_attachment_to
    seen: list[Attachment] = []

    async def counted(att: Attachment | str, sink: IO[bytes]) -> int:
        assert isinstance(att, Attachment)
        seen.append(att)
        return await real(att, sink)

    monkeypatch.setattr(client, "download_attachment_to", counted)
    return seen


async def test_a_media_id_cloud_cannot_tell_now_is_left_for_a_later_job() -> None:
    class Cloud:
        async def media_id(self, attachment: Attachment | str) -> str | None:
            raise RetryLaterError("HTTP 503 from Jira, still after 5 attempts")

    m = mixin()
    ctx = SimpleNamespace(clients={Side.CLOUD: Cloud()})
    assert await m._media_id(ctx, Attachment(filename="a.png", size=1, id="7")) is None  # type: ignore[arg-type]


async def test_a_copy_is_streamed_through_a_file_never_whole_in_memory(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        content = bytes(range(256)) * 8192  # 2 MiB: past the in-memory spool
        await world.alice["cld"].add_attachment(c_key, "data.bin", content)
        sent: list[Any] = []
        client = world.bot["srv"]
        real = client.add_attachment

        async def upload(key: str, name: str, body: Any, mime: str = "") -> list[Attachment]:
            sent.append(body)
            return await real(key, name, body, mime)

        def no_whole_download(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the whole file was read into memory")

        monkeypatch.setattr(client, "add_attachment", upload)
        monkeypatch.setattr(world.bot["cld"], "download_attachment", no_whole_download)
        await world.apply("cld", c_id)
        assert len(sent) == 1 and not isinstance(sent[0], bytes)  # a file, not bytes
        [copy] = (await client.get_issue(s_key, fields=["attachment"])).attachments
        assert await client.download_attachment(copy) == content
        with store.session() as s:
            [row] = s.scalars(select(AttachmentPair)).all()
        import hashlib

        assert row.sha256 == hashlib.sha256(content).hexdigest()
