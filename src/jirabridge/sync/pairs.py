"""Issue pairs, snapshots, comment pairs and conflicts in the state store.

The apply step calls these inside the transaction that completes its queue job, so the
mapping, the last synced state and the job's completion are committed together.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    String,
    bindparam,
    cast,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from jirabridge.errors import SkipItemError
from jirabridge.sync.config import Side
from jirabridge.sync.diff import ConflictRecord, value_hash
from jirabridge.sync.store import (
    AttachmentPair,
    Base,
    CommentPair,
    Conflict,
    IssuePair,
    LinkPair,
    Snapshot,
)

__all__ = [
    "PairRef",
    "SnapshotData",
    "find_comment_pair",
    "find_pair",
    "find_pair_by_key",
    "find_pairs",
    "link_comments",
    "link_pair",
    "load_snapshot",
    "load_snapshots",
    "pair_rows",
    "record_conflict",
    "save_snapshot",
    "save_snapshots",
    "update_key",
]


@dataclass(frozen=True)
class PairRef:
    id: int
    pair_id: str
    server_issue_id: str
    server_key: str
    cloud_issue_id: str
    cloud_key: str
    origin: Side

    def issue_id(self, side: Side) -> str:
        return self.server_issue_id if side is Side.SERVER else self.cloud_issue_id

    def key(self, side: Side) -> str:
        return self.server_key if side is Side.SERVER else self.cloud_key


# the applier reads a pair and both snapshots and writes both snapshots on every job: these
# are plain table statements built once (no ORM objects to make, track and flush; the
# statement's cache key is the same object every time)
_PAIRS = Base.metadata.tables[IssuePair.__tablename__]
_SNAPSHOTS = Base.metadata.tables[Snapshot.__tablename__]


def _pair_lookup(column: str, by_pair: bool) -> Any:
    stmt = select(
        _PAIRS.c.id,
        _PAIRS.c.pair_id,
        _PAIRS.c.server_issue_id,
        _PAIRS.c.server_key,
        _PAIRS.c.cloud_issue_id,
        _PAIRS.c.cloud_key,
        _PAIRS.c.origin,
    ).where(_PAIRS.c[column] == bindparam("b_issue"))
    if by_pair:
        stmt = stmt.where(_PAIRS.c.pair_id == bindparam("b_pair"))
    return stmt.order_by(_PAIRS.c.id).limit(1)


_FIND_PAIR = {
    (side, by_pair): _pair_lookup(
        "server_issue_id" if side is Side.SERVER else "cloud_issue_id", by_pair
    )
    for side in Side
    for by_pair in (False, True)
}
_SNAPSHOT_OF = (
    _SNAPSHOTS.c.issue_pair_id == bindparam("b_pair"),
    _SNAPSHOTS.c.side == bindparam("b_side"),
)
_LOAD_SNAPSHOT = select(
    _SNAPSHOTS.c.fields,
    _SNAPSHOTS.c.field_hashes,
    _SNAPSHOTS.c.issue_updated,
    _SNAPSHOTS.c.synced_at,
).where(*_SNAPSHOT_OF)
_SNAPSHOT_VALUES: dict[str, Any] = {
    "fields": bindparam("b_fields"),
    "field_hashes": bindparam("b_hashes"),
    "issue_updated": bindparam("b_updated"),
    "synced_at": bindparam("b_synced"),
}
# both sides' snapshots of a pair in one statement (the applier reads both on every job)
_LOAD_SNAPSHOTS = select(
    _SNAPSHOTS.c.side,
    _SNAPSHOTS.c.fields,
    _SNAPSHOTS.c.field_hashes,
    _SNAPSHOTS.c.issue_updated,
    _SNAPSHOTS.c.synced_at,
).where(_SNAPSHOTS.c.issue_pair_id == bindparam("b_pair"))
_UPDATE_SNAPSHOT = update(_SNAPSHOTS).where(*_SNAPSHOT_OF).values(_SNAPSHOT_VALUES)
_INSERT_SNAPSHOT = insert(_SNAPSHOTS).values(
    issue_pair_id=bindparam("b_pair"), side=bindparam("b_side"), **_SNAPSHOT_VALUES
)


# the comment, attachment and link pairs of an issue pair, read by every job: the three
# tables in one UNION ALL, each row's columns in slots by type (PostgreSQL wants one type
# per column of a union): integers, the timestamp, then the strings (NULL where a table
# has fewer)
_PAIR_TABLES: tuple[Any, ...] = (CommentPair, AttachmentPair, LinkPair)
_STRING_SLOTS = 5


def _string_columns(table: Any) -> list[Any]:
    return [c for c in table.__table__.columns if isinstance(c.type, String)]


def _rows_of_pairs() -> Any:
    selects = []
    for kind, table in enumerate(_PAIR_TABLES):
        columns = table.__table__.c
        strings = _string_columns(table)
        # every column has its slot (a column added to a table must be added here)
        others = {c.key for c in columns} - {c.key for c in strings}
        assert others == {"id", "issue_pair_id", "synced_at"} and len(strings) <= _STRING_SLOTS
        padding = [cast(null(), String) for _ in range(_STRING_SLOTS - len(strings))]
        selects.append(
            select(
                literal(kind, Integer).label("kind"),
                columns.id,
                columns.issue_pair_id,
                columns.synced_at,  # the same type in the three tables
                *(c.label(f"s{i}") for i, c in enumerate([*strings, *padding])),
            ).where(columns.issue_pair_id == bindparam("b_pair"))
        )
    return union_all(*selects)


_ROWS_OF_PAIRS = _rows_of_pairs()
# a plain (read-only) row type per table, with the table's column names
_PAIR_ROW_TYPES = [
    namedtuple(
        f"{table.__name__}Row",
        ["id", "issue_pair_id", "synced_at", *(c.key for c in _string_columns(table))],
    )
    for table in _PAIR_TABLES
]


def pair_rows(session: Session, issue_pair_id: int) -> dict[type, list[Any]]:
    """The comment, attachment and link pairs of an issue pair as plain rows (their column
    names as attributes), by table, in one SELECT."""
    out: dict[type, list[Any]] = {table: [] for table in _PAIR_TABLES}
    for row in session.connection().execute(_ROWS_OF_PAIRS, {"b_pair": issue_pair_id}):
        kind, row_id, pair_id, synced_at, *strings = row
        make = _PAIR_ROW_TYPES[kind]
        out[_PAIR_TABLES[kind]].append(
            make(row_id, pair_id, synced_at, *strings[: len(make._fields) - 3])
        )
    return out


def _ref(row: IssuePair | Row[Any]) -> PairRef:
    return PairRef(
        id=row.id,
        pair_id=row.pair_id,
        server_issue_id=row.server_issue_id,
        server_key=row.server_key,
        cloud_issue_id=row.cloud_issue_id,
        cloud_key=row.cloud_key,
        origin=Side(row.origin),
    )


def find_pair(
    session: Session, *, side: Side, issue_id: str, pair_id: str | None = None
) -> PairRef | None:
    stmt = _FIND_PAIR[side, pair_id is not None]
    # on the session's connection: a table statement needs none of Session.execute's ORM
    # handling (no entity, nothing to autoflush for it)
    row = session.connection().execute(stmt, {"b_issue": issue_id, "b_pair": pair_id}).first()
    return None if row is None else _ref(row)


def find_pairs(session: Session, *, side: Side, issue_id: str) -> list[PairRef]:
    """Every pair row (of any configured pair) that holds the issue on ``side``."""
    column = IssuePair.server_issue_id if side is Side.SERVER else IssuePair.cloud_issue_id
    rows = session.scalars(select(IssuePair).where(column == issue_id).order_by(IssuePair.id))
    return [_ref(row) for row in rows]


def find_pair_by_key(
    session: Session, *, side: Side, key: str, pair_id: str | None = None
) -> PairRef | None:
    column = IssuePair.server_key if side is Side.SERVER else IssuePair.cloud_key
    stmt = select(IssuePair).where(column == key)
    if pair_id is not None:
        stmt = stmt.where(IssuePair.pair_id == pair_id)
    row = session.scalars(stmt.order_by(IssuePair.id)).first()
    return None if row is None else _ref(row)


def link_pair(
    session: Session,
    *,
    pair_id: str,
    server: tuple[str, str],
    cloud: tuple[str, str],
    origin: Side,
    now: datetime,
) -> PairRef:
    """Record that Server issue ``server`` (id, key) mirrors Cloud issue ``cloud``.

    Idempotent for the same two issues; an issue already paired with a different one is a
    :class:`SkipItemError` (the cross-references disagree; a person must look)."""
    existing_s = find_pair(session, side=Side.SERVER, issue_id=server[0], pair_id=pair_id)
    existing_c = find_pair(session, side=Side.CLOUD, issue_id=cloud[0], pair_id=pair_id)
    for existing in (existing_s, existing_c):
        if existing is not None:
            if (existing.server_issue_id, existing.cloud_issue_id) == (server[0], cloud[0]):
                return existing
            raise SkipItemError(
                f"{existing.server_key} is already paired with {existing.cloud_key}; "
                f"refusing to pair {server[1]} with {cloud[1]}"
            )
    row = IssuePair(
        pair_id=pair_id,
        server_issue_id=server[0],
        server_key=server[1],
        cloud_issue_id=cloud[0],
        cloud_key=cloud[1],
        origin=origin.value,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _ref(row)


def update_key(session: Session, ref: PairRef, side: Side, key: str, *, now: datetime) -> None:
    """An issue moved to another project: keep the pair, change the key."""
    row = session.get(IssuePair, ref.id)
    if row is None:
        raise SkipItemError(f"issue pair {ref.id} no longer exists")
    if side is Side.SERVER:
        row.server_key = key
    else:
        row.cloud_key = key
    row.updated_at = now


@dataclass(frozen=True)
class SnapshotData:
    values: dict[str, Any]
    hashes: dict[str, str]
    issue_updated: datetime | None
    synced_at: datetime


def load_snapshot(session: Session, issue_pair_id: int, side: Side) -> SnapshotData | None:
    params = {"b_pair": issue_pair_id, "b_side": side.value}
    row = session.connection().execute(_LOAD_SNAPSHOT, params).first()
    return None if row is None else _snapshot(row)


def load_snapshots(session: Session, issue_pair_id: int) -> dict[Side, SnapshotData | None]:
    """Both sides' snapshots of a pair (None for a side not synced yet), in one SELECT."""
    out: dict[Side, SnapshotData | None] = {Side.SERVER: None, Side.CLOUD: None}
    for row in session.connection().execute(_LOAD_SNAPSHOTS, {"b_pair": issue_pair_id}):
        out[Side(row.side)] = _snapshot(row)
    return out


def _snapshot(row: Any) -> SnapshotData:
    return SnapshotData(
        values=dict(row.fields),
        hashes={k: str(v) for k, v in row.field_hashes.items()},
        issue_updated=row.issue_updated,
        synced_at=row.synced_at,
    )


def save_snapshot(
    session: Session,
    issue_pair_id: int,
    side: Side,
    values: Mapping[str, Any],
    *,
    issue_updated: datetime | None,
    now: datetime,
) -> SnapshotData:
    """Store what ``side`` holds after a sync (values and their hashes)."""
    params = _snapshot_params(issue_pair_id, side, values, issue_updated, now)
    # an update first: every snapshot but a new pair's first is there already. A Snapshot
    # object of this row loaded in this session is not refreshed (none is: see above)
    conn = session.connection()
    if conn.execute(_UPDATE_SNAPSHOT, params).rowcount == 0:
        conn.execute(_INSERT_SNAPSHOT, params)
    return SnapshotData(dict(params["b_fields"]), params["b_hashes"], issue_updated, now)


def save_snapshots(
    session: Session,
    issue_pair_id: int,
    values: Mapping[Side, Mapping[str, Any]],
    *,
    issue_updated: Mapping[Side, datetime | None],
    now: datetime,
) -> None:
    """:func:`save_snapshot` of both sides, as one UPDATE of the two rows (what every job
    of a synced pair does); a side without its row yet is saved on its own."""
    params = [
        _snapshot_params(issue_pair_id, s, values[s], issue_updated[s], now)
        for s in (Side.SERVER, Side.CLOUD)
    ]
    if session.connection().execute(_UPDATE_SNAPSHOT, params).rowcount == len(params):
        return
    for s in (Side.SERVER, Side.CLOUD):  # updated again as the same, or inserted
        save_snapshot(session, issue_pair_id, s, values[s], issue_updated=issue_updated[s], now=now)


def _snapshot_params(
    issue_pair_id: int,
    side: Side,
    values: Mapping[str, Any],
    issue_updated: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "b_pair": issue_pair_id,
        "b_side": side.value,
        "b_fields": {name: _jsonable(value) for name, value in values.items()},
        "b_hashes": {name: value_hash(value) for name, value in values.items()},
        "b_updated": issue_updated,
        "b_synced": now,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def record_conflict(
    session: Session, issue_pair_id: int | None, conflict: ConflictRecord, *, now: datetime
) -> None:
    session.add(
        Conflict(
            issue_pair_id=issue_pair_id,
            field=conflict.field,
            server_value={"value": _jsonable(conflict.server_value)},
            cloud_value={"value": _jsonable(conflict.cloud_value)},
            rule=conflict.rule.value,
            winner=conflict.winner.value if conflict.winner is not None else "none",
            detected_at=now,
            reviewed=False,
        )
    )


def find_comment_pair(
    session: Session, issue_pair_id: int, side: Side, comment_id: str
) -> CommentPair | None:
    column = CommentPair.server_comment_id if side is Side.SERVER else CommentPair.cloud_comment_id
    return session.scalars(
        select(CommentPair).where(CommentPair.issue_pair_id == issue_pair_id, column == comment_id)
    ).first()


def link_comments(
    session: Session,
    issue_pair_id: int,
    *,
    server_comment_id: str,
    cloud_comment_id: str,
    origin: Side,
    server_body: Any,
    cloud_body: Any,
    now: datetime,
) -> None:
    """Record a mirrored comment with the hash of each side's body (edits show as changes)."""
    row = find_comment_pair(session, issue_pair_id, Side.SERVER, server_comment_id)
    if row is None:
        row = CommentPair(
            issue_pair_id=issue_pair_id,
            server_comment_id=server_comment_id,
            cloud_comment_id=cloud_comment_id,
            origin=origin.value,
            server_hash=value_hash(server_body),
            cloud_hash=value_hash(cloud_body),
            synced_at=now,
        )
        session.add(row)
    else:
        row.server_hash = value_hash(server_body)
        row.cloud_hash = value_hash(cloud_body)
        row.synced_at = now
    session.flush()
