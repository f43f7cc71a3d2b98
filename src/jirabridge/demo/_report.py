"""The demo's outcome as data (:class:`DemoReport`), a rich summary table, and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from jirabridge.demo._script import Change, ChangeStatus

__all__ = ["ChangeRow", "DemoReport", "SiteCalls", "change_table", "print_summary"]


@dataclass(frozen=True)
class ChangeRow:
    name: str
    kind: str
    where: str
    status: str
    seconds: float | None
    divergence: str | None

    @classmethod
    def of(cls, change: Change) -> ChangeRow:
        seconds = change.seconds
        return cls(
            change.name,
            change.kind,
            change.where,
            change.status.value,
            None if seconds is None else round(seconds, 2),
            change.divergence,
        )


@dataclass(frozen=True)
class SiteCalls:
    """REST calls one emulated site answered: all of them, and the engine's share."""

    site: str
    total: int
    by_engine: int


@dataclass(frozen=True)
class DemoReport:
    issues: int
    backfill_seconds: float
    backfilled_pairs: int
    changes: tuple[ChangeRow, ...]
    calls: tuple[SiteCalls, ...]
    workdir: str
    dead_letters: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    workdir_kept: bool = True  # False: a temporary directory, removed when the demo ends

    @property
    def ok(self) -> bool:
        """Every scripted change (not skipped) converged, and the backfill paired every issue."""
        done = all(
            c.status in (ChangeStatus.CONVERGED.value, ChangeStatus.SKIPPED.value)
            for c in self.changes
        )
        return done and self.backfilled_pairs >= self.issues

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


_STYLE = {
    ChangeStatus.CONVERGED.value: "green",
    ChangeStatus.PENDING.value: "yellow",
    ChangeStatus.SKIPPED.value: "dim",
}


def change_table(changes: list[Change] | tuple[ChangeRow, ...], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("change")
    table.add_column("made on")
    table.add_column("converged in", justify="right")
    table.add_column("status")
    rows = [ChangeRow.of(c) if isinstance(c, Change) else c for c in changes]
    for n, row in enumerate(rows, 1):
        style = _STYLE.get(row.status, "red")
        table.add_row(
            str(n),
            row.name,
            row.where,
            _seconds(row.seconds),
            f"[{style}]{row.status}[/{style}]",
        )
    return table


def print_summary(report: DemoReport, console: Console, *, changes: bool = True) -> None:
    """The summary; ``changes=False`` leaves out the change table (the live one showed it)."""
    if changes:
        console.print(change_table(report.changes, "Scripted changes"))
    calls = Table(title="API calls per site", title_justify="left")
    calls.add_column("site")
    calls.add_column("requests answered", justify="right")
    calls.add_column("by the engine", justify="right")
    for site in report.calls:
        calls.add_row(site.site, str(site.total), str(site.by_engine))
    console.print(calls)
    console.print(
        f"Backfill: {report.backfilled_pairs} of {report.issues} issues paired in "
        f"{report.backfill_seconds:.2f} s; dead letters: {report.dead_letters}"
    )
    if report.workdir_kept:
        console.print(f"Sync configuration and SQLite store: {report.workdir}")
    else:
        console.print(
            "Sync configuration and store were in a temporary directory "
            "(pass --workdir to keep them)."
        )
    for note in report.notes:
        console.print(note)
    bad = [c for c in report.changes if c.status not in ("converged", "skipped")]
    if bad:
        console.print("[red]Divergences:[/red]")
        for c in bad:
            console.print(f"  - {c.name} ({c.where}): {c.status}: {c.divergence or 'no detail'}")
    verdict = (
        "[green]All scripted changes converged.[/green]"
        if report.ok
        else "[red]Not every scripted change converged.[/red]"
    )
    console.print(verdict)
