"""Merging concurrent single-issue reads into bulk reads.

The sync engine runs jobs concurrently and every job reads its issues one by one. Each HTTP
call has a fixed cost on both ends, so reads of different issues that overlap in time are
worth sending as one request. :class:`ReadBatcher` does that for one kind of read (one set of
``fields``/``expand``): a read that finds nothing of its kind in flight and nothing queued is
sent at once on its own (a lone caller keeps its exact calls and latency); reads arriving while
the lane is busy wait and leave together in the next request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Generic, TypeVar

from jirabridge.errors import BadInputError, SkipItemError

__all__ = ["ReadBatcher"]

T = TypeVar("T")

_MISSING = object()
"""A batch's answer for a ref it did not cover: the caller reads it on its own."""


class ReadBatcher(Generic[T]):
    """One lane of coalesced reads.

    ``one(ref)`` reads a single item (its errors are the caller's errors); ``many(refs)``
    reads several in one request and answers the ones it found, keyed by the asked ref.
    Whatever ``many`` leaves out, and every ref of a batch whose request failed on an item
    level (:class:`SkipItemError`, a malformed answer), is read again by its caller with
    ``one``, so error semantics stay those of the single read. Other failures (Jira down,
    credentials refused) go to every caller of the batch: reading each alone would only
    repeat them.
    """

    def __init__(
        self,
        one: Callable[[str], Awaitable[T]],
        many: Callable[[Sequence[str]], Awaitable[Mapping[str, T]]],
        *,
        max_batch: int = 100,
        max_in_flight: int = 1,
    ) -> None:
        if max_batch < 2 or max_in_flight < 1:
            raise ValueError("a batch holds at least 2 reads and at least 1 may be in flight")
        self._one = one
        self._many = many
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._queue: list[tuple[str, asyncio.Future[object]]] = []
        self._tasks: set[asyncio.Task[None]] = set()  # held so they are not collected

    async def get(self, ref: str) -> T:
        if self._in_flight < self._max_in_flight and not self._queue:
            self._in_flight += 1
            try:
                return await self._one(ref)
            finally:
                self._in_flight -= 1
                self._kick()
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        entry = (ref, future)
        self._queue.append(entry)
        try:
            answer = await future
        except asyncio.CancelledError:
            # still waiting in the queue: leave it; already in a batch: the batch skips it
            if entry in self._queue:
                self._queue.remove(entry)
            raise
        if answer is _MISSING:
            return await self._one(ref)
        return answer  # type: ignore[return-value]

    def _kick(self) -> None:
        """Send what is queued while there is room in flight."""
        while self._queue and self._in_flight < self._max_in_flight:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[str, asyncio.Future[object]]]) -> None:
        try:
            waiting = [(ref, fut) for ref, fut in batch if not fut.done()]
            if len(waiting) == 1:
                ref, fut = waiting[0]
                await self._answer_one(ref, fut)
            elif waiting:
                await self._answer_many(waiting)
        except asyncio.CancelledError:
            for _ref, fut in batch:
                fut.cancel()
            raise
        finally:
            self._in_flight -= 1
            self._kick()

    async def _answer_one(self, ref: str, fut: asyncio.Future[object]) -> None:
        try:
            value: object = await self._one(ref)
        except Exception as exc:  # the caller's own error, raised in its task
            if not fut.done():
                fut.set_exception(exc)
            return
        if not fut.done():
            fut.set_result(value)

    async def _answer_many(self, batch: list[tuple[str, asyncio.Future[object]]]) -> None:
        refs = list(dict.fromkeys(ref for ref, _fut in batch))
        try:
            found: Mapping[str, object] = await self._many(refs)
        except (SkipItemError, BadInputError):
            found = {}  # every caller reads its own issue: its own error, if any
        except Exception as exc:
            for _ref, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for ref, fut in batch:
            if not fut.done():
                fut.set_result(found.get(ref, _MISSING))
