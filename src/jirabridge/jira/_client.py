"""What both clients share: the calls whose shape is the same on Server and Cloud."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import IO, Any, Self

import httpx

from jirabridge.errors import (
    BadInputError,
    FixConfigError,
    JirabridgeError,
    JiraErrorBody,
    SkipItemError,
)
from jirabridge.jira._coalesce import ReadBatcher
from jirabridge.jira._convert import IssueReader, IssueWriter
from jirabridge.jira._errors import Scope, request_info
from jirabridge.jira._governor import RateGovernor
from jirabridge.jira._http import (
    DEFAULT_MAX_ANSWER_BYTES,
    AmbiguousWriteError,
    BucketFn,
    JiraHttp,
    RetryPolicy,
)
from jirabridge.jira._metrics import CallStats
from jirabridge.jira._model import (
    Attachment,
    Board,
    BulkCreateResult,
    ChangelogEntry,
    Comment,
    FieldInfo,
    Issue,
    IssueInput,
    JiraFlavour,
    RemoteLink,
    ServerInfo,
    Sprint,
    Transition,
    UserRef,
)
from jirabridge.jira._paging import offset_pages
from jirabridge.jira._richtext import RichTextCodec, default_codec
from jirabridge.jira._shape import Answer, expect_list, expect_object
from jirabridge.jira._users import UserResolver

__all__ = [
    "AGILE",
    "BULK_CREATE_MAX",
    "BULK_READ_MAX",
    "SPRINT_MOVE_MAX",
    "BaseClient",
    "CreateCheck",
]

AGILE = "/rest/agile/1.0"
WEBHOOKS = "/rest/webhooks/1.0/webhook"
DEFAULT_MAX_ATTACHMENT_BYTES = 2 * 1024**3
"""A download stops past this (Cloud's own upload limit is 2 GB); a client option."""
BULK_CREATE_MAX = 50
SPRINT_MOVE_MAX = 50
BULK_READ_MAX = 100
"""Issues per bulk read (Cloud's ``/issue/bulkfetch`` limit; Server searches as many)."""
READS_IN_FLIGHT = 1
"""Reads of one kind sent at once before further ones queue up for a bulk read."""
BULK_EXPANDS = frozenset({"changelog", "renderedFields"})
"""Expansions a bulk answer carries per issue like GET issue does."""
_BULK_REF = re.compile(r"[0-9]{1,18}|[A-Za-z][A-Za-z0-9_]{0,254}-[0-9]{1,18}")
"""Refs safe to put in a bulk read as they are (an id or a plain issue key)."""
_LaneKey = tuple[tuple[str, ...], tuple[str, ...]]

CreateCheck = Callable[[], Awaitable[str | None]]
"""Called after a create failed ambiguously: the key of the issue if it was created, or None."""

Adf = dict[str, Any]


class BaseClient:
    """Shared implementation; use :class:`ServerClient` or :class:`CloudClient`."""

    flavour: JiraFlavour
    api: str  # "/rest/api/2" or "/rest/api/3"

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None,
        transport: httpx.AsyncBaseTransport | None = None,
        governor: RateGovernor | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        codec: RichTextCodec | None = None,
        users: UserResolver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        coalesce_reads: bool = True,
    ) -> None:
        if max_attachment_bytes < 1:
            raise FixConfigError("max_attachment_bytes must be at least 1")
        self.max_attachment_bytes = max_attachment_bytes
        self.codec = codec or default_codec()
        self.users = users
        self.http = JiraHttp(
            base_url,
            auth=auth,
            transport=transport,
            governor=governor,
            stats=CallStats(),
            retry=retry,
            timeout=timeout,
            bucket_of=self._bucket_of(),
            sleep=sleep,
            rng=rng,
            max_answer_bytes=max_answer_bytes,
        )
        self._fields: dict[str, FieldInfo] | None = None
        self._fields_lock = asyncio.Lock()
        self._subtask_types: frozenset[str] | None = None
        self.coalesce_reads = coalesce_reads
        self._read_lanes: dict[_LaneKey, ReadBatcher[dict[str, Any]]] = {}
        self._lanes_loop: asyncio.AbstractEventLoop | None = None

    def _bucket_of(self) -> BucketFn:
        return lambda method, endpoint: ""

    # -- plumbing -------------------------------------------------------------------------
    @property
    def stats(self) -> CallStats:
        """Counters of every call this client made."""
        return self.http.stats

    @property
    def governor(self) -> RateGovernor:
        return self.http.governor

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self.http.json(method, path, **kwargs)

    async def reader(self) -> IssueReader:
        return IssueReader(self.flavour, self.codec, fields=await self.fields(), users=self.users)

    async def writer(self) -> IssueWriter:
        return IssueWriter(
            self.flavour,
            self.codec,
            fields=await self.fields(),
            users=self.users,
            subtask_types=await self.subtask_types(),
        )

    async def subtask_types(self) -> frozenset[str]:
        """Names of the sub-task issue types (``GET /issuetype``), cached per client.

        Only Server needs them (to tell an epic's child from a sub-task when writing).
        """
        if self.flavour is not JiraFlavour.SERVER:
            return frozenset()
        if self._subtask_types is None:
            data = await self._json("GET", f"{self.api}/issuetype")
            items = expect_list(data, what="issue type list")
            types = [Answer.of(t, what="issue type") for t in items]
            self._subtask_types = frozenset(t.text("name") for t in types if t.get("subtask"))
        return self._subtask_types

    # -- site -----------------------------------------------------------------------------
    async def server_info(self) -> ServerInfo:
        data = (await self.http.json_object("GET", f"{self.api}/serverInfo")).data
        numbers = expect_list(data.get("versionNumbers"), what="versionNumbers")
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in numbers):
            raise BadInputError(f"Jira's versionNumbers are not numbers: {numbers!r:.80}")
        return ServerInfo(
            base_url=str(data.get("baseUrl", "")),
            version=str(data.get("version", "")),
            deployment_type=str(data.get("deploymentType", "")),
            version_numbers=tuple(numbers),
            server_title=data.get("serverTitle"),
        )

    async def myself(self) -> UserRef:
        data = await self._json("GET", f"{self.api}/myself")
        user = (await self._plain_reader()).user(data)
        if user is None:
            raise BadInputError("Jira's /myself answer names no user")
        return user

    async def my_permissions(self, project_key: str, keys: Sequence[str]) -> dict[str, bool]:
        """Which of the permissions ``keys`` the logged-in user holds in ``project_key``
        (``GET /mypermissions``; Cloud requires the ``permissions`` list, Server 8+ takes it).
        Every asked key is in the result; an answer that leaves one out is refused."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        params = {"projectKey": project_key, "permissions": ",".join(wanted)}
        answer = await self.http.json_object("GET", f"{self.api}/mypermissions", params=params)
        held = expect_object(answer.get("permissions"), what="mypermissions permissions")
        out: dict[str, bool] = {}
        for key in wanted:
            entry = held.get(key)
            have = entry.get("havePermission") if isinstance(entry, Mapping) else None
            if not isinstance(have, bool):
                raise BadInputError(f"Jira's mypermissions answer says nothing of {key}")
            out[key] = have
        return out

    async def _plain_reader(self) -> IssueReader:
        return IssueReader(self.flavour, self.codec, fields=self._fields or {}, users=self.users)

    async def fields(self, *, refresh: bool = False) -> dict[str, FieldInfo]:
        """Every field with its schema (``GET /field``), cached per client."""
        async with self._fields_lock:
            if self._fields is None or refresh:
                data = await self._json("GET", f"{self.api}/field")
                out: dict[str, FieldInfo] = {}
                for raw in expect_list(data, what="field list"):
                    item = Answer.of(raw, what="field")
                    schema = expect_object(item.get("schema") or {}, what="field schema")
                    out[item.text("id")] = FieldInfo(
                        id=item.text("id"),
                        name=str(item.get("name", "")),
                        custom=bool(item.get("custom", False)),
                        schema_type=schema.get("type"),
                        items=schema.get("items"),
                        custom_key=schema.get("custom"),
                    )
                self._fields = out
            return self._fields

    async def create_meta(self, project_key: str, issue_type_id: str) -> list[dict[str, Any]]:
        """Fields of the create screen (``/issue/createmeta/{project}/issuetypes/{id}``)."""
        path = f"{self.api}/issue/createmeta/{project_key}/issuetypes/{issue_type_id}"

        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            data = await self._json("GET", path, params={"startAt": start, "maxResults": size})
            if isinstance(data, Mapping) and "values" not in data and "fields" in data:
                return {"values": data["fields"], "isLast": True}
            return data  # type: ignore[no-any-return]

        out: list[dict[str, Any]] = []
        async for page in offset_pages(fetch, items_key="values", page_size=50):
            out.extend(page)
        return out

    async def edit_meta(self, key: str) -> dict[str, Any]:
        data = await self._json("GET", f"{self.api}/issue/{key}/editmeta", scope=Scope.ITEM)
        return dict((data or {}).get("fields") or {})

    # -- issues ---------------------------------------------------------------------------
    async def get_issue_raw(
        self,
        key: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """One issue as Jira's JSON (``GET /issue/{key}``). With ``coalesce_reads`` on,
        reads of the same kind made while another is in flight are sent together as one
        bulk read (see :meth:`get_issues_raw`); the answer and the errors are the same."""
        lane = self._lane(fields, expand)
        if lane is None:
            return await self._get_issue_single(key, fields, expand)
        return dict(await lane.get(key))

    async def _get_issue_single(
        self, key: str, fields: Sequence[str] | None, expand: Sequence[str] | None
    ) -> dict[str, Any]:
        data = await self._json(
            "GET",
            f"{self.api}/issue/{key}",
            params={"fields": list(fields or ["*all"]), "expand": list(expand) if expand else None},
            scope=Scope.ITEM,
        )
        return dict(data)

    def _lane(
        self, fields: Sequence[str] | None, expand: Sequence[str] | None
    ) -> ReadBatcher[dict[str, Any]] | None:
        """The coalescing lane of this kind of read, or None when it is read alone: the
        option is off, or ``expand`` asks for something a bulk answer does not carry per
        issue (names, schema, transitions...)."""
        if not self.coalesce_reads or not set(expand or ()) <= BULK_EXPANDS:
            return None
        loop = asyncio.get_running_loop()
        if loop is not self._lanes_loop:
            # lanes hold futures and tasks of one event loop: a client used again under
            # another loop starts afresh rather than waiting on a dead loop's reads
            self._read_lanes = {}
            self._lanes_loop = loop
        key: _LaneKey = (tuple(fields or ()), tuple(expand or ()))
        lane = self._read_lanes.get(key)
        if lane is None:

            async def one(ref: str) -> dict[str, Any]:
                return await self._get_issue_single(ref, fields, expand)

            async def many(refs: Sequence[str]) -> dict[str, dict[str, Any]]:
                return await self._bulk_read(refs, fields, expand)

            lane = ReadBatcher(one, many, max_batch=BULK_READ_MAX, max_in_flight=READS_IN_FLIGHT)
            self._read_lanes[key] = lane
        return lane

    async def get_issues_raw(
        self,
        keys: Sequence[str],
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> dict[str, dict[str, Any] | None]:
        """Several issues by key or id, 100 per request (Cloud ``POST /issue/bulkfetch``,
        Server ``POST /search`` on ``key in (...)``). Every asked key is in the answer: its
        issue as ``GET /issue`` gives it, or None when that GET says the issue is not there
        (a :class:`SkipItemError`). Issues the bulk answer leaves out or gives only in part
        (a moved key, a cut changelog) are read again one by one."""
        wanted = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any] | None] = {}
        for start in range(0, len(wanted), BULK_READ_MAX):
            chunk = wanted[start : start + BULK_READ_MAX]
            found: dict[str, dict[str, Any]] = {}
            # a bulk read refused or garbled as a whole: each is read alone below
            with contextlib.suppress(SkipItemError, BadInputError):
                if len(chunk) > 1:
                    found = await self._bulk_read(chunk, fields, expand)
            for ref in chunk:
                raw = found.get(ref)
                if raw is None:
                    try:
                        raw = await self._get_issue_single(ref, fields, expand)
                    except SkipItemError:
                        raw = None
                out[ref] = raw
        return out

    async def _bulk_read(
        self, refs: Sequence[str], fields: Sequence[str] | None, expand: Sequence[str] | None
    ) -> dict[str, dict[str, Any]]:
        """The issues one bulk request gives for ``refs``, keyed by the asked ref; refs it
        cannot answer exactly as a single GET would are left out."""
        asked = [r for r in refs if _BULK_REF.fullmatch(r)]
        if not asked:
            return {}
        issues = await self._bulk_issues(asked, list(fields or ["*all"]), list(expand or ()))
        by_ref: dict[str, dict[str, Any]] = {}
        for raw in issues:
            if not isinstance(raw, dict) or _cut_short(raw, expand):
                continue
            for name in ("id", "key"):
                value = raw.get(name)
                if isinstance(value, str | int) and not isinstance(value, bool):
                    by_ref.setdefault(str(value), raw)
        # an answer under another key (a moved issue, other letter case) is left out: the
        # single GET says what Jira says for the asked ref
        return {ref: by_ref[ref] for ref in asked if ref in by_ref}

    async def _bulk_issues(
        self, refs: Sequence[str], fields: list[str], expand: list[str]
    ) -> list[Any]:
        """The raw issues of one bulk read (flavour specific)."""
        raise NotImplementedError

    async def get_issue(
        self,
        key: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> Issue:
        """One issue as a canonical :class:`Issue`. A missing issue is a SkipItemError."""
        raw = await self.get_issue_raw(key, fields=fields, expand=expand)
        issue = (await self.reader()).issue(raw)
        block = (raw.get("fields") or {}).get("comment")
        if isinstance(block, Mapping):
            total = block.get("total")
            if isinstance(total, int) and total > len(issue.comments):
                # the issue carries only the first page of its comments: fetch them all
                comments = tuple([c async for c in self.comments(key)])
                issue = dataclasses.replace(issue, comments=comments, comments_total=len(comments))
        return issue

    def search_raw(
        self,
        jql: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    async def search(
        self,
        jql: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Issue]:
        """Every issue matching ``jql``, as canonical issues, page by page."""
        reader = await self.reader()
        async for raw in self.search_raw(jql, fields=fields, expand=expand, page_size=page_size):
            yield reader.issue(raw)

    async def create_issue(self, data: IssueInput, *, check: CreateCheck | None = None) -> str:
        """Create one issue, answer its key.

        A create is never repeated blindly: when it fails after it may have reached Jira
        (timeout, 5xx), ``check`` is asked whether the issue exists; only if it answers None is
        the create sent again. Without ``check`` the :class:`AmbiguousWriteError` goes up.
        """
        body = _create_body(await self.writer(), data)
        for _ in range(self.http.retry.max_attempts):
            try:
                answer = await self.http.json_object(
                    "POST", f"{self.api}/issue", json_body=body, scope=Scope.ITEM
                )
                return answer.text("key")
            except AmbiguousWriteError:
                if check is None:
                    raise
                existing = await check()
                if existing is not None:
                    return existing
        raise AmbiguousWriteError("create kept failing ambiguously; checked each time, gave up")

    async def bulk_create(self, items: Sequence[IssueInput]) -> list[BulkCreateResult]:
        """Create in batches of 50; every input gets a result at its own index.

        A batch that fails as a whole is not resent (it may have partly succeeded): each of
        its inputs gets the error, so the caller can check and retry them one by one.
        """
        writer = await self.writer()
        results: list[BulkCreateResult] = []
        for start in range(0, len(items), BULK_CREATE_MAX):
            batch = items[start : start + BULK_CREATE_MAX]
            body = {"issueUpdates": [_create_body(writer, item) for item in batch]}
            try:
                answer = await self.http.request(
                    "POST",
                    f"{self.api}/issue/bulk",
                    json_body=body,
                    scope=Scope.ITEM,
                    ok_statuses=(400,),
                )
            except JirabridgeError as exc:
                results.extend(
                    BulkCreateResult(index=start + i, error=exc) for i in range(len(batch))
                )
                continue
            results.extend(_match_bulk(answer, start, len(batch)))
        return results

    async def edit_issue(
        self,
        key: str,
        data: IssueInput | None = None,
        *,
        update: Mapping[str, Any] | None = None,
        notify: bool = True,
    ) -> None:
        body: dict[str, Any] = {}
        if data is not None:
            body["fields"] = (await self.writer()).fields_of(data)
        if update:
            body["update"] = dict(update)
        if not body:
            raise BadInputError("an edit needs fields or update operations")
        await self.http.request(
            "PUT",
            f"{self.api}/issue/{key}",
            json_body=body,
            scope=Scope.ITEM,
            params=None if notify else {"notifyUsers": False},
        )

    async def delete_issue(self, key: str, *, delete_subtasks: bool = False) -> None:
        await self.http.request(
            "DELETE",
            f"{self.api}/issue/{key}",
            scope=Scope.ITEM,
            params={"deleteSubtasks": delete_subtasks},
        )

    async def transitions(self, key: str) -> list[Transition]:
        data = await self._json(
            "GET",
            f"{self.api}/issue/{key}/transitions",
            params={"expand": "transitions.fields"},
            scope=Scope.ITEM,
        )
        reader = await self._plain_reader()
        return [reader.transition(t) for t in data.get("transitions") or ()]

    async def transition(
        self,
        key: str,
        transition_id: str,
        *,
        fields: IssueInput | None = None,
        comment: Adf | None = None,
    ) -> None:
        body: dict[str, Any] = {"transition": {"id": transition_id}}
        writer = await self.writer()
        if fields is not None:
            body["fields"] = writer.fields_of(fields)
        if comment is not None:
            body["update"] = {"comment": [{"add": {"body": writer.rich(comment)}}]}
        # Repeating a transition that already happened fails with 400, never doubles it.
        await self.http.request(
            "POST",
            f"{self.api}/issue/{key}/transitions",
            json_body=body,
            scope=Scope.ITEM,
            idempotent=True,
        )

    async def assign(self, key: str, user: UserRef | None) -> None:
        """Assign ``key`` to ``user``; ``None`` unassigns (through an edit of ``assignee``,
        the one spelling both flavours and Cloud's published schema accept)."""
        if user is None:
            await self.http.request(
                "PUT",
                f"{self.api}/issue/{key}",
                json_body={"fields": {"assignee": None}},
                scope=Scope.ITEM,
            )
            return
        body = (await self.writer()).user(user)
        await self.http.request(
            "PUT", f"{self.api}/issue/{key}/assignee", json_body=body, scope=Scope.ITEM
        )

    # -- comments -------------------------------------------------------------------------
    async def comments(
        self, key: str, *, page_size: int = 100, properties: bool = False
    ) -> AsyncIterator[Comment]:
        """Every comment of ``key``, oldest first; ``properties`` reads each comment's entity
        properties in the same pages (``expand=properties``) into ``Comment.properties``."""
        reader = await self._plain_reader()
        path = f"{self.api}/issue/{key}/comment"
        extra = {"expand": "properties"} if properties else {}

        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            data = await self._json(
                "GET",
                path,
                scope=Scope.ITEM,
                params={"startAt": start, "maxResults": size, "orderBy": "created", **extra},
            )
            return data  # type: ignore[no-any-return]

        async for page in offset_pages(fetch, items_key="comments", page_size=page_size):
            for item in page:
                yield reader.comment(item)

    async def add_comment(
        self,
        key: str,
        body: Adf,
        *,
        visibility: tuple[str, str] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Comment:
        """Add a comment, with entity ``properties`` set in the same POST (both flavours).

        Not resent after an ambiguous failure (it would double): the
        :class:`AmbiguousWriteError` goes up, and a marker property lets the caller find the
        comment again. The returned comment carries the ``properties`` sent.
        """
        writer = await self.writer()
        payload: dict[str, Any] = {"body": writer.rich(body)}
        if visibility is not None:
            payload["visibility"] = {"type": visibility[0], "value": visibility[1]}
        if properties:
            payload["properties"] = [{"key": k, "value": v} for k, v in properties.items()]
        data = await self._json(
            "POST",
            f"{self.api}/issue/{key}/comment",
            json_body=payload,
            scope=Scope.ITEM,
        )
        comment = (await self._plain_reader()).comment(data)
        if properties:
            comment = dataclasses.replace(comment, properties=dict(properties))
        return comment

    async def update_comment(self, key: str, comment_id: str, body: Adf) -> Comment:
        writer = await self.writer()
        data = await self._json(
            "PUT",
            f"{self.api}/issue/{key}/comment/{comment_id}",
            json_body={"body": writer.rich(body)},
            scope=Scope.ITEM,
        )
        return (await self._plain_reader()).comment(data)

    async def delete_comment(self, key: str, comment_id: str) -> None:
        await self.http.request(
            "DELETE", f"{self.api}/issue/{key}/comment/{comment_id}", scope=Scope.ITEM
        )

    # -- changelog ------------------------------------------------------------------------
    async def changelog(self, key: str) -> list[ChangelogEntry]:
        raise NotImplementedError

    async def bulk_changelog(
        self,
        keys: Sequence[str],
        *,
        field_ids: Sequence[str] | None = None,
    ) -> dict[str, list[ChangelogEntry]]:
        """Changelogs of many issues, keyed as asked. Default: one call per issue."""
        out: dict[str, list[ChangelogEntry]] = {}
        for key in keys:
            entries = await self.changelog(key)
            if field_ids:
                wanted = set(field_ids)
                entries = [
                    e for e in entries if any((i.field_id or i.field) in wanted for i in e.items)
                ]
            out[key] = entries
        return out

    # -- links ----------------------------------------------------------------------------
    async def create_link(self, type_name: str, outward_key: str, inward_key: str) -> None:
        """Link ``outward_key`` -(type's outward wording)-> ``inward_key``.

        Note Jira's naming: ``outwardIssue`` in the request is the issue the link points to.
        """
        body = {
            "type": {"name": type_name},
            "inwardIssue": {"key": outward_key},
            "outwardIssue": {"key": inward_key},
        }
        await self.http.request("POST", f"{self.api}/issueLink", json_body=body, scope=Scope.ITEM)

    async def delete_link(self, link_id: str) -> None:
        await self.http.request("DELETE", f"{self.api}/issueLink/{link_id}", scope=Scope.ITEM)

    async def link_types(self) -> list[dict[str, Any]]:
        data = await self._json("GET", f"{self.api}/issueLinkType")
        return list(data.get("issueLinkTypes") or ())

    async def remote_links(self, key: str) -> list[RemoteLink]:
        data = await self._json("GET", f"{self.api}/issue/{key}/remotelink", scope=Scope.ITEM)
        reader = await self._plain_reader()
        return [reader.remote_link(x) for x in data or ()]

    async def put_remote_link(self, key: str, link: RemoteLink) -> int:
        """Create, or update when ``global_id`` is already there (so safe to repeat)."""
        body: dict[str, Any] = {"object": {"url": link.url, "title": link.title}}
        if link.global_id:
            body["globalId"] = link.global_id
        if link.relationship:
            body["relationship"] = link.relationship
        answer = await self.http.json_object(
            "POST",
            f"{self.api}/issue/{key}/remotelink",
            json_body=body,
            scope=Scope.ITEM,
            idempotent=bool(link.global_id),
        )
        return answer.number("id")

    async def delete_remote_link(self, key: str, link_id: int) -> None:
        await self.http.request(
            "DELETE", f"{self.api}/issue/{key}/remotelink/{link_id}", scope=Scope.ITEM
        )

    # -- entity properties ----------------------------------------------------------------
    async def get_property(self, key: str, name: str) -> Any:
        """The value of issue property ``name``, or None when it is not set."""
        return await self._property_value(f"{self.api}/issue/{key}/properties/{name}")

    async def get_comment_property(self, comment_id: str, name: str) -> Any:
        """The value of comment property ``name``, or None when it (or the comment) is not
        there (``GET /comment/{id}/properties/{name}``)."""
        return await self._property_value(f"{self.api}/comment/{comment_id}/properties/{name}")

    async def set_comment_property(self, comment_id: str, name: str, value: Any) -> None:
        """Set comment property ``name`` (a PUT: safe to repeat)."""
        await self.http.request(
            "PUT",
            f"{self.api}/comment/{comment_id}/properties/{name}",
            json_body=value,
            scope=Scope.ITEM,
        )

    async def delete_comment_property(self, comment_id: str, name: str) -> None:
        await self.http.request(
            "DELETE",
            f"{self.api}/comment/{comment_id}/properties/{name}",
            scope=Scope.ITEM,
            ok_statuses=(404,),
        )

    async def _property_value(self, path: str) -> Any:
        response = await self.http.request("GET", path, scope=Scope.ITEM, ok_statuses=(404,))
        if response.status_code == 404:
            return None
        try:
            data = response.json()
        except ValueError as exc:
            raise BadInputError(
                "Jira's property answer is not JSON", request=request_info(response.request)
            ) from exc
        return Answer.of(data, request_info(response.request), "property answer").get("value")

    async def set_property(self, key: str, name: str, value: Any) -> None:
        await self.http.request(
            "PUT", f"{self.api}/issue/{key}/properties/{name}", json_body=value, scope=Scope.ITEM
        )

    async def delete_property(self, key: str, name: str) -> None:
        await self.http.request(
            "DELETE",
            f"{self.api}/issue/{key}/properties/{name}",
            scope=Scope.ITEM,
            ok_statuses=(404,),
        )

    # -- attachments ----------------------------------------------------------------------
    async def add_attachment(
        self,
        key: str,
        filename: str,
        content: bytes | IO[bytes],
        mime_type: str = "application/octet-stream",
    ) -> list[Attachment]:
        """Upload one file (multipart, with ``X-Atlassian-Token: no-check``). ``content``:
        the bytes, or a file open for reading, sent from its start as it is read."""
        if not filename or "/" in filename or "\\" in filename:
            raise BadInputError(f"unsafe attachment file name {filename!r}")
        data = await self._json(
            "POST",
            f"{self.api}/issue/{key}/attachments",
            files={"file": (filename, content, mime_type)},
            headers={"X-Atlassian-Token": "no-check"},
            scope=Scope.ITEM,
        )
        reader = await self._plain_reader()
        return [reader.attachment(a) for a in data or ()]

    async def download_attachment(self, attachment: Attachment | str) -> bytes:
        """The content of an attachment (by object or id): :meth:`download_attachment_to`
        in memory."""
        buffer = io.BytesIO()
        await self.download_attachment_to(attachment, buffer)
        return buffer.getvalue()

    async def download_attachment_to(self, attachment: Attachment | str, sink: IO[bytes]) -> int:
        """Write the content of an attachment (by object or id) to ``sink`` (from its start,
        as it arrives: the file is never held in memory); answers its size in bytes.

        Uses the attachment's ``content`` URL (Server: ``/secure/attachment/{id}/{name}``);
        given only an id, asks ``/attachment/{id}`` for it first. The URL must be on this site:
        credentials are never sent elsewhere.
        """
        if isinstance(attachment, Attachment):
            if attachment.id is None and attachment.content_url is None:
                raise BadInputError("attachment without an id or a content URL")
            url = attachment.content_url
            attachment_id = attachment.id
        else:
            url, attachment_id = None, attachment
        if url is None:
            meta = await self.http.json_object(
                "GET", f"{self.api}/attachment/{attachment_id}", scope=Scope.ITEM
            )
            url = meta.text("content")
        path = self._site_path(url)
        cap = self.max_attachment_bytes
        response = await self.http.request(
            "GET", path, scope=Scope.ITEM, ok_statuses=(302, 303, 307), max_bytes=cap, sink=sink
        )
        if response.status_code in (302, 303, 307):
            location = response.headers.get("location")
            if not location:
                raise BadInputError(
                    "Jira redirected the attachment download without a Location",
                    request=request_info(response.request),
                )
            # Cloud redirects to its media store: through JiraHttp (governor, retries, error
            # translation, counting), relative to the answer, and without our credentials
            # unless it is our own site.
            target = response.url.join(location)
            ours = httpx.URL(self.http.base_url)
            own_site = (target.scheme, target.host, target.port) == (
                ours.scheme,
                ours.host,
                ours.port,
            )
            response = await self.http.request(
                "GET",
                str(target),
                scope=Scope.ITEM,
                max_bytes=cap,
                credentials=own_site,
                sink=sink,
            )
        return sink.tell()

    def _site_path(self, url: str) -> str:
        """The path on our base URL for ``url``: ours, or a Jira API path of the same site
        spelled with its public address (Cloud through the OAuth gateway)."""
        base = self.http.base_url
        if url.startswith(base + "/"):
            return url[len(base) :]
        parsed = httpx.URL(url)
        path = parsed.raw_path.decode("ascii")
        if path.startswith(("/rest/api/", "/secure/attachment/")):
            return path
        raise BadInputError("attachment content URL is not on this Jira site")

    async def delete_attachment(self, attachment_id: str) -> None:
        await self.http.request(
            "DELETE", f"{self.api}/attachment/{attachment_id}", scope=Scope.ITEM
        )

    # -- users ----------------------------------------------------------------------------
    async def find_users(self, query: str) -> list[UserRef]:
        raise NotImplementedError

    # -- admin webhooks (both flavours) ----------------------------------------------------
    async def register_admin_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[str],
        *,
        jql: str | None = None,
        secret: str | None = None,
        exclude_body: bool = False,
    ) -> int:
        """Register an admin webhook (``/rest/webhooks/1.0/webhook``); answers its id."""
        body: dict[str, Any] = {
            "name": name,
            "url": url,
            "events": list(events),
            "filters": {"issue-related-events-section": jql or ""},
            "excludeBody": exclude_body,
            "enabled": True,
        }
        if secret:
            body["secret"] = secret
        answer = await self.http.json_object("POST", WEBHOOKS, json_body=body)
        last = answer.text("self").rstrip("/").rsplit("/", 1)[-1]
        return Answer({"id": last}, answer.request, "webhook answer").number("id")

    async def admin_webhooks(self) -> list[dict[str, Any]]:
        data = await self._json("GET", WEBHOOKS)
        return list(data or ())

    async def delete_admin_webhook(self, webhook_id: int) -> None:
        await self.http.request("DELETE", f"{WEBHOOKS}/{webhook_id}", ok_statuses=(404,))

    # -- agile ----------------------------------------------------------------------------
    async def boards(self, *, project_key: str | None = None) -> AsyncIterator[Board]:
        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            data = await self._json(
                "GET",
                f"{AGILE}/board",
                params={"startAt": start, "maxResults": size, "projectKeyOrId": project_key},
            )
            return data  # type: ignore[no-any-return]

        async for page in offset_pages(fetch, items_key="values", page_size=50):
            for item in page:
                b = Answer.of(item, what="board")
                location = expect_object(b.get("location") or {}, what="board location")
                yield Board(
                    id=b.number("id"),
                    name=str(b.get("name", "")),
                    type=str(b.get("type", "")),
                    project_key=location.get("projectKey"),
                )

    async def sprints(self, board_id: int, *, state: str | None = None) -> AsyncIterator[Sprint]:
        reader = await self._plain_reader()

        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            data = await self._json(
                "GET",
                f"{AGILE}/board/{board_id}/sprint",
                params={"startAt": start, "maxResults": size, "state": state},
            )
            return data  # type: ignore[no-any-return]

        async for page in offset_pages(fetch, items_key="values", page_size=50):
            for s in page:
                yield reader.sprint(s)

    async def create_sprint(self, board_id: int, name: str, *, goal: str | None = None) -> Sprint:
        body: dict[str, Any] = {"name": name, "originBoardId": board_id}
        if goal:
            body["goal"] = goal
        data = await self._json("POST", f"{AGILE}/sprint", json_body=body)
        return (await self._plain_reader()).sprint(data)

    async def move_to_sprint(self, sprint_id: int, keys: Sequence[str]) -> None:
        """Move issues into an open or active sprint, 50 per call (safe to repeat)."""
        for start in range(0, len(keys), SPRINT_MOVE_MAX):
            await self.http.request(
                "POST",
                f"{AGILE}/sprint/{sprint_id}/issue",
                json_body={"issues": list(keys[start : start + SPRINT_MOVE_MAX])},
                idempotent=True,
            )

    async def move_to_backlog(self, keys: Sequence[str]) -> None:
        """Move issues to the backlog, 50 per call (safe to repeat)."""
        for start in range(0, len(keys), SPRINT_MOVE_MAX):
            await self.http.request(
                "POST",
                f"{AGILE}/backlog/issue",
                json_body={"issues": list(keys[start : start + SPRINT_MOVE_MAX])},
                idempotent=True,
            )

    async def epic_issue_keys(self, epic_key: str) -> list[str]:
        """Keys of the issues in an epic (agile ``/epic/{key}/issue``)."""

        async def fetch(start: int, size: int) -> Mapping[str, Any]:
            data = await self._json(
                "GET",
                f"{AGILE}/epic/{epic_key}/issue",
                scope=Scope.ITEM,
                params={"startAt": start, "maxResults": size, "fields": "key"},
            )
            return data  # type: ignore[no-any-return]

        out: list[str] = []
        async for page in offset_pages(fetch, items_key="issues", page_size=50):
            out.extend(Answer.of(i, what="epic issue").text("key") for i in page)
        return out


def _create_body(writer: IssueWriter, data: IssueInput) -> dict[str, Any]:
    """One issue's create body: its fields, and its entity properties when it has any."""
    body: dict[str, Any] = {"fields": writer.fields_of(data)}
    if data.properties:
        body["properties"] = [{"key": k, "value": v} for k, v in data.properties.items()]
    return body


def _match_bulk(response: httpx.Response, start: int, size: int) -> list[BulkCreateResult]:
    """Match a bulk-create answer to its inputs by ``failedElementNumber``.

    Jira lists created issues in request order, skipping failed elements, so successes fill the
    positions that did not fail, in order.
    """
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, Mapping):
        data = {}  # every element then reads "no answer": the caller checks before resending
    created = [i for i in data.get("issues") or () if isinstance(i, Mapping)]
    failed: dict[int, SkipItemError] = {}
    for err in data.get("errors") or ():
        if not isinstance(err, Mapping):
            continue
        number = err.get("failedElementNumber")
        if not isinstance(number, int) or not 0 <= number < size:
            continue
        element = err.get("elementErrors")
        element = element if isinstance(element, Mapping) else {}
        messages = list(element.get("errorMessages") or ())
        fields = dict(element.get("errors") or {})
        failed[number] = SkipItemError(
            f"bulk create rejected element {start + number}",
            jira=JiraErrorBody(_status_of(err), messages, fields),
        )
    results: list[BulkCreateResult] = []
    created_iter = iter(created)
    for i in range(size):
        if i in failed:
            results.append(BulkCreateResult(index=start + i, error=failed[i]))
            continue
        issue = next(created_iter, None)
        if issue is None:
            results.append(
                BulkCreateResult(
                    index=start + i,
                    error=SkipItemError(f"bulk create gave no answer for element {start + i}"),
                )
            )
        else:
            results.append(
                BulkCreateResult(
                    index=start + i, key=str(issue.get("key")), id=str(issue.get("id"))
                )
            )
    return results


def _status_of(err: Mapping[str, Any]) -> int:
    status = err.get("status")
    return status if isinstance(status, int) and not isinstance(status, bool) else 400


def _cut_short(raw: Mapping[str, Any], expand: Sequence[str] | None) -> bool:
    """Whether a bulk answer's changelog holds fewer entries than GET issue gives (Cloud caps
    it at 40 in bulk reads): such an issue is read again on its own."""
    if not expand or "changelog" not in expand:
        return False
    block = raw.get("changelog")
    if not isinstance(block, Mapping):
        return True
    histories = block.get("histories")
    total = block.get("total")
    if not isinstance(histories, list):
        return True
    return isinstance(total, int) and total > len(histories)
