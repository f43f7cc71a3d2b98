"""Dry runs: the real engine, with every site write recorded instead of sent.

``jirabridge backfill --dry-run`` runs the same :class:`~jirabridge.sync.runner.SyncRunner`
code as a real backfill, but

* every site client is wrapped in a :class:`RecordingClient`: reads go to the site, writes
  (create, edit, transition, comment, attachment, link, remote link, property, sprint move,
  delete) are recorded as :class:`PlannedWrite` and answered with plausible placeholders (a
  created issue gets the key ``<PROJECT>-DRY<n>`` and is answered locally from then on), so
  the run goes on as it would;
* the state store is a throwaway copy (:func:`copy_store` into a temporary SQLite file), so
  nothing is persisted: the real store is only read.

::

    plan = await dry_backfill(config, store, clients)
    for group in plan.by_pair(): ...
"""

from __future__ import annotations

import enum
import itertools
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from jirabridge.errors import SkipItemError
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
from jirabridge.sync.config import SyncConfig
from jirabridge.sync.engine import SiteClient
from jirabridge.sync.store import Base, IssuePair, Store, open_store

__all__ = [
    "DryRunPlan",
    "PlannedWrite",
    "RecordingClient",
    "WriteKind",
    "copy_store",
    "dry_backfill",
]

Adf = dict[str, Any]


class WriteKind(enum.StrEnum):
    CREATE = "create issue"
    EDIT = "edit fields"
    TRANSITION = "transition"
    COMMENT = "add comment"
    COMMENT_EDIT = "edit comment"
    COMMENT_DELETE = "delete comment"
    ATTACHMENT = "add attachment"
    LINK = "add link"
    REMOTE_LINK = "add remote link"
    PROPERTY = "set property"
    SPRINT = "move to sprint"
    BACKLOG = "move to backlog"
    DELETE = "delete issue"


@dataclass(frozen=True)
class PlannedWrite:
    """One write a run would have sent: to ``site``, on issue ``key``."""

    site: str
    key: str
    kind: WriteKind
    detail: str = ""


def _size(content: IO[bytes]) -> int:
    """The bytes an upload from ``content`` sends: from where it stands to its end (the
    position is kept, so the upload is not disturbed)."""
    start = content.tell()
    end = content.seek(0, 2)
    content.seek(start)
    return end - start


class RecordingClient:
    """A :class:`~jirabridge.sync.engine.SiteClient` that reads from ``inner`` and records
    writes in ``writes`` instead of sending them."""

    def __init__(self, inner: SiteClient, site: str, writes: list[PlannedWrite]) -> None:
        self.inner = inner
        self.site = site
        self.writes = writes
        self._numbers = itertools.count(1)
        self._made: dict[str, Issue] = {}  # issues "created" in this run, by key
        self._comments: dict[str, list[Comment]] = {}
        self._me: UserRef | None = None

    def _record(self, key: str, kind: WriteKind, detail: str = "") -> None:
        self.writes.append(PlannedWrite(self.site, key, kind, detail))

    async def _myself(self) -> UserRef:
        if self._me is None:
            self._me = await self.inner.myself()
        return self._me

    # ---- reads (passed through; issues made in this run are answered here) ----------------

    async def server_info(self) -> ServerInfo:
        return await self.inner.server_info()

    async def myself(self) -> UserRef:
        return await self._myself()

    async def find_users(self, query: str) -> list[UserRef]:
        return await self.inner.find_users(query)

    async def get_user(self, *, account_id: str) -> UserRef:
        """A Jira Cloud user by accountId (the mention lookup of ``sync.apply``)."""
        inner: Any = self.inner
        found: UserRef = await inner.get_user(account_id=account_id)
        return found

    async def fields(self, *, refresh: bool = False) -> dict[str, FieldInfo]:
        return await self.inner.fields(refresh=refresh)

    def search(
        self,
        jql: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Issue]:
        return self.inner.search(jql, fields=fields, expand=expand, page_size=page_size)

    async def get_issue(
        self,
        key: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> Issue:
        if key in self._made:
            return self._made[key]
        return await self.inner.get_issue(key, fields=fields, expand=expand)

    async def transitions(self, key: str) -> list[Transition]:
        if key in self._made:
            return []
        return await self.inner.transitions(key)

    async def comments(
        self, key: str, *, page_size: int = 100, properties: bool = False
    ) -> AsyncIterator[Comment]:
        if key not in self._made:
            async for comment in self.inner.comments(
                key, page_size=page_size, properties=properties
            ):
                yield comment
        for comment in self._comments.get(key, []):
            yield comment

    async def get_property(self, key: str, name: str) -> Any:
        if key in self._made:
            raise SkipItemError(f"{key} has no property {name} (dry run)")
        return await self.inner.get_property(key, name)

    async def get_comment_property(self, comment_id: str, name: str) -> Any:
        for made in self._comments.values():
            for comment in made:
                if comment.id == comment_id:
                    return comment.properties.get(name)
        return await self.inner.get_comment_property(comment_id, name)

    async def download_attachment(self, attachment: Attachment | str) -> bytes:
        return await self.inner.download_attachment(attachment)

    async def download_attachment_to(self, attachment: Attachment | str, sink: IO[bytes]) -> int:
        return await self.inner.download_attachment_to(attachment, sink)

    def boards(self, *, project_key: str | None = None) -> AsyncIterator[Board]:
        return self.inner.boards(project_key=project_key)

    def sprints(self, board_id: int, *, state: str | None = None) -> AsyncIterator[Sprint]:
        return self.inner.sprints(board_id, state=state)

    # ---- writes (recorded, answered with placeholders) ------------------------------------

    async def create_issue(self, data: IssueInput, *, check: CreateCheck | None = None) -> str:
        project = data.project_key or "NEW"
        number = next(self._numbers)
        key = f"{project}-DRY{number}"
        self._made[key] = Issue(
            key=key,
            project_key=project,
            issue_type=data.issue_type or "",
            summary=data.summary or "",
            status="(not created: dry run)",
            creator=await self._myself(),
            reporter=await self._myself(),
            created=datetime.now(UTC),
            updated=datetime.now(UTC),
            id=f"dry-{self.site}-{number}",
        )
        self._record(key, WriteKind.CREATE, f"{data.issue_type or ''}: {data.summary or ''}")
        return key

    async def edit_issue(
        self,
        key: str,
        data: IssueInput | None = None,
        *,
        update: Any = None,
        notify: bool = True,
    ) -> None:
        self._record(key, WriteKind.EDIT, _fields_of(data, update))

    async def transition(
        self,
        key: str,
        transition_id: str,
        *,
        fields: IssueInput | None = None,
        comment: Adf | None = None,
    ) -> None:
        self._record(key, WriteKind.TRANSITION, f"transition {transition_id}")

    async def add_comment(
        self,
        key: str,
        body: Adf,
        *,
        visibility: tuple[str, str] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> Comment:
        made = Comment(
            body=body,
            author=await self._myself(),
            created=datetime.now(UTC),
            visibility=visibility,
            id=f"dry-{self.site}-c{next(self._numbers)}",
            properties=dict(properties or {}),
        )
        self._comments.setdefault(key, []).append(made)
        self._record(key, WriteKind.COMMENT, _excerpt(body))
        return made

    async def update_comment(self, key: str, comment_id: str, body: Adf) -> Comment:
        self._record(key, WriteKind.COMMENT_EDIT, f"comment {comment_id}: {_excerpt(body)}")
        return Comment(body=body, author=await self._myself(), id=comment_id)

    async def delete_comment(self, key: str, comment_id: str) -> None:
        self._record(key, WriteKind.COMMENT_DELETE, f"comment {comment_id}")

    async def delete_issue(self, key: str, *, delete_subtasks: bool = False) -> None:
        self._record(key, WriteKind.DELETE)

    async def create_link(self, type_name: str, outward_key: str, inward_key: str) -> None:
        self._record(outward_key, WriteKind.LINK, f"{type_name} -> {inward_key}")

    async def put_remote_link(self, key: str, link: RemoteLink) -> int:
        self._record(key, WriteKind.REMOTE_LINK, link.title or link.url)
        return next(self._numbers)

    async def set_property(self, key: str, name: str, value: Any) -> None:
        self._record(key, WriteKind.PROPERTY, name)

    async def set_comment_property(self, comment_id: str, name: str, value: Any) -> None:
        self._record(comment_id, WriteKind.PROPERTY, f"comment {comment_id}: {name}")

    async def add_attachment(
        self,
        key: str,
        filename: str,
        content: bytes | IO[bytes],
        mime_type: str = "application/octet-stream",
    ) -> list[Attachment]:
        size = len(content) if isinstance(content, bytes) else _size(content)
        self._record(key, WriteKind.ATTACHMENT, f"{filename} ({size} bytes)")
        return [
            Attachment(
                filename=filename,
                size=size,
                mime_type=mime_type,
                author=await self._myself(),
                id=f"dry-{self.site}-a{next(self._numbers)}",
            )
        ]

    async def move_to_sprint(self, sprint_id: int, keys: Sequence[str]) -> None:
        for key in keys:
            self._record(key, WriteKind.SPRINT, f"sprint {sprint_id}")

    async def move_to_backlog(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._record(key, WriteKind.BACKLOG)


def _fields_of(data: IssueInput | None, update: Any) -> str:
    names: list[str] = []
    if data is not None:
        for name, value in vars(data).items():
            if value is None or value == () or value == {} or value == []:
                continue
            if name == "extra_fields":
                names.extend(sorted(value))
            else:
                names.append(name)
    if isinstance(update, Mapping):
        names.extend(sorted(str(k) for k in update))
    return ", ".join(names)


def _excerpt(doc: Any, limit: int = 60) -> str:
    from jirabridge.sync.rebuild import words

    text = words(doc)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def copy_store(source: Store, target: Store) -> None:
    """Copy every row of ``source`` into the empty, migrated ``target`` (parents first)."""
    with source.session() as read, target.session() as write:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in read.execute(select(table))]
            if rows:
                write.execute(table.insert(), rows)


@dataclass(frozen=True)
class PairWrites:
    """The planned writes of one issue pair (or of one unpaired issue)."""

    label: str
    writes: tuple[PlannedWrite, ...]


@dataclass(frozen=True)
class DryRunPlan:
    """What a run would have written, and what it read."""

    writes: tuple[PlannedWrite, ...]
    issues_read: int
    pairs: Mapping[tuple[str, str], str] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    dead_letters: tuple[str, ...] = ()

    def by_pair(self) -> list[PairWrites]:
        """Writes grouped per issue pair (``SRV-1 <-> CLD-2``), in the order first written."""
        groups: dict[str, list[PlannedWrite]] = {}
        for write in self.writes:
            label = self.pairs.get((write.site, write.key), f"{write.site} {write.key}")
            groups.setdefault(label, []).append(write)
        return [PairWrites(label, tuple(ws)) for label, ws in groups.items()]

    def to_json(self) -> dict[str, Any]:
        return {
            "issues_read": self.issues_read,
            "writes": len(self.writes),
            "errors": list(self.errors),
            "dead_letters": list(self.dead_letters),
            "pairs": [
                {
                    "pair": group.label,
                    "writes": [
                        {"site": w.site, "issue": w.key, "write": w.kind.value, "detail": w.detail}
                        for w in group.writes
                    ],
                }
                for group in self.by_pair()
            ],
        }


async def dry_backfill(
    config: SyncConfig,
    store: Store,
    clients: Mapping[str, SiteClient],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> DryRunPlan:
    """Run a backfill on a throwaway copy of ``store`` with recording clients; ``store`` and
    the sites are only read. ``progress(done, total)`` reports issues paired / read."""
    from jirabridge.sync.queue import Queue
    from jirabridge.sync.runner import SyncRunner

    writes: list[PlannedWrite] = []
    recording = {name: RecordingClient(c, name, writes) for name, c in clients.items()}
    with tempfile.TemporaryDirectory(prefix="jirabridge-dry-") as tmp:
        scratch = open_store(f"sqlite:///{Path(tmp) / 'dry-run.db'}")
        try:
            copy_store(store, scratch)
            runner = SyncRunner(config, scratch, clients=recording)
            result = await runner.backfill(progress=progress)
            with scratch.session() as session:
                pairs: dict[tuple[str, str], str] = {}
                cfg = {p.id: p for p in config.pairs}
                for row in session.scalars(select(IssuePair)):
                    pc = cfg.get(row.pair_id)
                    if pc is None:
                        continue
                    label = f"{row.server_key} <-> {row.cloud_key}"
                    pairs[(pc.server.site, row.server_key)] = label
                    pairs[(pc.cloud.site, row.cloud_key)] = label
            dead = tuple(
                f"{d.issue_key or d.issue_id}: {d.reason}"
                for d in Queue(scratch, config=config.queue).dead_letters()
            )
        finally:
            scratch.dispose()
    return DryRunPlan(
        writes=tuple(writes),
        issues_read=sum(p.read for p in result.polls),
        pairs=pairs,
        errors=tuple(result.errors),
        dead_letters=dead,
    )
