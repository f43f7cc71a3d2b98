"""`jirabridge demo`: two emulated sites kept in sync."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer

T = TypeVar("T")


class _Interrupted(Exception):
    """Ctrl-C reached the demo."""


def _run_interruptibly(make: Coroutine[Any, Any, T]) -> T:
    """Run the demo; Ctrl-C (SIGINT) stops it whatever it is doing.

    ``asyncio.run`` turns SIGINT into one cancellation of the main task, which is lost when it
    lands while a worker is inside a block that swallows its own cancellation. Here the
    handler keeps cancelling the main task until it ends, then reports the interrupt."""

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        interrupted = asyncio.Event()

        async def keep_cancelling() -> None:
            # again, with growing gaps, so the demo's own clean-up gets time to finish
            gap = 0.5
            while not task.done():
                task.cancel()
                await asyncio.sleep(gap)
                gap = min(gap * 2, 4.0)

        pending: list[asyncio.Task[None]] = []

        def on_sigint() -> None:
            if not interrupted.is_set():
                interrupted.set()
                pending.append(loop.create_task(keep_cancelling()))

        loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            return await make
        except asyncio.CancelledError:
            if interrupted.is_set():
                raise _Interrupted from None
            raise
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            if interrupted.is_set():
                raise _Interrupted

    return asyncio.run(main())


def demo(
    issues: int = typer.Option(20, "--issues", min=3, help="Issues in the synced Server project."),
    keep_running: bool = typer.Option(
        False, "--keep-running", help="Leave emulators and engine up until Ctrl-C."
    ),
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Where the config and the SQLite store go (default: a temp dir)."
    ),
    timeout: float = typer.Option(
        60.0, "--timeout", min=0.5, help="Seconds the scripted changes get to converge."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    skip: list[str] = typer.Option(
        [],
        "--skip",
        help="Leave out a kind of scripted change (repeatable): text, priority, labels, "
        "custom-field, status, comment, mention, assignee, link, sprint, create, lost-webhook.",
    ),
    pause_engine: bool = typer.Option(
        False, "--pause-engine", hidden=True, help="Stop the engine after the backfill."
    ),
) -> None:
    """Start a Server and a Cloud emulator, sync them, make scripted edits on both sides and
    show them converge. Exits 0 only when every scripted change converged."""
    import logging

    from rich.console import Console

    from jirabridge.demo import DemoOptions, DemoReport, print_summary, run_demo
    from jirabridge.errors import JirabridgeError

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    console = Console(stderr=as_json)

    def show(report: DemoReport) -> None:
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2))
        else:
            print_summary(report, console, changes=False)  # the live table stays on screen

    try:
        options = DemoOptions(
            issues=issues,
            timeout=timeout,
            keep_running=keep_running,
            workdir=workdir,
            skip=tuple(skip),
            pause_engine=pause_engine,
            live=not as_json,
        )
        report = _run_interruptibly(run_demo(options, console, report_ready=show))
    except (KeyboardInterrupt, _Interrupted):
        console.print("Interrupted; everything was stopped.")
        raise typer.Exit(130) from None
    except JirabridgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)
