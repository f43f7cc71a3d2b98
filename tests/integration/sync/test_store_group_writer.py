"""The store's group writer: concurrent writes share one transaction, each in a SAVEPOINT;
a failing write fails only itself, a failing COMMIT is retried one write at a time, and a
cancelled caller's write is all or nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from jirabridge.errors import RetryLaterError
from jirabridge.sync.store import Store, WebhookSeen

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def seen(identifier: str) -> WebhookSeen:
    return WebhookSeen(
        site="s", identifier=identifier, received_at=AT, expires_at=AT + timedelta(hours=1)
    )


def adds(*identifiers: str) -> Callable[[Session], str]:
    def fn(session: Session) -> str:
        for identifier in identifiers:
            session.add(seen(identifier))
        session.flush()
        return identifiers[0]

    return fn


def stored(store: Store) -> set[str]:
    with store.session() as session:
        return set(session.scalars(select(WebhookSeen.identifier)))


@pytest.fixture
def commits(store: Store) -> Iterator[list[int]]:
    """One entry per COMMIT of a top-level transaction (savepoint releases not counted)."""
    counted: list[int] = []

    def on_commit(conn: Any) -> None:
        counted.append(1)

    event.listen(store.engine, "commit", on_commit)
    yield counted
    event.remove(store.engine, "commit", on_commit)


class Gate:
    """A write that holds the writer's thread until opened: what is asked for meanwhile
    queues up for the next transaction."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def fn(self, session: Session) -> str:
        self.entered.set()
        assert self.opened.wait(10)
        return "gate"

    async def hold(self, store: Store) -> asyncio.Task[str]:
        task = asyncio.ensure_future(store.write(self.fn))
        assert await asyncio.to_thread(self.entered.wait, 10)
        return task


def test_concurrent_writes_share_one_transaction(store: Store, commits: list[int]) -> None:
    async def main() -> list[str]:
        gate = Gate()
        held = await gate.hold(store)
        writes = [asyncio.ensure_future(store.write(adds(f"w{i}"))) for i in range(8)]
        await asyncio.sleep(0.05)
        assert not any(w.done() for w in writes)  # not answered before their commit
        gate.opened.set()
        assert await held == "gate"
        return list(await asyncio.gather(*writes))

    assert asyncio.run(main()) == [f"w{i}" for i in range(8)]
    assert stored(store) == {f"w{i}" for i in range(8)}
    assert len(commits) == 2  # the gate's own, then all eight in one


def test_a_failing_write_fails_alone_and_leaves_nothing(store: Store, commits: list[int]) -> None:
    def fails(session: Session) -> None:
        session.add(seen("bad1"))
        session.flush()
        raise ValueError("boom")

    async def main() -> list[Any]:
        store_dup = adds("dup")
        await store.write(store_dup)  # so that a second insert of it breaks the key
        commits.clear()
        gate = Gate()
        held = await gate.hold(store)
        writes = [
            asyncio.ensure_future(store.write(fn))
            for fn in (adds("a"), fails, adds("b"), adds("bad2", "dup"), adds("c"))
        ]
        gate.opened.set()
        await held
        return list(await asyncio.gather(*writes, return_exceptions=True))

    a, failed, b, conflict, c = asyncio.run(main())
    assert (a, b, c) == ("a", "b", "c")
    assert isinstance(failed, ValueError) and str(failed) == "boom"
    # a broken constraint reaches the caller as Store.session reports it: a retry
    assert isinstance(conflict, RetryLaterError)
    assert stored(store) == {"dup", "a", "b", "c"}  # nothing of the failed two
    assert len(commits) == 2


def test_a_failing_commit_retries_each_write_alone(store: Store, commits: list[int]) -> None:
    """A COMMIT refused because of one write (here: the database refuses any COMMIT of a
    transaction holding it) does not fail the others: each is written again in its own
    transaction; the culprit alone fails."""
    poisoned = threading.local()

    def poison(session: Session) -> str:
        session.add(seen("poison"))
        poisoned.on = True
        return "poison"

    def refuse(conn: Any) -> None:
        if getattr(poisoned, "on", False):
            poisoned.on = False
            raise RuntimeError("commit refused")

    async def main() -> list[Any]:
        gate = Gate()
        held = await gate.hold(store)
        writes = [
            asyncio.ensure_future(store.write(fn))
            for fn in (adds("x"), poison, adds("y"), adds("z"))
        ]
        gate.opened.set()
        await held
        return list(await asyncio.gather(*writes, return_exceptions=True))

    event.listen(store.engine, "commit", refuse)
    try:
        transactions = store.writer.transactions
        commits.clear()
        x, failed, y, z = asyncio.run(main())
    finally:
        event.remove(store.engine, "commit", refuse)
    assert (x, y, z) == ("x", "y", "z")
    assert isinstance(failed, RuntimeError) and str(failed) == "commit refused"
    assert stored(store) == {"x", "y", "z"}
    # the gate, the refused group, then four alone (the poisoned one refused again)
    assert store.writer.transactions - transactions == 1 + 1 + 4
    assert len(commits) == 1 + 1 + 4


def test_a_caller_cancelled_before_its_turn_writes_nothing(store: Store) -> None:
    ran: list[str] = []

    def cancelled_fn(session: Session) -> None:
        ran.append("cancelled")
        session.add(seen("cancelled"))

    async def main() -> str:
        gate = Gate()
        held = await gate.hold(store)
        victim = asyncio.ensure_future(store.write(cancelled_fn))
        other = asyncio.ensure_future(store.write(adds("other")))
        await asyncio.sleep(0)
        victim.cancel()
        gate.opened.set()
        await held
        with pytest.raises(asyncio.CancelledError):
            await victim
        return await other

    assert asyncio.run(main()) == "other"
    assert ran == []
    assert stored(store) == {"other"}


def test_a_caller_cancelled_during_its_write_gets_all_of_it_or_none(store: Store) -> None:
    """Cancelled while its function runs: the function is not torn in half (the store
    sees both of its rows once committed, with the others' writes), only its answer is
    dropped; and a function that fails after the cancel leaves none of its rows."""
    inside = threading.Event()
    go_on = threading.Event()

    def slow(names: tuple[str, str], fail: bool) -> Callable[[Session], None]:
        def fn(session: Session) -> None:
            session.add(seen(names[0]))
            session.flush()
            inside.set()
            assert go_on.wait(10)
            session.add(seen(names[1]))
            if fail:
                raise ValueError("late failure")

        return fn

    async def run(fn: Callable[[Session], None], also: str) -> str:
        inside.clear()
        go_on.clear()
        gate = Gate()
        held = await gate.hold(store)
        victim = asyncio.ensure_future(store.write(fn))
        other = asyncio.ensure_future(store.write(adds(also)))
        gate.opened.set()
        await held
        assert await asyncio.to_thread(inside.wait, 10)
        victim.cancel()
        await asyncio.sleep(0.01)
        go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await victim
        return await other

    assert asyncio.run(run(slow(("k1", "k2"), fail=False), "o1")) == "o1"
    assert stored(store) == {"k1", "k2", "o1"}
    assert asyncio.run(run(slow(("f1", "f2"), fail=True), "o2")) == "o2"
    assert stored(store) == {"k1", "k2", "o1", "o2"}
    # and the writer goes on working
    assert asyncio.run(store.write(adds("after"))) == "after"


def test_rows_returned_survive_a_later_write_rolled_back(store: Store) -> None:
    """What a function returns is its own: another function's savepoint rolled back in
    the same transaction does not expire it (nor may it see its objects)."""
    asyncio.run(store.write(adds("kept")))

    def read(session: Session) -> WebhookSeen:
        row = session.get(WebhookSeen, ("s", "kept"))
        assert row is not None
        return row

    def change_and_fail(session: Session) -> None:
        row = session.get(WebhookSeen, ("s", "kept"))
        assert row is not None
        row.expires_at = AT
        session.flush()
        raise ValueError("rolled back")

    async def main() -> Any:
        gate = Gate()
        held = await gate.hold(store)
        writes = [asyncio.ensure_future(store.write(fn)) for fn in (read, change_and_fail)]
        gate.opened.set()
        await held
        return await asyncio.gather(*writes, return_exceptions=True)

    row, failed = asyncio.run(main())
    assert isinstance(failed, ValueError)
    assert isinstance(row, WebhookSeen)
    assert row.identifier == "kept" and row.expires_at == AT + timedelta(hours=1)
    with store.session() as session:
        again = session.get(WebhookSeen, ("s", "kept"))
        assert again is not None and again.expires_at == AT + timedelta(hours=1)


def test_writes_from_several_event_loops(store: Store) -> None:
    assert asyncio.run(store.write(adds("loop1"))) == "loop1"
    assert asyncio.run(store.write(adds("loop2"))) == "loop2"
    assert stored(store) == {"loop1", "loop2"}


def test_a_store_error_alone_is_the_store_s(store: Store) -> None:
    asyncio.run(store.write(adds("once")))
    with pytest.raises(RetryLaterError, match="conflict"):
        asyncio.run(store.write(adds("once")))


def grouped(store: Store, *calls: tuple[Callable[[Session], Any], bool]) -> list[Any]:
    """Run ``(fn, savepoint)`` calls in one group (queued behind a gate): their outcomes."""

    async def main() -> list[Any]:
        gate = Gate()
        held = await gate.hold(store)
        writes = [asyncio.ensure_future(store.write(fn, savepoint=sp)) for fn, sp in calls]
        gate.opened.set()
        await held
        return list(await asyncio.gather(*writes, return_exceptions=True))

    return asyncio.run(main())


@pytest.fixture
def savepoints(store: Store) -> Iterator[list[str]]:
    """The name of every SAVEPOINT begun on the store."""
    names: list[str] = []

    def on_savepoint(conn: Any, name: str) -> None:
        names.append(str(name))

    event.listen(store.engine, "savepoint", on_savepoint)
    yield names
    event.remove(store.engine, "savepoint", on_savepoint)


def reads(identifier: str) -> Callable[[Session], bool]:
    def fn(session: Session) -> bool:
        return session.get(WebhookSeen, ("s", identifier)) is not None

    return fn


def test_without_savepoint_no_savepoint_is_made(
    store: Store, commits: list[int], savepoints: list[str]
) -> None:
    """``savepoint=False`` functions share the transaction without a SAVEPOINT of their own;
    the others keep theirs. A group of one makes none either way."""
    asyncio.run(store.write(adds("there")))  # (a new connection's first use commits too)
    assert savepoints == []  # alone: its own transaction is enough

    commits.clear()
    outcomes = grouped(store, (reads("there"), False), (adds("new"), True), (reads("no"), False))
    assert outcomes == [True, "new", False]
    assert len(savepoints) == 1  # the write's only
    assert len(commits) == 1  # the group's (the gate touched no table: nothing to commit)
    assert stored(store) == {"there", "new"}


def test_without_savepoint_a_failure_retries_everyone_alone_and_leaves_nothing(
    store: Store, commits: list[int]
) -> None:
    """A function without a savepoint that wrote and then raised cannot be rolled back
    alone: the transaction is given up and everyone runs again in one of their own; the
    caller gets its error, its rows are nowhere, the others' are stored."""
    runs: list[str] = []

    def writes_then_fails(session: Session) -> None:
        runs.append("failing")
        session.add(seen("half"))
        session.flush()
        raise ValueError("not this one")

    asyncio.run(store.write(adds("warm")))  # a new connection's first use commits too
    transactions = store.writer.transactions
    commits.clear()
    a, failed, b = grouped(store, (adds("a"), True), (writes_then_fails, False), (adds("b"), True))
    assert (a, b) == ("a", "b")
    assert isinstance(failed, ValueError) and str(failed) == "not this one"
    assert runs == ["failing", "failing"]  # in the group, then alone
    # the gate, the given-up group, then the three alone (two of them committed)
    assert store.writer.transactions - transactions == 1 + 1 + 3
    assert len(commits) == 2
    assert stored(store) == {"warm", "a", "b"}


def test_without_savepoint_a_store_error_retries_everyone_alone(
    store: Store, commits: list[int]
) -> None:
    """A store error may leave the transaction unusable (PostgreSQL aborts it): the others
    are written again, each alone, and the culprit gets the store's error."""

    def broken(session: Session) -> None:
        session.execute(text("SELECT * FROM no_such_table"))

    asyncio.run(store.write(adds("warm")))  # a new connection's first use commits too
    transactions = store.writer.transactions
    commits.clear()
    x, failed, y = grouped(store, (adds("x"), True), (broken, False), (adds("y"), True))
    assert (x, y) == ("x", "y")
    assert isinstance(failed, Exception) and not isinstance(failed, AssertionError)
    # the gate, the failed group, then the three alone (two of them committed)
    assert store.writer.transactions - transactions == 1 + 1 + 3
    assert len(commits) == 2
    assert stored(store) == {"warm", "x", "y"}
