"""The Jira Server / Data Center client (REST v2 + agile 1.0)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jirabridge.errors import BadInputError, FixConfigError
from jirabridge.jira._client import BaseClient
from jirabridge.jira._convert import parse_datetime
from jirabridge.jira._errors import Scope
from jirabridge.jira._http import BucketFn
from jirabridge.jira._model import ChangelogEntry, JiraFlavour, UserRef
from jirabridge.jira._paging import PaginationLoopError, offset_pages
from jirabridge.jira._shape import expect_list

__all__ = ["ServerClient", "split_order_by"]

_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def split_order_by(jql: str) -> tuple[str, str]:
    """Split ``jql`` into (condition, ``ORDER BY ...`` clause or ""), ignoring quoted text."""
    quote: str | None = None
    i = 0
    while i < len(jql):
        ch = jql[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        else:
            match = _ORDER_BY.match(jql, i)
            if match and (i == 0 or not (jql[i - 1].isalnum() or jql[i - 1] == "_")):
                return jql[:i].strip(), jql[i:].strip()
        i += 1
    return jql.strip(), ""


class ServerClient(BaseClient):
    """Jira Server / Data Center over REST v2.

    ``result_window`` is the site's ``jira.search.platform.max.result.window`` (10,000 by
    default): searches with more results are split into windows on ``created`` transparently
    (they then come in ``created`` order, whatever the JQL's own ``ORDER BY``).
    ``rate_bucket`` names this client's user in a governor shared by several clients.
    """

    flavour = JiraFlavour.SERVER
    api = "/rest/api/2"

    def __init__(
        self,
        base_url: str,
        *,
        result_window: int = 10_000,
        rate_bucket: str = "user",
        **kwargs: Any,
    ) -> None:
        self.result_window = result_window
        self._rate_bucket = rate_bucket
        self._jql_tz: tzinfo | None = None
        # off unless asked for: Server has no bulk fetch, its bulk read is a search, and a
        # search answers from the index, which on a Data Center cluster may lag a direct
        # GET (a re-read right after our write must see the write)
        kwargs.setdefault("coalesce_reads", False)
        super().__init__(base_url, **kwargs)

    def _bucket_of(self) -> BucketFn:
        bucket = self._rate_bucket
        return lambda method, endpoint: bucket  # the DC limit is one bucket per user

    # -- search ---------------------------------------------------------------------------
    async def _search_page(
        self, jql: str, start: int, size: int, fields: list[str], expand: Sequence[str] | None
    ) -> Mapping[str, Any]:
        body: dict[str, Any] = {"jql": jql, "startAt": start, "maxResults": size, "fields": fields}
        if expand:
            body["expand"] = list(expand)
        data = await self._json("POST", f"{self.api}/search", json_body=body, idempotent=True)
        return data  # type: ignore[no-any-return]

    async def _bulk_issues(
        self, refs: Sequence[str], fields: list[str], expand: list[str]
    ) -> list[Any]:
        """``POST /search`` on ``key in (...)`` (Server has no bulk fetch). ``validateQuery``
        false (Jira's legacy spelling of "warn", which every version takes): a key that names
        no issue is dropped with a warning instead of failing the whole search. Numbers go
        unquoted (JQL reads a quoted number as a key)."""
        jql = "key in (" + ", ".join(refs) + ")"
        body: dict[str, Any] = {
            "jql": jql,
            "startAt": 0,
            "maxResults": len(refs),
            "fields": fields,
            "validateQuery": False,
        }
        if expand:
            body["expand"] = expand
        answer = await self.http.json_object(
            "POST", f"{self.api}/search", json_body=body, scope=Scope.ITEM, idempotent=True
        )
        return expect_list(answer.get("issues") or [], answer.request, "search issues")

    async def search_raw(
        self,
        jql: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[dict[str, Any]]:
        wanted = list(fields or ["*all"])
        if "*all" not in wanted and "created" not in wanted:
            wanted.append("created")
        first = await self._search_page(jql, 0, page_size, wanted, expand)
        total = first.get("total")
        if not isinstance(total, int) or total <= self.result_window:
            async for page in self._window(jql, wanted, expand, page_size, first):
                for issue in page:
                    yield issue
            return
        async for issue in self._windowed(jql, wanted, expand, page_size):
            yield issue

    async def _window(
        self,
        jql: str,
        fields: list[str],
        expand: Sequence[str] | None,
        page_size: int,
        first: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of one query, up to the result window."""
        window = self.result_window

        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            nonlocal first
            if first is not None and start == 0:
                page, first = first, None
                return page
            if start >= window:
                return {"issues": [], "startAt": start}
            return await self._search_page(jql, start, min(size, window - start), fields, expand)

        async for page in offset_pages(fetch, items_key="issues", page_size=page_size):
            yield page

    async def _windowed(
        self, jql: str, fields: list[str], expand: Sequence[str] | None, page_size: int
    ) -> AsyncIterator[dict[str, Any]]:
        condition, _order = split_order_by(jql)
        if not condition:
            raise BadInputError("cannot split a search with an empty condition into windows")
        tz = await self._user_timezone()
        lower: str | None = None
        recent: set[str] = set()  # ids yielded at or after the current lower bound
        while True:
            query = f"({condition})"
            if lower is not None:
                query += f' AND created >= "{lower}"'
            query += " ORDER BY created ASC, key ASC"
            count = 0
            last_created: datetime | None = None
            window_items: list[tuple[str, datetime | None]] = []
            async for page in self._window(query, fields, expand, page_size):
                for issue in page:
                    count += 1
                    issue_id = str(issue.get("id"))
                    created = parse_datetime((issue.get("fields") or {}).get("created"))
                    last_created = created or last_created
                    window_items.append((issue_id, created))
                    if issue_id in recent:
                        continue
                    yield issue
            if count < self.result_window or last_created is None:
                return
            bound = last_created.astimezone(tz).replace(second=0, microsecond=0)
            new_lower = bound.strftime("%Y/%m/%d %H:%M")
            if new_lower == lower:
                raise FixConfigError(
                    f"more than {self.result_window} issues were created in the minute"
                    f" {new_lower}; narrow the JQL or raise the result window"
                )
            lower = new_lower
            recent = {i for i, c in window_items if c is not None and c.astimezone(tz) >= bound}

    async def _user_timezone(self) -> tzinfo:
        """JQL dates are read in the searching user's time zone."""
        if self._jql_tz is None:
            data = (await self.http.json_object("GET", f"{self.api}/myself")).data
            try:
                self._jql_tz = ZoneInfo(str(data.get("timeZone") or "UTC"))
            except (ZoneInfoNotFoundError, ValueError):
                self._jql_tz = UTC
        return self._jql_tz

    # -- changelog ------------------------------------------------------------------------
    async def changelog(self, key: str) -> list[ChangelogEntry]:
        """Every history entry of one issue, oldest first.

        ``expand=changelog`` first (one call; Jira Server answers with every entry). When the
        answer holds fewer entries than its ``total`` (a capped embed), the rest comes from
        the paged ``GET /issue/{key}/changelog?startAt=`` route; a site without that route
        (404/405: older Server versions) fails with :class:`PaginationLoopError` naming the
        gap rather than returning a silently shortened history.
        """
        data = await self._json(
            "GET",
            f"{self.api}/issue/{key}",
            scope=Scope.ITEM,
            params={"expand": "changelog", "fields": "created"},
        )
        block = data.get("changelog") or {}
        histories = list(block.get("histories") or ())
        total = block.get("total")
        if isinstance(total, int) and total > len(histories):
            histories = await self._changelog_paged(key, total, histories)
        reader = await self._plain_reader()
        return sorted((reader.changelog_entry(h) for h in histories), key=lambda e: e.created)

    async def _changelog_paged(
        self, key: str, total: int, embedded: list[Any]
    ) -> list[Mapping[str, Any]]:
        """All entries through the paged route, merged with the embedded ones by id."""
        path = f"{self.api}/issue/{key}/changelog"
        missing: list[int] = []

        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            response = await self.http.request(
                "GET",
                path,
                scope=Scope.ITEM,
                params={"startAt": start, "maxResults": size},
                ok_statuses=(404, 405),
            )
            if response.status_code in (404, 405):
                missing.append(response.status_code)
                return {"values": [], "startAt": start}
            try:
                page = response.json()
            except ValueError as exc:
                raise BadInputError(f"the changelog page of {key} is not JSON") from exc
            if not isinstance(page, Mapping):
                raise BadInputError(f"the changelog page of {key} is not a JSON object")
            return page

        # the route's order (oldest first) wins; embedded entries it did not give follow
        merged: dict[str, Mapping[str, Any]] = {}
        async for page in offset_pages(fetch, items_key="values", page_size=100):
            for history in page:
                if isinstance(history, Mapping) and history.get("id") is not None:
                    merged.setdefault(str(history["id"]), history)
        anonymous: list[Mapping[str, Any]] = []
        for history in embedded:
            if isinstance(history, Mapping):
                if history.get("id") is None:
                    anonymous.append(history)
                else:
                    merged.setdefault(str(history["id"]), history)
        if missing:
            raise PaginationLoopError(
                f"changelog of {key} has {total} entries but only {len(embedded)} came back,"
                f" and this site has no paged changelog route (HTTP {missing[0]})"
            )
        out = [*merged.values(), *anonymous]
        if len(out) < total:
            raise PaginationLoopError(
                f"changelog of {key} has {total} entries but only {len(out)} came back"
            )
        return out

    # -- users ----------------------------------------------------------------------------
    async def find_users(self, query: str) -> list[UserRef]:
        data = await self._json(
            "GET", f"{self.api}/user/search", params={"username": query, "maxResults": 100}
        )
        reader = await self._plain_reader()
        return [u for u in (reader.user(x) for x in data or ()) if u is not None]

    async def get_user(self, *, name: str | None = None, key: str | None = None) -> UserRef:
        if not (name or key):
            raise BadInputError("get_user needs a name or a key")
        data = await self._json(
            "GET", f"{self.api}/user", scope=Scope.ITEM, params={"username": name, "key": key}
        )
        user = (await self._plain_reader()).user(data)
        if user is None:
            raise BadInputError("Jira's user answer names no user")
        return user
