"""The shared SIGINT/SIGTERM helper of `jirabridge run` and `jirabridge demo`."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from jirabridge.cli._interrupt import Interrupted, run_interruptibly


def test_without_a_signal_the_result_comes_back() -> None:
    async def work(stop: asyncio.Event) -> int:
        await asyncio.sleep(0)
        return 7

    assert run_interruptibly(work) == 7


def test_the_first_signal_asks_for_a_graceful_stop() -> None:
    seen: list[str] = []

    async def serve(stop: asyncio.Event) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        await stop.wait()
        seen.append("stopped by itself")

    with pytest.raises(Interrupted):
        run_interruptibly(serve, signals=(signal.SIGTERM,), grace=60)
    assert seen == ["stopped by itself"]


def test_a_coroutine_that_swallows_a_cancellation_is_cancelled_again() -> None:
    swallowed: list[int] = []

    async def stubborn(stop: asyncio.Event) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        while True:  # ignores stop, and the first cancellation
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                swallowed.append(1)
                if len(swallowed) > 1:
                    raise

    with pytest.raises(Interrupted):
        run_interruptibly(stubborn)
    assert len(swallowed) == 2


def test_a_second_signal_cuts_the_grace_short() -> None:
    async def stubborn(stop: asyncio.Event) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        await stop.wait()
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(3600)  # ignores the stop; the grace is an hour

    with pytest.raises(Interrupted):
        run_interruptibly(stubborn, grace=3600)


def test_signal_handlers_are_removed_afterwards() -> None:
    before = signal.getsignal(signal.SIGINT)

    async def work(stop: asyncio.Event) -> None:
        return None

    run_interruptibly(work)
    assert signal.getsignal(signal.SIGINT) is before


def test_a_real_error_raised_while_stopping_is_not_hidden() -> None:
    async def failing(stop: asyncio.Event) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        await stop.wait()
        raise RuntimeError("state store unreachable while giving jobs back")

    with pytest.raises(RuntimeError, match="state store unreachable"):
        run_interruptibly(failing, signals=(signal.SIGTERM,), grace=60)


def test_a_real_error_raised_while_cancelled_is_not_hidden() -> None:
    async def failing(stop: asyncio.Event) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        try:
            await asyncio.sleep(3600)  # ignores the stop: it is cancelled
        except asyncio.CancelledError:
            raise OSError("could not release the lease file") from None

    with pytest.raises(OSError, match="lease file"):
        run_interruptibly(failing)
