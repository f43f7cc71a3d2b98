"""The marker on every comment the engine writes, and how to read it back.

Each mirrored comment carries the comment entity property :data:`MARKER`,
``{"site": <source site name>, "issue": <source issue key>, "comment": <source comment id>}``,
set in the create POST itself (no extra call). It is what finds the mirror of a comment again
when the state store does not know it: a job that died after posting (crash adoption), a POST
whose answer was lost (ambiguous write), a rebuilt store. Text is never used for that: two
comments may say the same thing, and a mirror's text changes on its way through the other
site's format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jirabridge.jira import Comment

__all__ = ["MARKER", "CommentOrigin", "comment_marker", "find_marked", "origin_of"]

MARKER = "jirabridge.origin"

CommentOrigin = tuple[str, str]
"""(source site name, source comment id): what a marker points at."""


def comment_marker(site: str, issue_key: str, comment_id: str) -> dict[str, str]:
    """The marker value for a mirror of comment ``comment_id`` of ``issue_key`` on ``site``."""
    return {"site": site, "issue": issue_key, "comment": comment_id}


def origin_of(comment: Comment) -> CommentOrigin | None:
    """Where ``comment`` was mirrored from, when it carries a well-formed marker (comments
    read without ``properties=True`` never do)."""
    value: Any = comment.properties.get(MARKER)
    if not isinstance(value, Mapping):
        return None
    site, source = value.get("site"), value.get("comment")
    if not isinstance(site, str) or not site or not isinstance(source, str | int):
        return None
    if isinstance(source, bool) or str(source) == "":
        return None
    return site, str(source)


def find_marked(comments: Iterable[Comment], origin: CommentOrigin) -> Comment | None:
    """The first comment whose marker points at ``origin``."""
    return next((c for c in comments if c.id is not None and origin_of(c) == origin), None)
