"""Paginators for Jira's two styles, each refusing to loop forever.

Hand-written: each is a dozen lines over :class:`~jirabridge.jira._http.JiraHttp`, and the loop
detection rules are Jira-specific.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from jirabridge.errors import BadInputError, RetryLaterError
from jirabridge.jira._shape import expect_object

__all__ = ["PaginationLoopError", "offset_pages", "token_pages"]

FetchOffset = Callable[[int, int], Awaitable[Mapping[str, Any]]]
FetchToken = Callable[[str | None], Awaitable[Mapping[str, Any]]]


class PaginationLoopError(RetryLaterError):
    """Jira handed back a page cursor it had already given: stop instead of looping."""


async def offset_pages(
    fetch: FetchOffset,
    *,
    items_key: str,
    page_size: int,
    start_at: int = 0,
    max_pages: int = 1_000_000,
) -> AsyncIterator[list[Any]]:
    """``startAt``/``maxResults`` paging; ``fetch(start_at, max_results)`` returns a page.

    Stops on ``isLast``, on ``startAt + len >= total``, or on an empty page. A page whose
    ``startAt`` goes backwards, or that repeats the previous page exactly, is a loop.
    """
    seen_first: set[str] = set()
    pages = 0
    while True:
        page = expect_object(await fetch(start_at, page_size), what="page")
        pages += 1
        items = _items(page, items_key)
        answered_start = page.get("startAt", start_at)
        if not isinstance(answered_start, int) or isinstance(answered_start, bool):
            raise BadInputError(f"Jira's page has startAt={answered_start!r}, not a number")
        if answered_start < start_at:
            raise PaginationLoopError(
                f"pagination went back from startAt={start_at} to {answered_start}"
            )
        if items:
            marker = f"{_identity(items[0])}:{_identity(items[-1])}:{len(items)}"
            if marker in seen_first:
                raise PaginationLoopError(f"page at startAt={start_at} repeats an earlier page")
            seen_first.add(marker)
            yield items
        if not items or page.get("isLast") is True:
            return
        total = page.get("total")
        start_at = answered_start + len(items)
        if isinstance(total, int) and start_at >= total:
            return
        if pages >= max_pages:
            raise PaginationLoopError(f"more than {max_pages} pages: giving up")


async def token_pages(
    fetch: FetchToken,
    *,
    items_key: str,
    token_key: str = "nextPageToken",  # noqa: S107
    max_pages: int = 1_000_000,
) -> AsyncIterator[list[Any]]:
    """``nextPageToken`` paging; a token seen before is a loop."""
    token: str | None = None
    seen: set[str] = set()
    pages = 0
    while True:
        page = expect_object(await fetch(token), what="page")
        pages += 1
        items = _items(page, items_key)
        if items:
            yield items
        next_token = page.get(token_key)
        if not next_token or page.get("isLast") is True:
            return
        if next_token in seen:
            raise PaginationLoopError("Jira handed back a page token it had already given")
        seen.add(str(next_token))
        token = str(next_token)
        if pages >= max_pages:
            raise PaginationLoopError(f"more than {max_pages} pages: giving up")


def _items(page: Mapping[str, Any], items_key: str) -> list[Any]:
    items = page.get(items_key) or []
    if not isinstance(items, list):
        raise BadInputError(f"Jira's page has a {type(items).__name__} for {items_key!r}")
    return items


def _identity(item: Any) -> str:
    """What tells one entry from another: its id or key, else the whole entry.

    Entries without an id (some comment or group answers) would otherwise all look alike and
    two different pages of the same length would read as a loop.
    """
    if isinstance(item, Mapping):
        for name in ("id", "key", "accountId", "groupId", "name"):
            value = item.get(name)
            if value is not None:
                return f"{name}={value!r}"
    return repr(item)
