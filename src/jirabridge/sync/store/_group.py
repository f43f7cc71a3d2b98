"""Group commit: the store writes of many concurrent callers in one transaction.

Every transaction costs a thread hop, a ``BEGIN`` (``BEGIN IMMEDIATE`` on SQLite: the write
lock) and a ``COMMIT`` (a WAL sync). With several jobs finishing at once most of that can be
shared: :class:`GroupWriter` runs whatever was asked for while one transaction was written
in the next one, on its own thread, each caller's function inside its own SAVEPOINT (or,
for one that seldom fails, none: the applier's per-job read and commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from jirabridge.errors import redact
from jirabridge.sync.store._engine import Store, translate_error

__all__ = ["GroupWriter"]

log = logging.getLogger("jirabridge.sync.store")

T = TypeVar("T")

# a cap on one transaction: a long one holds SQLite's write lock (and PostgreSQL's row
# locks) while its last callers wait for the commit
_MAX_BATCH = 64


@dataclass
class _Call:
    fn: Callable[[Session], Any]
    answer: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    savepoint: bool = True


@dataclass
class _Done:
    value: Any


_Outcome = _Done | BaseException


class GroupWriter:
    """Runs ``fn(session)`` for concurrent callers, many in one transaction, on one thread.

    Each function runs inside its own SAVEPOINT: one that raises is rolled back alone and
    its caller gets the exception; the others go on. Callers are answered once the COMMIT
    succeeded; when the COMMIT (or the transaction around the savepoints) fails, every
    function of that transaction runs again in a transaction of its own, so one bad write
    never fails another. Store errors reach callers as :meth:`Store.session` raises them.

    Between two functions the session forgets every object it loaded (``expunge_all``): a
    function sees no object of another one, and a later savepoint's rollback cannot expire
    the rows an earlier function returned. A function must not keep using the session
    after it returns.

    A caller cancelled before its function started is left out; once started, the function
    commits or rolls back with its savepoint as for any other caller and only its result is
    dropped. Usable from any number of event loops (answers go back to the caller's loop).

    ``savepoint=False`` saves a function's SAVEPOINT and RELEASE (two statements and the
    session's bookkeeping of a nested transaction) for one that seldom fails: when it
    raises, whatever it is, its writes cannot be rolled back alone (and a store error may
    have left the transaction unusable: PostgreSQL aborts it), so the whole transaction
    goes the failed-COMMIT way, every function again in one of its own. A group of one
    runs in its own transaction, no SAVEPOINT either way.
    """

    def __init__(self, store: Store, *, max_batch: int = _MAX_BATCH) -> None:
        self._store = store
        self._max_batch = max_batch
        # its own thread: the loop's default executor is busy with other database calls and
        # HTTP-free work, and a commit must not queue behind them
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="jirabridge-store-writer")
        self._lock = threading.Lock()
        self._pending: list[_Call] = []
        self._busy = False
        self.transactions = 0  # committed or not: for tests and measurements

    async def write(self, fn: Callable[[Session], T], *, savepoint: bool = True) -> T:
        """``fn(session)`` committed (with the other callers' functions): its result.
        ``savepoint=False``: none for ``fn``; if it raises, its group is retried (see above)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._pending.append(_Call(fn, answer, loop, savepoint))
            start = not self._busy
            self._busy = True
        if start:
            try:
                self._thread.submit(self._drain)
            except RuntimeError:  # shut down
                with self._lock:
                    self._busy = False
                    self._pending = [c for c in self._pending if c.answer is not answer]
                raise
        return await answer

    def close(self) -> None:
        """Finish what is pending and stop the thread."""
        self._thread.shutdown(wait=True)

    # ---- the writer thread --------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            with self._lock:
                # left out: callers cancelled before their function started
                live = [c for c in self._pending if not c.answer.cancelled()]
                batch, self._pending = live[: self._max_batch], live[self._max_batch :]
                if not batch:
                    self._busy = False
                    return
            try:
                outcomes: Sequence[_Outcome] = self._run(batch)
            except BaseException as exc:  # e.g. KeyboardInterrupt in the thread: tell everyone
                outcomes = [exc] * len(batch)
            for call, outcome in zip(batch, outcomes, strict=True):
                with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
                    call.loop.call_soon_threadsafe(_settle, call.answer, outcome)

    def _run(self, calls: Sequence[_Call]) -> list[_Outcome]:
        if len(calls) == 1:
            return [self._alone(calls[0].fn)]
        try:
            self.transactions += 1
            with self._store.session() as session:
                return [
                    _in_savepoint(session, c.fn) if c.savepoint else _bare(session, c.fn)
                    for c in calls
                ]
        except Exception as exc:
            log.info("%d store writes retried one by one: %s", len(calls), redact(str(exc)))
        return [self._alone(c.fn) for c in calls]

    def _alone(self, fn: Callable[[Session], Any]) -> _Outcome:
        try:
            self.transactions += 1
            with self._store.session() as session:
                return _Done(fn(session))
        except Exception as exc:
            return exc


def _in_savepoint(session: Session, fn: Callable[[Session], Any]) -> _Outcome:
    try:
        with session.begin_nested():
            outcome: _Outcome = _Done(fn(session))
    except SQLAlchemyError as exc:
        outcome = translate_error(exc)
        outcome.__cause__ = exc
    except Exception as exc:
        outcome = exc
    session.expunge_all()
    return outcome


def _bare(session: Session, fn: Callable[[Session], Any]) -> _Outcome:
    """``fn`` without a savepoint of its own (``savepoint=False``): whatever it raises fails
    the whole transaction (raised on: :meth:`GroupWriter._run` runs everyone again alone)."""
    outcome = _Done(fn(session))
    session.expunge_all()
    return outcome


def _settle(answer: asyncio.Future[Any], outcome: _Outcome) -> None:
    if answer.done():
        return  # its caller went away
    if isinstance(outcome, _Done):
        answer.set_result(outcome.value)
    else:
        answer.set_exception(outcome)
