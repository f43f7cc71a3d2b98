"""Run a command's event loop so that SIGINT (and SIGTERM where asked) always stop it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

__all__ = ["Interrupted", "run_interruptibly"]

T = TypeVar("T")


class Interrupted(Exception):
    """A stop signal reached the command (it stopped, gracefully or not)."""


def run_interruptibly(
    make: Callable[[asyncio.Event], Coroutine[Any, Any, T]],
    *,
    signals: Sequence[signal.Signals] = (signal.SIGINT,),
    grace: float = 0.0,
) -> T:
    """Run ``make(stop)`` in a new event loop; a signal stops it whatever it is doing.

    The first signal sets ``stop`` (the graceful way). If the coroutine has not ended
    ``grace`` seconds later (or at a second signal), its task is cancelled, and cancelled
    again with growing gaps until it ends: ``asyncio.run`` cancels once, and one
    cancellation is lost when it lands in code that swallows it while cleaning up.

    Returns the coroutine's result; raises :class:`Interrupted` when a signal came and the
    coroutine ended (or was cancelled) without an error of its own; such an error, even one
    raised while stopping, propagates as it is."""

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        again = asyncio.Event()
        cancelling: list[asyncio.Task[None]] = []

        async def keep_cancelling() -> None:
            if grace > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(again.wait(), grace)
            gap = 0.5  # growing, so the command's own clean-up gets time to finish
            while not task.done():
                task.cancel()
                await asyncio.sleep(gap)
                gap = min(gap * 2, 4.0)

        def on_signal() -> None:
            stop.set()
            if cancelling:
                again.set()
            else:
                cancelling.append(loop.create_task(keep_cancelling()))

        for sig in signals:
            loop.add_signal_handler(sig, on_signal)
        try:
            result = await make(stop)
        except asyncio.CancelledError:
            if cancelling:
                raise Interrupted from None
            raise
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            for helper in cancelling:
                helper.cancel()
        # a real error raised after the signal (above) is reported as itself, not hidden
        if cancelling:
            raise Interrupted
        return result

    return asyncio.run(main())
