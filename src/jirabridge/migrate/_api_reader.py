"""Snapshot readers over the REST API: Jira Cloud (v3, ADF, ``nextPageToken``) and Jira
Server/Data Center (v2, wiki markup, pages that never hit the 10,000-result window).

Built on :mod:`jirabridge.jira`: a :class:`~jirabridge.jira.CloudClient` or
:class:`~jirabridge.jira.ServerClient` does the authentication, the rate governor, retries
with ``Retry-After``, error translation, paging with loop detection and the checks on an
answer's shape; this module only reads the fields a verification compares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from jirabridge.errors import BadInputError, FixConfigError, RequestInfo
from jirabridge.jira import (
    BearerAuth,
    CallStats,
    CloudClient,
    PlainCodec,
    RetryPolicy,
    ServerClient,
    basic_auth,
)
from jirabridge.jira._errors import request_info
from jirabridge.jira._paging import offset_pages
from jirabridge.jira._shape import Answer, expect_list, expect_object
from jirabridge.migrate._digest import (
    IssueDigest,
    ProjectDigest,
    adf_words,
    content_hash,
    fingerprint,
    wiki_words,
)
from jirabridge.migrate._model import CloudGroup

__all__ = ["ApiSnapshotReader"]

_FIELDS = ("summary", "description", "attachment", "project", "status", "issuetype", "comment")


class ApiSnapshotReader:
    """Read a live site. ``cloud=True``: REST v3 with ADF; else Server REST v2 with wiki."""

    def __init__(
        self,
        base_url: str,
        *,
        cloud: bool,
        email_or_user: str | None = None,
        token: str | None = None,
        bearer: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        page_size: int = 100,
        max_retry_wait: float = 30.0,
    ) -> None:
        auth: httpx.Auth | None = None
        if bearer:
            auth = BearerAuth(bearer)
        elif email_or_user and token:
            auth = basic_auth(email_or_user, token)
        cls = CloudClient if cloud else ServerClient
        self._client: CloudClient | ServerClient = cls(
            base_url,
            auth=auth,
            transport=transport,
            retry=RetryPolicy(max_attempts=4, base_delay=0.25, max_retry_after=max_retry_wait),
            timeout=60.0,
            codec=PlainCodec(),
        )
        self._base = self._client.http.base_url
        self._cloud = cloud
        self._api = "/rest/api/3" if cloud else "/rest/api/2"
        self._page = page_size
        self._project_keys: list[str] | None = None

    @property
    def label(self) -> str:
        return f"{'cloud' if self._cloud else 'server'} {self._base}"

    @property
    def stats(self) -> CallStats:
        """Every call made so far (the underlying client's counters)."""
        return self._client.stats

    async def __aenter__(self) -> ApiSnapshotReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _pages(
        self, path: str, items_key: str, params: Mapping[str, Any] | None = None, size: int = 50
    ) -> AsyncIterator[tuple[list[Any], RequestInfo | None]]:
        """Offset pages of ``path``, each with the request that fetched it."""
        last: list[RequestInfo | None] = [None]

        async def fetch(start: int, max_results: int) -> Mapping[str, Any]:
            query = {**(params or {}), "startAt": start, "maxResults": max_results}
            answer = await self._client.http.json_object("GET", path, params=query)
            last[0] = answer.request
            return answer.data

        async for page in offset_pages(fetch, items_key=items_key, page_size=size):
            yield page, last[0]

    async def _all_projects(self) -> list[ProjectDigest]:
        found: list[ProjectDigest] = []
        if self._cloud:
            async for page, request in self._pages(
                f"{self._api}/project/search", "values", {"orderBy": "key"}
            ):
                found += [_project(p, request) for p in page]
        else:
            response = await self._client.http.request("GET", f"{self._api}/project")
            request = request_info(response.request)
            try:
                data = response.json()
            except ValueError as exc:
                raise BadInputError("the project list is not JSON", request=request) from exc
            found = [_project(p, request) for p in expect_list(data, request, "project list")]
        found.sort(key=lambda p: p.key)
        self._project_keys = [p.key for p in found]
        return found

    async def cloud_groups(self) -> tuple[CloudGroup, ...]:
        """The Cloud site's groups, each with what it grants: ``SITE-ADMIN``, ``ADMIN``
        (product admin) or ``USER`` (product access), from ``/rest/api/3/group/bulk`` and its
        ``accessType`` filter."""
        if not self._cloud:
            raise FixConfigError("groups are read from the Cloud site only")
        grants: dict[str, set[str]] = {}
        for access in (None, "site-admin", "admin", "user"):
            params = {"accessType": access} if access else {}
            async for page, request in self._pages(f"{self._api}/group/bulk", "values", params):
                for raw in page:
                    name = Answer.of(raw, request, "group").text("name")
                    perms = grants.setdefault(name, set())
                    if access:
                        perms.add(access.upper())
        return tuple(
            CloudGroup(name, frozenset(perms), permissions_known=True)
            for name, perms in sorted(grants.items())
        )

    async def projects(self) -> AsyncIterator[ProjectDigest]:
        for project in await self._all_projects():
            yield project

    async def issues(self) -> AsyncIterator[IssueDigest]:
        keys = self._project_keys
        if keys is None:
            keys = [p.key for p in await self._all_projects()]
        for key in keys:
            jql = f'project = "{key}" ORDER BY key ASC'
            async for raw in self._client.search_raw(jql, fields=_FIELDS, page_size=self._page):
                yield await self._digest(Answer.of(raw, what="issue"))

    async def _digest(self, raw: Answer) -> IssueDigest:
        key = raw.text("key")
        f = expect_object(raw.get("fields") or {}, raw.request, "issue fields")
        description = f.get("description")
        if self._cloud:
            words = adf_words(description if isinstance(description, Mapping) else None)
        else:
            words = wiki_words(description if isinstance(description, str) else "")
        embedded = f.get("comment")
        listed = embedded.get("comments") if isinstance(embedded, Mapping) else None
        total = embedded.get("total") if isinstance(embedded, Mapping) else None
        if isinstance(listed, list) and isinstance(total, int) and total <= len(listed):
            # the search answer holds them all: no request per issue
            comments = tuple(sorted(self._fingerprint(_body(c)) for c in listed))
        else:
            comments = tuple(sorted([fp async for fp in self._comments(key)]))
        attachments = tuple(sorted(_attachment(a) for a in f.get("attachment") or ()))
        project = _name_of(f.get("project"), "key") or key.rsplit("-", 1)[0]
        return IssueDigest(
            key,
            project,
            content_hash(str(f.get("summary") or ""), words),
            comments,
            attachments,
            status=_name_of(f.get("status"), "name"),
            issuetype=_name_of(f.get("issuetype"), "name"),
        )

    def _fingerprint(self, body: Any) -> str:
        if self._cloud:
            return fingerprint(adf_words(body if isinstance(body, Mapping) else None))
        return fingerprint(wiki_words(body if isinstance(body, str) else ""))

    async def _comments(self, key: str) -> AsyncIterator[str]:
        path = f"{self._api}/issue/{key}/comment"
        async for page, _request in self._pages(path, "comments", size=100):
            for c in page:
                yield self._fingerprint(_body(c))


def _project(raw: Any, request: RequestInfo | None) -> ProjectDigest:
    p = Answer.of(raw, request, "project")
    return ProjectDigest(p.text("key"), str(p.get("name") or ""))


def _body(comment: Any) -> Any:
    return expect_object(comment, what="comment").get("body")


def _attachment(raw: Any) -> tuple[str, int]:
    a = Answer.of(raw, what="attachment")
    size = a.get("size", 0)
    return (str(a.get("filename") or ""), a.number("size") if size else 0)


def _name_of(value: Any, field: str) -> str:
    if value is None:
        return ""
    return str(expect_object(value, what=field).get(field) or "")
