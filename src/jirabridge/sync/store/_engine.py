"""Opening the state store: engine set-up per dialect and Alembic ``upgrade head`` on start."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from jirabridge.errors import FixConfigError, RetryLaterError, SkipItemError, redact

if TYPE_CHECKING:
    from jirabridge.sync.store._group import GroupWriter

__all__ = ["Store", "open_store", "translate_error"]

T = TypeVar("T")

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Store:
    """The state store: an engine, a session factory, and the migrations.

    SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions (writers queue on the lock
    instead of failing halfway) and a busy timeout. PostgreSQL may be given a ``schema``; it
    is created if missing and put first on the search path (tests use one per worker).
    """

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = url
        self.schema = schema
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise FixConfigError(f"bad schema name {schema!r}")
        self.engine: Engine = _make_engine(url, schema=schema, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer, and every transaction here takes the write lock: this
        # process's threads take turns on a lock (handed over at once) instead of SQLite's
        # busy handler, which sleeps in growing steps up to 100 ms and starves waiters
        self._turn = threading.RLock() if self.dialect == "sqlite" else None
        self._writer: GroupWriter | None = None
        self._writer_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on error."""
        turn = self._turn
        if turn is not None and not turn.acquire(timeout=30):
            turn = None  # not our turn yet after 30 s: leave it to SQLite's busy handler
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise translate_error(exc) from exc
        finally:
            if turn is not None:
                turn.release()

    async def write(self, fn: Callable[[Session], T], *, savepoint: bool = True) -> T:
        """``fn(session)`` in a transaction shared with other concurrent ``write`` calls
        (each in its own SAVEPOINT unless ``savepoint=False``; see :class:`GroupWriter`):
        its result once committed."""
        return await self.writer.write(fn, savepoint=savepoint)

    @property
    def writer(self) -> GroupWriter:
        """The store's group writer (one thread), started on first use."""
        writer = self._writer
        if writer is None:
            from jirabridge.sync.store._group import GroupWriter  # it builds on this module

            with self._writer_lock:
                if self._writer is None:
                    self._writer = GroupWriter(self)
                writer = self._writer
        return writer

    def migrate(self) -> None:
        """Apply every Alembic migration not yet applied (``upgrade head``)."""
        try:
            with self.engine.connect() as conn:
                sqlite = self.dialect == "sqlite"
                if sqlite:
                    # a migration may recreate a table (batch mode): dropping the old one
                    # with foreign keys on would delete the rows referring to it (cascade).
                    # The pragma does nothing inside a transaction: set it before BEGIN
                    _sqlite_pragma(conn, "PRAGMA foreign_keys=OFF")
                try:
                    with conn.begin():
                        cfg = alembic_config()
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                        if sqlite:
                            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                            if broken is not None:
                                raise FixConfigError(
                                    f"state store migration left a broken reference: {broken}"
                                )
                finally:
                    if sqlite:
                        _sqlite_pragma(conn, "PRAGMA foreign_keys=ON")
        except SQLAlchemyError as exc:
            raise translate_error(exc) from exc

    def dispose(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        self.engine.dispose()


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations shipped in the package."""
    location = resources.files("jirabridge.sync.store") / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(str(location))))
    return cfg


def _make_engine(url: str, *, schema: str | None, echo: bool) -> Engine:
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        _sqlite_setup(engine)
        return engine
    if schema is not None:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    try:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise FixConfigError(f"bad store URL {redact(url)}: {exc}") from exc
    if schema is not None:
        try:
            with create_engine(url).begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        except SQLAlchemyError as exc:
            raise translate_error(exc) from exc
    return engine


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    """Run ``pragma`` on the driver's connection, outside any transaction."""
    driver = conn.connection.driver_connection
    if driver is not None:
        driver.execute(pragma)


def translate_error(exc: SQLAlchemyError) -> Exception:
    """The store's errors by what the caller should do. A constraint broken (IntegrityError)
    is a race another transaction won: try again, and the attempts count towards the dead
    letters. A value the database refuses (DataError: too long, out of range) fails the same
    way every time: this item is skipped (dead-lettered), not retried forever."""
    text_ = redact(str(exc.orig) if isinstance(exc, DBAPIError) else str(exc))
    if isinstance(exc, OperationalError):
        return RetryLaterError(f"state store unavailable: {text_}")
    if isinstance(exc, IntegrityError):
        return RetryLaterError(f"state store conflict (a concurrent change; try again): {text_}")
    if isinstance(exc, DataError):
        return SkipItemError(f"state store refused a value: {text_}")
    return FixConfigError(f"state store error: {text_}")


def open_store(url: str, *, schema: str | None = None, migrate: bool = True) -> Store:
    """Open the store at ``url`` and bring its schema to the newest version."""
    store = Store(url, schema=schema)
    if migrate:
        store.migrate()
    return store
