"""`jirabridge demo`: two emulated sites kept in sync."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from jirabridge.cli._interrupt import Interrupted, run_interruptibly


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
        report = run_interruptibly(lambda _stop: run_demo(options, console, report_ready=show))
    except (KeyboardInterrupt, Interrupted):
        console.print("Interrupted; everything was stopped.")
        raise typer.Exit(130) from None
    except JirabridgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)
