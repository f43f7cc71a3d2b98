"""The matching rules of the child-pair rebuild: a comment pairs by its origin marker (never
by its words), only the integration user's uploads count as mirrors, and an attachment must
have the same content, not just the name."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from jirabridge.jira import Attachment, Comment, Issue, UserRef
from jirabridge.sync.config import Side, parse_config
from jirabridge.sync.markers import MARKER
from jirabridge.sync.pairs import link_pair
from jirabridge.sync.rebuild import rebuild_children
from jirabridge.sync.store import AttachmentPair, CommentPair, Store

CONFIG = textwrap.dedent(
    """\
    version: 1
    sites:
      s: {flavour: server, url: "https://jira.example.com", auth: pat,
          credential: "env:S", integration_user: bot}
      c: {flavour: cloud, url: "https://x.atlassian.net", auth: api_token,
          username: bot@example.com, credential: "env:C", integration_user: acc-bot}
    pairs:
      - id: p1
        server: {site: s, project: OPS}
        cloud: {site: c, project: OPS}
        fields: [{name: summary}]
    """
)
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALICE_S = UserRef(name="alice", key="alice")
BOT_S = UserRef(name="bot", key="bot")
ALICE_C = UserRef(account_id="acc-alice")
BOT_C = UserRef(account_id="acc-bot")


def doc(*paragraphs: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs
        ],
    }


class FakeSite:
    """Only the reads the rebuild makes."""

    def __init__(
        self,
        issue: Issue,
        comments: list[Comment],
        contents: dict[str, bytes],
    ) -> None:
        self.issue = issue
        self._comments = comments
        self.contents = contents

    async def get_issue(self, key: str, **_: Any) -> Issue:
        assert key == self.issue.key
        return self.issue

    async def comments(
        self, key: str, *, page_size: int = 100, properties: bool = False
    ) -> AsyncIterator[Comment]:
        assert properties  # markers are read with the comments
        for c in self._comments:
            yield c

    async def download_attachment(self, attachment: Attachment | str) -> bytes:
        assert isinstance(attachment, Attachment) and attachment.id is not None
        return self.contents[attachment.id]


def issue(key: str, attachments: tuple[Attachment, ...]) -> Issue:
    return Issue(
        key=key, project_key="OPS", issue_type="Task", summary="x", status="Open",
        attachments=attachments, id=key,
    )  # fmt: skip


async def test_only_our_comments_and_same_content_attachments_match(store: Store) -> None:
    config = parse_config(CONFIG).config
    with store.session() as s:
        ref = link_pair(
            s, pair_id="p1", server=("OPS-1", "OPS-1"), cloud=("OPS-9", "OPS-9"),
            origin=Side.SERVER, now=NOW,
        )  # fmt: skip
    server = FakeSite(
        issue(
            "OPS-1",
            (
                Attachment("log.txt", 5, author=ALICE_S, id="sa1"),
                Attachment("dump.bin", 4, author=ALICE_S, id="sa2"),
            ),
        ),
        [
            Comment(doc("please look"), author=ALICE_S, id="s1"),
            Comment(doc("unrelated"), author=ALICE_S, id="s2"),
        ],
        {"sa1": b"hello", "sa2": b"abcd"},
    )
    cloud = FakeSite(
        issue(
            "OPS-9",
            (
                Attachment("log.txt", 5, author=BOT_C, id="ca1"),  # same content: a mirror
                Attachment("dump.bin", 4, author=BOT_C, id="ca2"),  # same name, other bytes
            ),
        ),
        [
            # the same words without a marker, by someone else or by us: not a mirror
            Comment(doc("Alice wrote on 2026-01-05:", "unrelated"), author=ALICE_C, id="c0"),
            Comment(doc("Alice wrote on 2026-01-05:", "unrelated"), author=BOT_C, id="c2"),
            Comment(
                doc("Alice wrote on 2026-01-05:", "please look"),
                author=BOT_C,
                id="c1",
                properties={MARKER: {"site": "s", "issue": "OPS-1", "comment": "s1"}},
            ),
            # a marker naming a comment that is not there, or another site: no pair
            Comment(
                doc("x"),
                author=BOT_C,
                id="c3",
                properties={MARKER: {"site": "s", "issue": "OPS-1", "comment": "s404"}},
            ),  # fmt: skip
            Comment(
                doc("x"),
                author=BOT_C,
                id="c4",
                properties={MARKER: {"site": "c", "issue": "OPS-1", "comment": "s2"}},
            ),  # fmt: skip
        ],
        {"ca1": b"hello", "ca2": b"wxyz"},
    )
    result = await rebuild_children(
        store=store,
        config=config,
        pair=config.pairs[0],
        clients={Side.SERVER: server, Side.CLOUD: cloud},  # type: ignore[dict-item]
        ref=ref,
        now=NOW,
    )
    assert (result.comments, result.attachments, result.links) == (1, 1, 0)
    with store.session() as s:
        comments = [
            (r.server_comment_id, r.cloud_comment_id) for r in s.scalars(select(CommentPair))
        ]
        files = [
            (r.server_attachment_id, r.cloud_attachment_id)
            for r in s.scalars(select(AttachmentPair))
        ]
    assert comments == [("s1", "c1")]
    assert files == [("sa1", "ca1")]
    # run twice: nothing recorded twice
    again = await rebuild_children(
        store=store, config=config, pair=config.pairs[0],
        clients={Side.SERVER: server, Side.CLOUD: cloud},  # type: ignore[dict-item]
        ref=ref, now=NOW,
    )  # fmt: skip
    assert (again.comments, again.attachments) == (0, 0)
