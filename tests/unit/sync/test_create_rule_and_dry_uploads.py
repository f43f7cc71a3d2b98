"""PairConfig.creates_from (the one create rule) and the dry run's streamed attachments."""

from __future__ import annotations

import io
from typing import IO, Any, cast

import pytest

from jirabridge.jira import Attachment, UserRef
from jirabridge.sync.config import CreateRule, PairConfig, PairSide, Side
from jirabridge.sync.dryrun import PlannedWrite, RecordingClient, WriteKind
from jirabridge.sync.engine import SiteClient


def pair(create: CreateRule) -> PairConfig:
    return PairConfig(
        id="p",
        server=PairSide(site="s", project="A"),
        cloud=PairSide(site="c", project="B"),
        create=create,
    )


@pytest.mark.parametrize(
    ("create", "from_server", "from_cloud"),
    [
        (CreateRule.BOTH, True, True),
        (CreateRule.SERVER_TO_CLOUD, True, False),
        (CreateRule.CLOUD_TO_SERVER, False, True),
        (CreateRule.NONE, False, False),
    ],
)
def test_creates_from_follows_the_direction(
    create: CreateRule, from_server: bool, from_cloud: bool
) -> None:
    assert pair(create).creates_from(Side.SERVER) is from_server
    assert pair(create).creates_from(Side.CLOUD) is from_cloud


class Inner:
    """The reads the recording client passes through."""

    def __init__(self) -> None:
        self.downloaded: list[str] = []

    async def myself(self) -> UserRef:
        return UserRef(account_id="bot")

    async def download_attachment_to(self, attachment: Attachment | str, sink: IO[bytes]) -> int:
        self.downloaded.append(str(attachment))
        return sink.write(b"hello")


def recording() -> tuple[RecordingClient, Inner, list[PlannedWrite]]:
    inner, writes = Inner(), []
    client = RecordingClient(cast(SiteClient, inner), "c", writes)
    return client, inner, writes


async def test_an_upload_from_a_file_is_recorded_with_its_size_and_not_sent() -> None:
    client, _, writes = recording()
    body = io.BytesIO(b"0123456789")
    made = await client.add_attachment("B-1", "shot.png", body, "image/png")
    assert [(w.key, w.kind, w.detail) for w in writes] == [
        ("B-1", WriteKind.ATTACHMENT, "shot.png (10 bytes)")
    ]
    assert made[0].size == 10 and made[0].filename == "shot.png"
    assert body.tell() == 0  # the file is left where the upload would start


async def test_an_upload_of_bytes_is_recorded_as_before() -> None:
    client, _, writes = recording()
    made = await client.add_attachment("B-1", "a.txt", b"abc")
    assert writes[0].detail == "a.txt (3 bytes)" and made[0].size == 3


async def test_a_streamed_download_is_passed_through_and_not_recorded() -> None:
    client, inner, writes = recording()
    sink: Any = io.BytesIO()
    assert await client.download_attachment_to("42", sink) == 5
    assert sink.getvalue() == b"hello" and inner.downloaded == ["42"] and writes == []
