"""The engine's seams: what it needs from a site client, and the poller that feeds the queue.

How the parts fit::

    webhooks ──> receiver (webhooks/) ──┐
                                        ├──> Queue (queue.py) ──> run_workers ──> Applier
    poller (poll_once here, cursor.py) ─┘        │ DLQ                          (apply.py)
                                                 v                                 │
                                  state store (store/, pairs.py, state.py) <───────┘
                                  pairs, snapshots, comment / attachment / link pairs,
                                  cursors, webhook ids, conflicts, audit log

    SyncRunner (runner.py) wires it from the configuration: clients per site, poll rounds
    with hot reload, workers, backfill, reconcile, rebuild of lost pairs, the receiver app.

The apply step (:class:`jirabridge.sync.apply.Applier`), per leased job:

1. Find the issue pair (``IssuePair`` by the job's site + issue id). No pair: if the pair
   config's ``create`` rule allows, create the mirror (``create_issue`` with a ``check`` that
   finds an ambiguous create again), then write the cross-references: ``IssuePair`` row,
   entity property ``jirabridge`` on both issues, a visible remote link, ``write_back_field``.
2. Read both issues (with changelog) and their comments.
3. :func:`jirabridge.sync.diff.plan_fields` against the two ``Snapshot`` rows: one
   ``edit_issue`` per side with every changed field; the status by walking the workflow
   (resolution set when the screen has it); comments by id via ``CommentPair``;
   attachments once via ``AttachmentPair``; links merged via ``LinkPair``; sprints by name.
4. Re-read both issues; write the new snapshots, conflicts and the audit entry in the same
   transaction as ``Queue.complete(job, session=...)``. A crash before that commit repeats
   the job; the diff then finds nothing left to do, so nothing is written twice.

Echo: the receiver drops the integration user's webhooks; polls skip issues whose
``updated`` equals their snapshot's; anything else our writes cause gives an empty diff.

Everything is typed against :class:`SiteClient`; ``jirabridge.jira.ServerClient`` and
``CloudClient`` satisfy it (checked by mypy below), and tests use the emulators.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from jirabridge.errors import JirabridgeError
from jirabridge.jira import (
    Attachment,
    Board,
    Comment,
    CreateCheck,
    FieldInfo,
    Issue,
    IssueInput,
    RemoteLink,
    ServerInfo,
    Sprint,
    Transition,
    UserRef,
)
from jirabridge.sync.config import PairSide, PollingConfig
from jirabridge.sync.cursor import PollCursor, PollHit, advance, plan_poll
from jirabridge.sync.notices import ChangeNotice, EventKind, NoticeSource
from jirabridge.sync.queue import Queue
from jirabridge.sync.state import load_cursor, save_cursor
from jirabridge.sync.store import IssuePair, Snapshot

__all__ = ["PollOutcome", "SiteClient", "poll_once", "scope_of"]

Adf = dict[str, Any]


class SiteClient(Protocol):
    """What the engine calls on a site (a subset of ``jirabridge.jira.BaseClient``)."""

    async def server_info(self) -> ServerInfo: ...

    async def myself(self) -> UserRef: ...

    async def find_users(self, query: str) -> list[UserRef]: ...

    async def fields(self, *, refresh: bool = False) -> dict[str, FieldInfo]: ...

    def search(
        self,
        jql: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Issue]: ...

    async def get_issue(
        self,
        key: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> Issue: ...

    async def create_issue(self, data: IssueInput, *, check: CreateCheck | None = None) -> str: ...

    async def edit_issue(
        self,
        key: str,
        data: IssueInput | None = None,
        *,
        update: Any = None,
        notify: bool = True,
    ) -> None: ...

    async def transitions(self, key: str) -> list[Transition]: ...

    async def transition(
        self,
        key: str,
        transition_id: str,
        *,
        fields: IssueInput | None = None,
        comment: Adf | None = None,
    ) -> None: ...

    def comments(
        self, key: str, *, page_size: int = 100, properties: bool = False
    ) -> AsyncIterator[Comment]: ...

    async def add_comment(
        self,
        key: str,
        body: Adf,
        *,
        visibility: tuple[str, str] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Comment: ...

    async def get_comment_property(self, comment_id: str, name: str) -> Any: ...

    async def set_comment_property(self, comment_id: str, name: str, value: Any) -> None: ...

    async def update_comment(self, key: str, comment_id: str, body: Adf) -> Comment: ...

    async def delete_comment(self, key: str, comment_id: str) -> None: ...
    async def delete_issue(self, key: str, *, delete_subtasks: bool = False) -> None: ...

    async def create_link(self, type_name: str, outward_key: str, inward_key: str) -> None: ...

    async def put_remote_link(self, key: str, link: RemoteLink) -> int: ...

    async def get_property(self, key: str, name: str) -> Any: ...

    async def set_property(self, key: str, name: str, value: Any) -> None: ...

    async def add_attachment(
        self, key: str, filename: str, content: bytes | IO[bytes], mime_type: str = ...
    ) -> list[Attachment]: ...

    async def download_attachment(self, attachment: Attachment | str) -> bytes: ...

    async def download_attachment_to(
        self, attachment: Attachment | str, sink: IO[bytes]
    ) -> int: ...

    def boards(self, *, project_key: str | None = None) -> AsyncIterator[Board]: ...

    def sprints(self, board_id: int, *, state: str | None = None) -> AsyncIterator[Sprint]: ...

    async def move_to_sprint(self, sprint_id: int, keys: Sequence[str]) -> None: ...

    async def move_to_backlog(self, keys: Sequence[str]) -> None: ...


if TYPE_CHECKING:  # mypy proves the real clients fit the protocol
    from jirabridge.jira import CloudClient, ServerClient

    def _server_fits(client: ServerClient) -> SiteClient:
        return client

    def _cloud_fits(client: CloudClient) -> SiteClient:
        return client


def scope_of(side: PairSide) -> str:
    """The cursor scope of one side of a pair (its project and JQL)."""
    return f"{side.project}|{side.jql or ''}"


def base_jql(side: PairSide) -> str:
    clauses = [f'project = "{side.project}"']
    if side.jql:
        clauses.append(f"({side.jql})")
    if side.issue_types:
        names = ", ".join('"' + t.replace('"', '\\"') + '"' for t in side.issue_types)
        clauses.append(f"issuetype in ({names})")
    return " AND ".join(clauses)


@dataclass(frozen=True)
class PollOutcome:
    jql: str
    read: int
    queued: int
    complete: bool
    cursor: PollCursor


async def poll_once(
    *,
    client: SiteClient,
    site: str,
    side: PairSide,
    queue: Queue,
    polling: PollingConfig,
    tz: ZoneInfo,
    now: datetime,
    initial: datetime | None = None,
    flavour_side: str | None = None,
) -> PollOutcome:
    """One poll of one pair side: search, enqueue what is new, save the cursor.

    With ``flavour_side`` ("server" / "cloud"), an issue whose ``updated`` equals the one
    stored with its last synced snapshot is not queued: that change was our own write.

    The notices and the new cursor are written in one transaction, so a crash either keeps
    both or neither (then the next poll reads the same window again). A failure part-way
    keeps what was read (cursor moved only as far as that) and re-raises."""
    scope = scope_of(side)
    cursor = await asyncio.to_thread(_load, queue, site, scope)
    overlap = timedelta(seconds=polling.overlap_seconds)
    plan = plan_poll(
        cursor,
        base_jql=base_jql(side),
        now=now,
        overlap=overlap,
        clock_skew=timedelta(seconds=polling.clock_skew_seconds),
        tz=tz,
        initial=initial,
    )
    hits: list[PollHit] = []
    failure: JirabridgeError | None = None
    try:
        async for issue in client.search(plan.jql, fields=["updated"]):
            if issue.id is None or issue.updated is None:
                continue
            hits.append(PollHit(issue.id, issue.updated, issue.key))
    except JirabridgeError as exc:
        failure = exc
    new_cursor, fresh = advance(cursor, plan, hits, complete=failure is None, overlap=overlap)
    queued = await asyncio.to_thread(
        _save, queue, site, scope, new_cursor, fresh, now, flavour_side
    )
    if failure is not None:
        raise failure
    return PollOutcome(plan.jql, len(hits), queued, failure is None, new_cursor)


def _load(queue: Queue, site: str, scope: str) -> PollCursor:
    with queue.store.session() as session:
        return load_cursor(session, site, scope)


def _save(
    queue: Queue,
    site: str,
    scope: str,
    cursor: PollCursor,
    fresh: list[PollHit],
    now: datetime,
    flavour_side: str | None,
) -> int:
    queued = 0
    with queue.store.session() as session:
        for hit in fresh:
            if flavour_side is not None and _our_own(session, flavour_side, hit):
                continue
            queued += 1
            queue.enqueue(
                ChangeNotice(
                    site=site,
                    issue_id=hit.issue_id,
                    issue_key=hit.issue_key,
                    event=EventKind.POLLED,
                    observed_at=now,
                    source=NoticeSource.POLL,
                ),
                session=session,
            )
        save_cursor(session, site, scope, cursor, now=now)
    return queued


def _our_own(session: Session, flavour_side: str, hit: PollHit) -> bool:
    """The issue's last change is the one we synced (its snapshot has this ``updated``)."""
    column = IssuePair.server_issue_id if flavour_side == "server" else IssuePair.cloud_issue_id
    stored = session.scalars(
        select(Snapshot.issue_updated)
        .join(IssuePair, IssuePair.id == Snapshot.issue_pair_id)
        .where(column == hit.issue_id, Snapshot.side == flavour_side)
    ).all()
    return bool(stored) and all(u is not None and u == hit.updated for u in stored)
