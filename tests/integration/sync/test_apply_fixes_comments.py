"""The attribution line of a mirrored comment gives the source comment's time in UTC, whatever
the source site's UTC offset."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from jirabridge.jira import Comment, UserRef
from jirabridge.jira._convert import parse_datetime
from jirabridge.sync.apply._comments import _CommentsMixin
from jirabridge.sync.config import Side


def attribution(created: str) -> str:
    m = _CommentsMixin.__new__(_CommentsMixin)
    m.translate_doc = lambda ctx, doc, source, target: doc  # type: ignore[method-assign]
    pair = SimpleNamespace(
        comments=SimpleNamespace(attribution=True, attribution_template="{author} on {created}:"),
        server=SimpleNamespace(site="srv"),
        cloud=SimpleNamespace(site="cld"),
    )
    ctx: Any = SimpleNamespace(pair=pair, issues={Side.SERVER: SimpleNamespace(key="OPS-1")})
    comment = Comment(
        body={"type": "doc", "version": 1, "content": []},
        author=UserRef(name="alice", display_name="Alice"),
        created=parse_datetime(created),
    )
    body = m._attributed(ctx, Side.SERVER, comment)
    return str(body["content"][0]["content"][0]["text"])


def test_a_time_with_an_offset_is_given_in_utc() -> None:
    assert attribution("2026-11-24T09:00:00.000+0100") == "Alice on 2026-11-24 08:00 UTC:"
    assert attribution("2026-11-24T23:30:00.000-0500") == "Alice on 2026-11-25 04:30 UTC:"
    assert attribution("2026-11-24T09:00:00.000+0000") == "Alice on 2026-11-24 09:00 UTC:"
