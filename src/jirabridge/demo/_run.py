"""The demo's course: start everything, backfill, live sync, scripted edits, convergence."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jirabridge.demo._config import CLOUD_SITE, SERVER_SITE
from jirabridge.demo._report import ChangeRow, DemoReport, SiteCalls, change_table
from jirabridge.demo._script import (
    Change,
    ChangeStatus,
    ScriptContext,
    build_script,
    run_make,
)
from jirabridge.demo._sites import PROJECT
from jirabridge.demo._stack import CONFIG_FILE, STORE_FILE, DemoStack
from jirabridge.errors import BadInputError, JirabridgeError

__all__ = ["DemoOptions", "run_demo"]

CHECK_INTERVAL = 0.25
IDLE_SECONDS = 5.0


@dataclass(frozen=True)
class DemoOptions:
    issues: int = 20
    timeout: float = 60.0
    keep_running: bool = False
    workdir: Path | None = None
    skip: tuple[str, ...] = ()
    pause_engine: bool = False  # stop the engine after the backfill (to show a divergence)
    live: bool = True  # progress bars and the live table

    def __post_init__(self) -> None:
        from jirabridge.demo._script import KINDS

        if self.issues < 3:
            raise BadInputError(f"--issues must be at least 3, not {self.issues}")
        if self.timeout <= 0:
            raise BadInputError(f"--timeout must be positive, not {self.timeout}")
        unknown = sorted(set(self.skip) - set(KINDS))
        if unknown:
            raise BadInputError(
                f"unknown change kind(s) to skip: {', '.join(unknown)}; "
                f"choose from {', '.join(KINDS)}"
            )


@contextlib.contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        stale = [p.name for p in (path / STORE_FILE, path / CONFIG_FILE) if p.exists()]
        if stale:
            # the sites are new on every run, so an old store's pairs would point at the
            # wrong issues; never delete what someone may still want
            raise BadInputError(
                f"{path} already holds {' and '.join(stale)} from an earlier run; "
                "pass an empty --workdir or remove them"
            )
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="jirabridge-demo-") as tmp:
        yield Path(tmp)


@dataclass
class _Backfill:
    seconds: float = 0.0
    pairs: int = 0
    notes: list[str] = field(default_factory=list)


async def run_demo(
    options: DemoOptions,
    console: Console,
    *,
    report_ready: Callable[[DemoReport], None] | None = None,
) -> DemoReport:
    """Run the whole demo; the report says what converged. Everything started is stopped
    before this returns or raises (also on Ctrl-C, which arrives as cancellation).
    ``report_ready`` gets the report as soon as it exists (before ``--keep-running``
    waits for Ctrl-C)."""
    with _workdir(options.workdir) as workdir:
        if options.live:
            console.print(f"Starting a Jira Server and a Jira Cloud emulator ({PROJECT} pair)...")
        async with DemoStack(workdir, options.issues) as stack:
            if options.live:
                console.print(
                    f"  Server {stack.server_url}  Cloud {stack.cloud_url}  "
                    f"engine receiver {stack.receiver_url}"
                )
            backfill = await _backfill(stack, options, console)
            if options.pause_engine:
                backfill.notes.append("The engine was stopped after the backfill (--pause-engine).")
            else:
                stack.start_engine()
            ctx = ScriptContext(stack.sites, stack.users, control=stack.control)
            script = build_script(ctx, skip=options.skip)
            await _pick_issues(ctx)
            queue = stack.runner.queue

            def queue_load() -> tuple[int, int]:
                stats = queue.stats()
                return stats.queued, stats.leased

            try:
                await _run_script(script, ctx, options, console, queue_load)
            finally:
                for cleanup in ctx.cleanups:
                    with contextlib.suppress(JirabridgeError):
                        await cleanup(ctx)
            report = _report(stack, options, backfill, script, workdir)
            if report_ready is not None:
                report_ready(report)
            if options.keep_running:
                await _keep_running(stack, console)
            return report


async def _backfill(stack: DemoStack, options: DemoOptions, console: Console) -> _Backfill:
    from sqlalchemy import func, select

    from jirabridge.sync.store import IssuePair

    result = _Backfill()

    def pairs() -> int:
        with stack.runner.store.session() as session:
            return int(session.scalar(select(func.count()).select_from(IssuePair)) or 0)

    started = time.monotonic()
    progress = Progress(
        TextColumn("Backfill"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not options.live,
        transient=False,
    )
    with progress:
        bar = progress.add_task("backfill", total=options.issues)
        task = asyncio.create_task(stack.runner.backfill())
        try:
            while not task.done():
                progress.update(bar, completed=min(await asyncio.to_thread(pairs), options.issues))
                await asyncio.wait({task}, timeout=0.2)
            outcome = task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        result.pairs = await asyncio.to_thread(pairs)
        progress.update(bar, completed=min(result.pairs, options.issues))
    result.seconds = time.monotonic() - started
    for error in outcome.errors:
        result.notes.append(f"backfill: {error}")
    return result


async def _pick_issues(ctx: ScriptContext) -> None:
    """The three oldest Server issues of the pair that have a mirror."""
    keys = []
    async for issue in ctx.server.search(f"project = {PROJECT} ORDER BY key ASC", fields=["key"]):
        if await ctx.mirror(issue.key, SERVER_SITE) is not None:
            keys.append(issue.key)
        if len(keys) == 3:
            break
    if len(keys) < 3:
        raise JirabridgeError("the backfill did not pair three issues; nothing to edit")
    ctx.issue_a, ctx.issue_b, ctx.issue_c = keys


async def _run_script(
    script: list[Change],
    ctx: ScriptContext,
    options: DemoOptions,
    console: Console,
    queue_load: Callable[[], tuple[int, int]],
) -> None:
    """Make each change once what it builds on has converged; check until all converged or
    the timeout; then name what is left (unsupported, diverged, or never made)."""
    deadline = time.monotonic() + options.timeout
    title = "Scripted changes (live sync)"
    live = Live(change_table(script, title), console=console, refresh_per_second=8)
    by_name = {c.name: c for c in script}
    made: set[str] = set()
    idle = _Idle(queue_load, options)
    with live if options.live else contextlib.nullcontext():
        while True:
            for change in script:
                if change.name in made or change.status is not ChangeStatus.PENDING:
                    continue
                if all(by_name[n].status is ChangeStatus.CONVERGED for n in change.after):
                    made.add(change.name)
                    change.made_at = time.monotonic()
                    await run_make(change, ctx)
            await _check_round([c for c in script if c.name in made], ctx)
            if options.live:
                live.update(change_table(script, title))
            if not any(c.status is ChangeStatus.PENDING for c in script):
                break
            if time.monotonic() >= deadline:
                break
            if await idle.settled(script, made):
                break
            await asyncio.sleep(CHECK_INTERVAL)
        _settle(script, made, idle.stopped_early)
        if options.live:
            live.update(change_table(script, title))
    if options.live:
        console.print()


def _settle(script: list[Change], made: set[str], stopped_early: bool) -> None:
    """Name what is left: diverged, or never made."""
    for change in script:
        if change.status is not ChangeStatus.PENDING:
            continue
        if change.name not in made:
            change.status = ChangeStatus.DIVERGED
            waits = ", ".join(repr(n) for n in change.after)
            change.divergence = f"not made: it builds on {waits}, which did not converge"
            continue
        change.status = ChangeStatus.DIVERGED
        detail = change.divergence or "no answer before the timeout"
        if stopped_early:
            detail += " (the engine had gone idle with the sides still different)"
        change.divergence = detail


class _Idle:
    """Ends the wait early when nothing more can converge: every change has been made, and
    the engine's queue has had nothing queued or running for :data:`IDLE_SECONDS` (longer
    than a poll interval, so a lost webhook would have been caught by then)."""

    def __init__(self, stats: Callable[[], tuple[int, int]], options: DemoOptions):
        self.stats = stats
        self.enabled = not options.pause_engine
        self.since: float | None = None
        self.stopped_early = False

    async def settled(self, script: list[Change], made: set[str]) -> bool:
        if not self.enabled:
            return False
        waiting = [c for c in script if c.status is ChangeStatus.PENDING]
        if any(c.name not in made and _may_be_made(c, script) for c in waiting):
            self.since = None
            return False
        queued, leased = await asyncio.to_thread(self.stats)
        now = time.monotonic()
        if queued or leased:
            self.since = None
            return False
        if self.since is None:
            self.since = now
            return False
        if now - self.since >= IDLE_SECONDS:
            self.stopped_early = True
            return True
        return False


def _may_be_made(change: Change, script: list[Change]) -> bool:
    """Whether what ``change`` builds on may still converge."""
    by_name = {c.name: c for c in script}
    return all(
        by_name[n].status in (ChangeStatus.CONVERGED, ChangeStatus.PENDING) for n in change.after
    )


async def _check_round(changes: list[Change], ctx: ScriptContext) -> None:
    for change in changes:
        if change.status is not ChangeStatus.PENDING:
            continue
        try:
            divergence = await change.check(ctx)
        except JirabridgeError as exc:
            divergence = f"could not compare: {exc}"
        if divergence is None:
            change.status = ChangeStatus.CONVERGED
            change.converged_at = time.monotonic()
            change.divergence = None
        else:
            change.divergence = divergence


def _report(
    stack: DemoStack,
    options: DemoOptions,
    backfill: _Backfill,
    script: list[Change],
    workdir: Path,
) -> DemoReport:
    engine = stack.engine_clients()
    calls = []
    for name, label, app in (
        (SERVER_SITE, "Server", stack.server_app),
        (CLOUD_SITE, "Cloud", stack.cloud_app),
    ):
        client = engine.get(name)
        by_engine = client.stats.total if client is not None else 0
        calls.append(SiteCalls(label, app.infra.counters.total, by_engine))
    dead = stack.runner.queue.stats().dead
    notes = list(backfill.notes)
    failure = stack.engine_failure()
    if failure is not None:
        notes.append(f"The engine stopped during live sync: {failure}")
    if options.skip:
        notes.append(f"Skipped kinds (--skip): {', '.join(options.skip)}")
    return DemoReport(
        issues=options.issues,
        backfill_seconds=round(backfill.seconds, 2),
        backfilled_pairs=backfill.pairs,
        changes=tuple(ChangeRow.of(c) for c in script),
        calls=tuple(calls),
        workdir=str(workdir),
        workdir_kept=options.workdir is not None,
        dead_letters=dead,
        notes=tuple(notes),
    )


async def _keep_running(stack: DemoStack, console: Console) -> None:
    sites = stack.sites
    console.print("\n[bold]Still running; press Ctrl-C to stop.[/bold]")
    console.print(f"  Jira Server  {stack.server_url}  log in as alice / alice (or admin / admin)")
    console.print(
        f"  Jira Cloud   {stack.cloud_url}  alice@jirabridge.test with API token 'alice' "
        f"(or {sites.admin_email[0]} / '{sites.admin_email[1]}')"
    )
    console.print(f"  Engine webhook receiver {stack.receiver_url}/webhooks/<site>")
    console.print(f"  Sync configuration {stack.config_path}")
    console.print("  Control planes: <site>/_emulator/state")
    await asyncio.Event().wait()
