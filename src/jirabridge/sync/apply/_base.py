"""What every part of the applier shares: the job context, the result, the stores and lookups."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from jirabridge.errors import FixConfigError
from jirabridge.jira import Issue, Sprint, Transition, UserRef
from jirabridge.sync.config import PairConfig, Side, SyncConfig
from jirabridge.sync.engine import SiteClient
from jirabridge.sync.pairs import PairRef, find_pair, find_pair_by_key
from jirabridge.sync.queue import Clock, Job, Queue, SystemClock
from jirabridge.sync.richtext import DocState

log = logging.getLogger("jirabridge.sync.apply")

PROPERTY = "jirabridge"
"""Entity property on both issues of a pair: ``{"pair": id, "server": key, "cloud": key}``,
so the pairs can be rebuilt from the sites if the store is lost."""

STATUS_KEY = "_status"  # kept in every snapshot, synced field or not
SPRINTS_KEY = "_sprints"  # names of the open sprints the issue is in, when sprints sync


@dataclass(frozen=True)
class ApplyResult:
    action: str  # "synced", "created", "ignored", "waiting"
    detail: str = ""
    writes: int = 0


@dataclass
class _Ctx:
    """Everything one job needs, gathered before writing."""

    pair: PairConfig
    side: Side
    clients: dict[Side, SiteClient]
    issues: dict[Side, Issue] = field(default_factory=dict)
    writes: int = 0
    # rule names written to each side in this job (their re-read value becomes the snapshot)
    written: dict[Side, set[str]] = field(
        default_factory=lambda: {Side.SERVER: set(), Side.CLOUD: set()}
    )
    docs: DocState = field(default_factory=DocState)  # rich-text lookups of this job (_users)
    # sides whose issue this job (or the backfill just before it) created: it has no
    # comments to list, and ``issues[side]`` is as it was read right after the create
    fresh: set[Side] = field(default_factory=set)
    # fresh sides a backfill created in bulk: their ``updated`` after this job is read by
    # the backfill's settle pass (one search per 100 issues), not by one GET each here
    settle_later: set[Side] = field(default_factory=set)
    # sides this job sent any write to (fields, transitions, comments, attachments, links,
    # sprints, properties, a create): set by :func:`tracked` clients. A side not in it is
    # still as its start read showed it, so it is not read again at the end of the job
    touched: set[Side] = field(default_factory=set)


_READS = frozenset(
    {"server_info", "myself", "search", "search_raw", "transitions", "comments"}
    | {"boards", "sprints"}
)
_READ_PREFIXES = ("get_", "find_", "download_", "fields", "media_id", "edit_meta")


class _Tracked:
    """A site client that notes, before sending it, every call that may write: any method
    not known to only read (unknown ones count as writes, so a new write path is never
    missed; at worst the side is read again as before)."""

    def __init__(self, inner: SiteClient, side: Side, touched: set[Side]) -> None:
        self._inner = inner
        self._side = side
        self._touched = touched

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        """The wrapped client's class: ``isinstance`` against the runtime protocols the
        parts test a client with (extra abilities) answers as for the client itself, also
        where that check reads attributes statically (Python 3.12)."""
        return type(self._inner)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr) or name in _READS or name.startswith(_READ_PREFIXES):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._touched.add(self._side)
            return attr(*args, **kwargs)

        return call


def tracked(clients: Mapping[Side, SiteClient], touched: set[Side]) -> dict[Side, SiteClient]:
    """``clients`` wrapped so that each write adds its side to ``touched`` (:class:`_Ctx`)."""
    return {s: cast(SiteClient, _Tracked(c, s, touched)) for s, c in clients.items()}


class _ApplierBase:
    """The state of an :class:`Applier` and the lookups all of its parts use."""

    def __init__(
        self,
        config: SyncConfig,
        clients: Mapping[str, SiteClient],
        queue: Queue,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.clients = dict(clients)
        self.queue = queue
        self.clock: Clock = clock or SystemClock()
        # user lookups, (pair id, source site, user, target side) -> the target's user found
        # by the pair's map or e-mail (never the pair's fallback user, applied after)
        self._users: dict[tuple[str, str, str, Side], UserRef | None] = {}
        self._sprint_cache: dict[
            tuple[str, str], tuple[datetime, dict[int, Sprint], str | None]
        ] = {}
        # mentions, (pair id, source site, mentioned id, target side) -> the target's id
        self._mentions: dict[tuple[str, str, str, Side], str | None] = {}
        # lookups that found nobody: (cache name, *key) -> when
        self._misses: dict[tuple[str, str, str, str, Side], datetime] = {}
        # workflow learnt while walking: (site, project, issue type) -> status -> transitions
        self._workflows: dict[tuple[str, str, str], dict[str, tuple[Transition, ...]]] = {}

    def _client(self, site: str) -> SiteClient:
        try:
            return self.clients[site]
        except KeyError as exc:
            raise FixConfigError(f"no client for site {site!r}") from exc

    def _find(self, pair_id: str, side: Side, issue: Issue) -> PairRef | None:
        assert issue.id is not None
        with self.queue.store.session() as session:
            return find_pair(session, side=side, issue_id=issue.id, pair_id=pair_id)

    def _integration_ids(self, pair: PairConfig, side: Side) -> frozenset[str]:
        site = pair.server.site if side is Side.SERVER else pair.cloud.site
        return frozenset({self.config.sites[site].integration_user})

    def _is_us(self, user: UserRef | None, pair: PairConfig, side: Side) -> bool:
        if user is None:
            return False
        ids = self._integration_ids(pair, side)
        return bool({user.account_id, user.name, user.key} & ids)

    def _made_by_us(self, pair: PairConfig, side: Side, issue: Issue) -> bool:
        return self._is_us(issue.creator or issue.reporter, pair, side)

    def _site_of(self, ctx: _Ctx, side: Side) -> str:
        return ctx.pair.server.site if side is Side.SERVER else ctx.pair.cloud.site

    def _rows(self, table: Any, issue_pair_id: int) -> list[Any]:
        from sqlalchemy import select

        with self.queue.store.session() as session:
            return list(session.scalars(select(table).where(table.issue_pair_id == issue_pair_id)))

    async def _pair_rows(self, table: Any, issue_pair_id: int) -> list[Any]:
        """The rows of ``table`` (comment, attachment or link pairs) of an issue pair; the
        applier answers from the job's reads when it has them (no thread hop)."""
        return await asyncio.to_thread(self._rows, table, issue_pair_id)

    def _pair_by_key(self, pair_id: str, side: Side, key: str) -> PairRef | None:
        with self.queue.store.session() as session:
            return find_pair_by_key(session, side=side, key=key, pair_id=pair_id)

    async def _finish(self, job: Job, result: ApplyResult) -> ApplyResult:
        await asyncio.to_thread(
            lambda: self.queue.complete(job, message=f"{result.action}: {result.detail}")
        )
        return result
