"""The Jira Cloud client (REST v3 with ADF + agile 1.0)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from jirabridge.errors import BadInputError, JiraErrorBody
from jirabridge.jira._client import BaseClient
from jirabridge.jira._convert import parse_datetime
from jirabridge.jira._errors import Scope
from jirabridge.jira._http import BucketFn
from jirabridge.jira._model import Attachment, ChangelogEntry, JiraFlavour, UserRef
from jirabridge.jira._paging import offset_pages, token_pages
from jirabridge.jira._shape import Answer, expect_list

__all__ = ["BULK_CHANGELOG_FIELDS_MAX", "BULK_CHANGELOG_ISSUES_MAX", "CloudClient"]

BULK_CHANGELOG_ISSUES_MAX = 1000
BULK_CHANGELOG_FIELDS_MAX = 10

_REDIRECTS = (302, 303, 307)
_MEDIA_FILE = re.compile(
    r"/file/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/binary$"
)


class CloudClient(BaseClient):
    """Jira Cloud over REST v3. For OAuth 2.0 use the base URL
    ``https://api.atlassian.com/ex/jira/{cloudId}`` with :class:`OAuth2Auth`."""

    flavour = JiraFlavour.CLOUD
    api = "/rest/api/3"

    def _bucket_of(self) -> BucketFn:
        return lambda method, endpoint: f"{method} {endpoint}"  # burst limit per endpoint

    # -- search ---------------------------------------------------------------------------
    async def search_raw(
        self,
        jql: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        page_size: int = 100,
        reconcile_ids: Sequence[int] = (),
    ) -> AsyncIterator[dict[str, Any]]:
        """``POST /search/jql`` paged by ``nextPageToken`` (repeated token: loop error).

        ``reconcile_ids`` asks Jira to include these recently edited issues consistently.
        """

        async def fetch(token: str | None) -> Mapping[str, Any]:
            body: dict[str, Any] = {
                "jql": jql,
                "maxResults": page_size,
                "fields": list(fields or ["*all"]),
            }
            if expand:
                body["expand"] = ",".join(expand)
            if token:
                body["nextPageToken"] = token
            if reconcile_ids:
                body["reconcileIssues"] = list(reconcile_ids)
            data = await self._json(
                "POST", f"{self.api}/search/jql", json_body=body, idempotent=True
            )
            return data  # type: ignore[no-any-return]

        async for page in token_pages(fetch, items_key="issues"):
            for issue in page:
                yield issue

    async def _bulk_issues(
        self, refs: Sequence[str], fields: list[str], expand: list[str]
    ) -> list[Any]:
        """``POST /issue/bulkfetch``: up to 100 issues; unknown and hidden ones are left out,
        ones Jira could not read now are listed in ``issueErrors`` (both read again alone)."""
        body: dict[str, Any] = {"issueIdsOrKeys": list(refs), "fields": fields}
        if expand:
            body["expand"] = expand
        answer = await self.http.json_object(
            "POST", f"{self.api}/issue/bulkfetch", json_body=body, scope=Scope.ITEM, idempotent=True
        )
        return expect_list(answer.get("issues") or [], answer.request, "bulk fetch issues")

    async def approximate_count(self, jql: str) -> int:
        data = await self._json(
            "POST", f"{self.api}/search/approximate-count", json_body={"jql": jql}, idempotent=True
        )
        return int(data.get("count", 0))

    # -- changelog ------------------------------------------------------------------------
    async def changelog(self, key: str) -> list[ChangelogEntry]:
        reader = await self._plain_reader()
        path = f"{self.api}/issue/{key}/changelog"

        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            data = await self._json(
                "GET", path, scope=Scope.ITEM, params={"startAt": start, "maxResults": size}
            )
            return data  # type: ignore[no-any-return]

        out: list[ChangelogEntry] = []
        async for page in offset_pages(fetch, items_key="values", page_size=100):
            out.extend(reader.changelog_entry(h) for h in page)
        return sorted(out, key=lambda e: e.created)

    async def bulk_changelog(
        self,
        keys: Sequence[str],
        *,
        field_ids: Sequence[str] | None = None,
    ) -> dict[str, list[ChangelogEntry]]:
        """``POST /changelog/bulkfetch``: 1,000 issues and 10 field ids per request.

        Answers are keyed as asked (keys or ids); Jira answers by id, so keys are resolved
        to ids first with one search per 1,000 keys.
        """
        if not keys:
            return {}
        ids = await self._ids_of(keys)
        by_id = {issue_id: asked for asked, issue_id in ids.items()}
        fields = list(field_ids or ())
        send_fields = fields if len(fields) <= BULK_CHANGELOG_FIELDS_MAX else []
        reader = await self._plain_reader()
        out: dict[str, list[ChangelogEntry]] = {k: [] for k in keys}
        id_list = list(ids.values())
        for start in range(0, len(id_list), BULK_CHANGELOG_ISSUES_MAX):
            chunk = id_list[start : start + BULK_CHANGELOG_ISSUES_MAX]

            async def fetch(token: str | None, chunk: list[str] = chunk) -> Mapping[str, Any]:
                body: dict[str, Any] = {"issueIdsOrKeys": chunk, "maxResults": 1000}
                if send_fields:
                    body["fieldIds"] = send_fields
                if token:
                    body["nextPageToken"] = token
                data = await self._json(
                    "POST", f"{self.api}/changelog/bulkfetch", json_body=body, idempotent=True
                )
                return data  # type: ignore[no-any-return]

            async for page in token_pages(fetch, items_key="issueChangeLogs"):
                for log in page:
                    asked = by_id.get(str(log.get("issueId")))
                    if asked is None:
                        continue
                    for history in log.get("changeHistories") or ():
                        entry = reader.changelog_entry(history)
                        if fields and not any(
                            (i.field_id or i.field) in fields for i in entry.items
                        ):
                            continue
                        out[asked].append(entry)
        for entries in out.values():
            entries.sort(key=lambda e: e.created)
        return out

    async def _ids_of(self, keys: Sequence[str]) -> dict[str, str]:
        """Map each asked key or id to the issue id."""
        ids = {k: k for k in keys if k.isdigit()}
        todo = [k for k in keys if not k.isdigit()]
        for start in range(0, len(todo), BULK_CHANGELOG_ISSUES_MAX):
            chunk = todo[start : start + BULK_CHANGELOG_ISSUES_MAX]
            jql = "key in (" + ", ".join(chunk) + ")"
            found = {}
            async for issue in self.search_raw(jql, fields=["key"], page_size=1000):
                answer = Answer.of(issue, what="issue")
                found[answer.text("key")] = answer.text("id")
            for key in chunk:
                if key in found:
                    ids[key] = found[key]
        return ids

    # -- attachments ----------------------------------------------------------------------
    async def media_id(self, attachment: Attachment | str) -> str | None:
        """The Media Services file id (a UUID) of an attachment: what ADF ``media`` nodes
        carry to show it. Attachment metadata does not say it; ``/attachment/content/{id}``
        answers 303 to ``.../file/<media id>/binary``, which is read here without being
        followed (one call, no body). None when Jira answers without such a redirect."""
        attachment_id = attachment.id if isinstance(attachment, Attachment) else attachment
        if not attachment_id or not attachment_id.isascii() or not attachment_id.isdigit():
            raise BadInputError(f"not an attachment id: {attachment_id!r}")
        response = await self.http.request(
            "GET",
            f"{self.api}/attachment/content/{attachment_id}",
            scope=Scope.ITEM,
            ok_statuses=_REDIRECTS,
            max_bytes=self.max_attachment_bytes,
        )
        if response.status_code not in _REDIRECTS:
            return None
        found = _MEDIA_FILE.search(httpx.URL(response.headers.get("location", "")).path)
        return None if found is None else str(uuid.UUID(found[1]))

    # -- app webhooks (OAuth 2.0 / Connect apps; they expire after 30 days) -----------------
    async def register_webhooks(
        self, url: str, hooks: Sequence[tuple[Sequence[str], str]]
    ) -> list[int | JiraErrorBody]:
        """``POST /webhook``: one ``(events, jqlFilter)`` per hook; answers, in order, each
        hook's id or Jira's error for it."""
        body = {
            "url": url,
            "webhooks": [{"events": list(ev), "jqlFilter": jql} for ev, jql in hooks],
        }
        answer = await self.http.json_object("POST", f"{self.api}/webhook", json_body=body)
        results = expect_list(
            answer.get("webhookRegistrationResult"), answer.request, "webhook registration"
        )
        out: list[int | JiraErrorBody] = []
        for raw in results:
            item = Answer.of(raw, answer.request, "webhook registration")
            if "createdWebhookId" in item.data:
                out.append(item.number("createdWebhookId"))
            else:
                out.append(JiraErrorBody(400, [str(e) for e in item.get("errors") or ()]))
        return out

    async def webhooks(self) -> list[dict[str, Any]]:
        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            data = await self._json(
                "GET", f"{self.api}/webhook", params={"startAt": start, "maxResults": size}
            )
            return data  # type: ignore[no-any-return]

        out: list[dict[str, Any]] = []
        async for page in offset_pages(fetch, items_key="values", page_size=100):
            out.extend(page)
        return out

    async def refresh_webhooks(self, ids: Sequence[int]) -> datetime | None:
        """Extend the webhooks' life (``PUT /webhook/refresh``); answers the new expiry."""
        data = await self._json(
            "PUT", f"{self.api}/webhook/refresh", json_body={"webhookIds": list(ids)}
        )
        value = (data or {}).get("expirationDate")
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        return parse_datetime(value)

    async def delete_webhooks(self, ids: Sequence[int]) -> None:
        await self.http.request(
            "DELETE", f"{self.api}/webhook", json_body={"webhookIds": list(ids)}
        )

    # -- users ----------------------------------------------------------------------------
    async def find_users(self, query: str) -> list[UserRef]:
        data = await self._json(
            "GET", f"{self.api}/user/search", params={"query": query, "maxResults": 100}
        )
        reader = await self._plain_reader()
        return [u for u in (reader.user(x) for x in data or ()) if u is not None]

    async def get_user(self, *, account_id: str) -> UserRef:
        if not account_id:
            raise BadInputError("get_user needs an accountId")
        data = await self._json(
            "GET", f"{self.api}/user", scope=Scope.ITEM, params={"accountId": account_id}
        )
        user = (await self._plain_reader()).user(data)
        if user is None:
            raise BadInputError("Jira's user answer names no user")
        return user
