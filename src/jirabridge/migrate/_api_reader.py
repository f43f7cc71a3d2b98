"""Snapshot readers over the REST API: Jira Cloud (v3, ADF, ``nextPageToken``) and Jira
Server/Data Center (v2, wiki markup, key-ordered pages that never hit the 10,000 window).

Thin on purpose: httpx with an injectable transport (tests run the emulator in-process),
HTTP errors translated once into jirabridge's error tree, a short retry on 429/503 that
honours ``Retry-After``, and page-token loop detection.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from jirabridge.errors import (
    BadInputError,
    FixConfigError,
    ReauthenticateError,
    RequestInfo,
    RetryLaterError,
)
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

_RETRIES = 3


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
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        elif email_or_user and token:
            raw = f"{email_or_user}:{token}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        self._base = base_url.rstrip("/")
        self._cloud = cloud
        self._headers = headers
        self._transport = transport
        self._page = page_size
        self._max_wait = max_retry_wait
        self._client: httpx.AsyncClient | None = None
        self._project_keys: list[str] | None = None

    @property
    def label(self) -> str:
        return f"{'cloud' if self._cloud else 'server'} {self._base}"

    async def __aenter__(self) -> ApiSnapshotReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._base,
                headers=self._headers,
                transport=self._transport,
                timeout=httpx.Timeout(60.0),
            )
        return self._client

    async def _get(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        info = RequestInfo(method, self._base + path)
        for attempt in range(_RETRIES + 1):
            try:
                resp = await self._http().request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                if attempt < _RETRIES:
                    await asyncio.sleep(min(2**attempt, self._max_wait))
                    continue
                raise RetryLaterError(f"cannot reach the site ({exc})", request=info) from exc
            if resp.status_code in (429, 503) and attempt < _RETRIES:
                wait = _retry_after(resp)
                if wait is not None and wait <= self._max_wait:
                    await asyncio.sleep(wait)
                    continue
            return _answer(resp, info)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _all_projects(self) -> list[ProjectDigest]:
        found: list[ProjectDigest] = []
        if self._cloud:
            start = 0
            while True:
                page = await self._get(
                    "GET",
                    "/rest/api/3/project/search",
                    params={"startAt": start, "maxResults": 50, "orderBy": "key"},
                )
                values = page.get("values", [])
                found += [ProjectDigest(p["key"], p.get("name", "")) for p in values]
                if page.get("isLast", True) or not values:
                    break
                start += len(values)
        else:
            page = await self._get("GET", "/rest/api/2/project")
            found = [ProjectDigest(p["key"], p.get("name", "")) for p in page]
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
            start = 0
            while True:
                params: dict[str, Any] = {"startAt": start, "maxResults": 50}
                if access:
                    params["accessType"] = access
                page = await self._get("GET", "/rest/api/3/group/bulk", params=params)
                values = page.get("values", [])
                for g in values:
                    perms = grants.setdefault(g["name"], set())
                    if access:
                        perms.add(access.upper())
                if page.get("isLast", True) or not values:
                    break
                start += len(values)
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
            async for raw in self._project_issues(key):
                yield await self._digest(raw)

    async def _project_issues(self, project: str) -> AsyncIterator[dict[str, Any]]:
        fields = [
            "summary", "description", "attachment", "project", "status", "issuetype", "comment",
        ]  # fmt: skip
        if self._cloud:
            token: str | None = None
            seen: set[str] = set()
            while True:
                body: dict[str, Any] = {
                    "jql": f'project = "{project}" ORDER BY key ASC',
                    "fields": fields,
                    "maxResults": self._page,
                }
                if token:
                    body["nextPageToken"] = token
                page = await self._get("POST", "/rest/api/3/search/jql", json=body)
                for issue in page.get("issues", []):
                    yield issue
                token = page.get("nextPageToken")
                if not token or page.get("isLast"):
                    return
                if token in seen:
                    raise BadInputError(f"the site repeated page token {token[:16]}...: a loop")
                seen.add(token)
        else:
            last: str | None = None
            while True:  # key-ordered pages: never past the 10,000-result window
                jql = f'project = "{project}"'
                if last:
                    jql += f" AND issuekey > {last}"
                page = await self._get(
                    "GET",
                    "/rest/api/2/search",
                    params={
                        "jql": jql + " ORDER BY key ASC",
                        "fields": ",".join(fields),
                        "maxResults": self._page,
                        "startAt": 0,
                    },
                )
                issues = page.get("issues", [])
                for issue in issues:
                    yield issue
                if len(issues) < self._page or not issues:
                    return
                if issues[-1]["key"] == last:
                    raise BadInputError("the site returned the same page twice: a loop")
                last = issues[-1]["key"]

    async def _digest(self, raw: Mapping[str, Any]) -> IssueDigest:
        f = raw.get("fields") or {}
        description = f.get("description")
        if self._cloud:
            words = adf_words(description if isinstance(description, Mapping) else None)
        else:
            words = wiki_words(description or "")
        key = raw["key"]
        embedded = f.get("comment")
        if (
            isinstance(embedded, Mapping)
            and isinstance(embedded.get("comments"), list)
            and int(embedded.get("total", 1 << 30)) <= len(embedded["comments"])
        ):  # the search answer holds them all: no request per issue
            comments = tuple(sorted(self._fingerprint(c.get("body")) for c in embedded["comments"]))
        else:
            comments = tuple(sorted([fp async for fp in self._comments(key)]))
        attachments = tuple(
            sorted(
                (a.get("filename", ""), int(a.get("size", 0))) for a in f.get("attachment") or []
            )
        )
        project = (f.get("project") or {}).get("key") or key.rsplit("-", 1)[0]
        return IssueDigest(
            key,
            project,
            content_hash(f.get("summary") or "", words),
            comments,
            attachments,
            status=(f.get("status") or {}).get("name", ""),
            issuetype=(f.get("issuetype") or {}).get("name", ""),
        )

    def _fingerprint(self, body: Any) -> str:
        if self._cloud:
            return fingerprint(adf_words(body if isinstance(body, Mapping) else None))
        return fingerprint(wiki_words(body if isinstance(body, str) else ""))

    async def _comments(self, key: str) -> AsyncIterator[str]:
        version = "3" if self._cloud else "2"
        start = 0
        while True:
            page = await self._get(
                "GET",
                f"/rest/api/{version}/issue/{key}/comment",
                params={"startAt": start, "maxResults": 100},
            )
            comments = page.get("comments", [])
            for c in comments:
                yield self._fingerprint(c.get("body"))
            start += len(comments)
            if not comments or start >= int(page.get("total", 0)):
                return


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _answer(resp: httpx.Response, info: RequestInfo) -> Any:
    status = resp.status_code
    if status == 401:
        raise ReauthenticateError("the site refused the credentials (401)", request=info)
    if status == 403:
        raise ReauthenticateError("the credentials lack permission (403)", request=info)
    if status in (429, 502, 503, 504) or status >= 500:
        raise RetryLaterError(
            f"the site answered {status}; try again later",
            retry_after=_retry_after(resp),
            request=info,
        )
    if status == 404:
        raise FixConfigError("not found (404): check the site URL and project keys", request=info)
    if status >= 400:
        raise FixConfigError(
            f"the site refused the request ({status}): {resp.text[:200]}", request=info
        )
    try:
        return resp.json()
    except ValueError as exc:
        raise BadInputError(f"the site answered {status} with no JSON", request=info) from exc
