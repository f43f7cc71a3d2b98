"""`jirabridge` commands: sync (``init``, ``schema``, ``check``, ``backfill``, ``run``,
``reconcile``, ``status``, ``dlq``, ``secrets``).

Heavy imports (SQLAlchemy, pydantic models, the clients) happen inside the commands.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from jirabridge.errors import JirabridgeError

if TYPE_CHECKING:
    from rich.text import Text

    from jirabridge.sync.queue import Queue
    from jirabridge.sync.runner import WaitingItem
    from jirabridge.sync.secrets import SecretStore

STORE_ENV = "JIRABRIDGE_STORE_URL"
DEFAULT_CONFIG = "jirabridge.yaml"
DEFAULT_SCHEMA = "jirabridge.schema.json"
DEFAULT_SECRETS = "jirabridge-secrets.json"
DEFAULT_KEY_FILE = "jirabridge.key"

_CONFIG_OPT = typer.Option(
    None, "--config", "-c", help=f"Configuration file (default: ./{DEFAULT_CONFIG} if present)."
)
_STORE_OPT = typer.Option(
    None, "--store", help=f"State store URL (default: ${STORE_ENV}, else the config's store.url)."
)
_SECRETS_OPT = typer.Option(Path(DEFAULT_SECRETS), "--secrets-file", help="Encrypted store.")
_KEY_OPT = typer.Option(
    Path(DEFAULT_KEY_FILE), "--key-file", help="Key file (mode 0600) unless the key is in the env."
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Every jirabridge error becomes one clear line on stderr and exit code 1."""
    try:
        yield
    except JirabridgeError as exc:
        from jirabridge.sync.config import ConfigError

        if isinstance(exc, ConfigError):
            for problem in exc.problems:
                typer.echo(str(problem), err=True)
            raise _fail(f"{len(exc.problems)} problem(s) in the configuration") from None
        raise _fail(str(exc)) from None


def _store_url(config: Path | None, store: str | None) -> str:
    if store:
        return store
    if os.environ.get(STORE_ENV):
        return os.environ[STORE_ENV]
    path = config or (Path(DEFAULT_CONFIG) if Path(DEFAULT_CONFIG).exists() else None)
    if path is not None:
        from jirabridge.sync.config import load_config

        return load_config(path).config.store.url
    return "sqlite:///jirabridge.db"


def _open_queue(config: Path | None, store: str | None) -> Queue:
    from jirabridge.sync.queue import Queue
    from jirabridge.sync.store import open_store

    return Queue(open_store(_store_url(config, store)))


def _secret_store(secrets_file: Path, key_file: Path) -> SecretStore:
    from jirabridge.sync.secrets import SecretStore, load_key

    return SecretStore(secrets_file, load_key(key_file))


def _resolver(secrets_file: Path, key_file: Path) -> Callable[[str], str]:
    """Credential refs -> secrets; the encrypted store is opened only if a ref needs it."""
    from jirabridge.sync.secrets import resolve_credential

    opened: list[SecretStore] = []

    def resolve(ref: str) -> str:
        if ref.startswith("store:") and not opened:
            opened.append(_secret_store(secrets_file, key_file))
        return resolve_credential(ref, store=opened[0] if opened else None)

    return resolve


def _config_path(config: Path | None) -> Path:
    path = config or Path(DEFAULT_CONFIG)
    if not path.exists():
        raise _fail(f"no configuration at {path}; run `jirabridge init` first")
    return path


def _runner(config: Path | None, store: str | None, secrets_file: Path, key_file: Path) -> Any:
    from jirabridge.sync.config import ConfigWatcher
    from jirabridge.sync.runner import SyncRunner, client_for_site
    from jirabridge.sync.store import open_store

    watcher = ConfigWatcher(_config_path(config))
    resolve = _resolver(secrets_file, key_file)
    url = store or os.environ.get(STORE_ENV) or watcher.current.store.url
    return (
        SyncRunner(
            watcher,
            open_store(url),
            factory=lambda name, site: client_for_site(site, resolve, name=name),
        ),
        resolve,
    )


def _when(value: Any) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


@contextmanager
def _progress(show: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr (issues paired / total), or nothing."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("issues paired"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("backfill", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def _print_plan(plan: Any, as_json: bool) -> None:
    """The writes a dry run would have made, per issue pair."""
    if as_json:
        typer.echo(json.dumps(plan.to_json(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True)
    table = Table(title=f"dry run: {len(plan.writes)} write(s) planned, none sent")
    for column in ("issue pair", "site", "issue", "write", "detail"):
        table.add_column(column)
    for group in plan.by_pair():
        for w in group.writes:
            table.add_row(*_cells(group.label, w.site, w.key, w.kind.value, w.detail))
    console.print(table)
    typer.echo(f"read {plan.issues_read} issue(s); nothing was written to the sites or the store")
    for error in plan.errors:
        typer.echo(f"error: {error}", err=True)
    for dead in plan.dead_letters:
        typer.echo(f"would fail: {dead}", err=True)


def _print_blocked(items: Sequence[WaitingItem]) -> None:
    """``N item(s) wait for you: <reason>`` per reason, for jobs given back because a
    person must act (fix the configuration, sign in again); the queue retries them later."""
    by_reason: dict[str, list[str]] = {}
    for item in items:
        by_reason.setdefault(item.reason, []).append(item.subject)
    for reason, subjects in by_reason.items():
        shown = ", ".join(subjects[:5]) + (", ..." if len(subjects) > 5 else "")
        typer.echo(f"{len(subjects)} item(s) wait for you: {reason} ({shown})", err=True)


def _cells(*values: str) -> list[Text]:
    """Table cells as plain text: messages and reasons come from sites and errors, and a
    ``[/x]`` or ``[red]`` in them must be shown as written, never read as rich markup."""
    from rich.text import Text

    return [Text(value) for value in values]


def register(app: typer.Typer) -> None:
    """Add this family's commands to ``app``."""

    @app.command("init")
    def init_cmd(
        config: Path = typer.Option(Path(DEFAULT_CONFIG), "--config", "-c", help="Where to write."),
        schema: Path = typer.Option(Path(DEFAULT_SCHEMA), "--schema", help="JSON schema file."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    ) -> None:
        """Write a commented example configuration and its JSON schema."""
        from jirabridge.sync.config import write_example, write_schema

        with _errors():
            if not force:
                for path in (config, schema):
                    if path.exists():
                        raise _fail(f"{path} exists; pass --force to overwrite it")
            write_example(config, force=force)
            write_schema(schema, force=force)
        typer.echo(f"wrote {config} (edit it) and {schema} (for your editor)")

    @app.command("schema")
    def schema_cmd(
        output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    ) -> None:
        """Print (or write) the JSON schema of the configuration file."""
        from jirabridge.sync.config import json_schema, write_schema

        with _errors():
            if output is None:
                typer.echo(json.dumps(json_schema(), indent=2, sort_keys=True))
            else:
                write_schema(output, force=True)
                typer.echo(f"wrote {output}")

    @app.command("check")
    def check_cmd(
        config: Path | None = _CONFIG_OPT,
        offline: bool = typer.Option(False, "--offline", help="Only the file, no site calls."),
        secrets_file: Path = _SECRETS_OPT,
        key_file: Path = _KEY_OPT,
    ) -> None:
        """Check the file, then both live sites; every problem, with its line."""
        import asyncio

        from jirabridge.sync.check import check_live
        from jirabridge.sync.config import load_config
        from jirabridge.sync.runner import client_for_site

        with _errors():
            loaded = load_config(_config_path(config))
            if offline:
                typer.echo(f"{loaded.source}: the file is valid")
                return
            resolve = _resolver(secrets_file, key_file)

            async def live() -> list[Any]:
                clients = {}
                problems: list[Any] = []
                for name, site in loaded.config.sites.items():
                    try:
                        clients[name] = client_for_site(site, resolve, name=name)
                    except JirabridgeError as exc:
                        problems.append(loaded.problem_at(("sites", name, "credential"), str(exc)))
                try:
                    return problems + await check_live(loaded, clients)
                finally:
                    for client in clients.values():
                        await client.aclose()  # type: ignore[attr-defined]

            problems = asyncio.run(live())
        for problem in problems:
            typer.echo(str(problem), err=True)
        if problems:
            raise _fail(f"{len(problems)} problem(s); no sync will start with this file")
        typer.echo(f"{loaded.source}: valid, and both sites agree with it")

    @app.command("backfill")
    def backfill_cmd(
        config: Path | None = _CONFIG_OPT,
        store: str | None = _STORE_OPT,
        secrets_file: Path = _SECRETS_OPT,
        key_file: Path = _KEY_OPT,
        dry_run: bool = typer.Option(
            False,
            "--dry-run",
            help="Read everything, write nothing: print the writes a backfill would make.",
        ),
        as_json: bool = typer.Option(False, "--json", help="With --dry-run: the plan as JSON."),
        progress_bar: bool = typer.Option(
            True, "--progress/--no-progress", help="Show a progress bar (issues paired / total)."
        ),
    ) -> None:
        """Read every issue of every pair once, create mirrors, sync fields and comments.

        Resumable: the poll cursors and the queue are in the state store, so a backfill that
        was stopped goes on where it stopped when run again."""
        import asyncio

        if as_json and not dry_run:
            raise _fail("--json goes with --dry-run", 2)
        with _errors(), _progress(progress_bar and not as_json) as report:
            runner, _ = _runner(config, store, secrets_file, key_file)
            if dry_run:
                from jirabridge.sync.dryrun import dry_backfill

                plan = asyncio.run(
                    dry_backfill(runner.config, runner.store, runner.clients, progress=report)
                )
            else:
                result = asyncio.run(runner.backfill(progress=report))
                stats = runner.queue.stats()
                blocked = runner.waiting_for_you()
        if dry_run:
            _print_plan(plan, as_json)
            return
        read = sum(p.read for p in result.polls)
        typer.echo(f"read {read} issue(s); dead letters: {stats.dead}; waiting: {stats.queued}")
        for error in result.errors:
            typer.echo(f"error: {error}", err=True)
        _print_blocked(blocked)
        if result.errors or blocked:
            raise typer.Exit(1)

    @app.command("reconcile")
    def reconcile_cmd(
        config: Path | None = _CONFIG_OPT,
        store: str | None = _STORE_OPT,
        rebuild: bool = typer.Option(
            False, "--rebuild", help="First rebuild lost pairs from the sites' entity properties."
        ),
        secrets_file: Path = _SECRETS_OPT,
        key_file: Path = _KEY_OPT,
    ) -> None:
        """Compare every known pair field by field (and comments) and repair the drift."""
        import asyncio

        with _errors():
            runner, _ = _runner(config, store, secrets_file, key_file)

            async def main() -> tuple[int, int]:
                rebuilt = await runner.rebuild_pairs() if rebuild else 0
                return rebuilt, await runner.reconcile()

            rebuilt, count = asyncio.run(main())
            stats = runner.queue.stats()
            blocked = runner.waiting_for_you()
        if rebuild:
            typer.echo(f"rebuilt {rebuilt} issue pair(s) from the sites")
        typer.echo(f"compared {count} issue pair(s); dead letters: {stats.dead}")
        _print_blocked(blocked)
        if blocked:
            raise typer.Exit(1)

    @app.command("run")
    def run_cmd(
        config: Path | None = _CONFIG_OPT,
        store: str | None = _STORE_OPT,
        webhooks: bool = typer.Option(True, "--webhooks/--no-webhooks", help="Serve receiver."),
        secrets_file: Path = _SECRETS_OPT,
        key_file: Path = _KEY_OPT,
    ) -> None:
        """Keep the pairs in sync: webhook receiver, polling backstop, workers; Ctrl-C stops."""
        import asyncio
        import signal

        from jirabridge._gc import tune_gc
        from jirabridge.cli._interrupt import Interrupted, run_interruptibly
        from jirabridge.sync.runner import serve_app

        with _errors():
            runner, resolve = _runner(config, store, secrets_file, key_file)
            tune_gc()  # a long-running process from here on

            async def main(stop: asyncio.Event) -> None:
                tasks = [runner.run(stop)]
                if webhooks:
                    hooks = runner.config.webhooks
                    tasks.append(
                        serve_app(
                            runner.receiver_app(resolve),
                            host=hooks.host,
                            port=hooks.port,
                            stop=stop,
                            started=lambda h, p: typer.echo(
                                f"receiving webhooks on http://{h}:{p}/webhooks/<site>"
                            ),
                        )
                    )
                await asyncio.gather(*tasks)

            # the first SIGINT / SIGTERM stops gracefully (running jobs are given back);
            # whatever still runs 5 s later is cancelled until it ends
            with suppress(Interrupted, KeyboardInterrupt):
                run_interruptibly(main, signals=(signal.SIGINT, signal.SIGTERM), grace=5.0)
        typer.echo("stopped")

    @app.command("status")
    def status_cmd(
        config: Path | None = _CONFIG_OPT,
        store: str | None = _STORE_OPT,
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Queue depth, dead letters, poll cursors and the latest errors."""
        from jirabridge.sync.state import status_report

        with _errors():
            report = status_report(_open_queue(config, store))
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "queued": report.queue.queued,
                        "running": report.queue.leased,
                        "notices": report.queue.notices,
                        "dead_letters": report.queue.dead,
                        "issue_pairs": report.issue_pairs,
                        "pending_creates": report.pending_creates,
                        "open_conflicts": report.open_conflicts,
                        "cursors": [
                            {
                                "site": c.site,
                                "scope": c.scope,
                                "position": None if c.position is None else c.position.isoformat(),
                            }
                            for c in report.cursors
                        ],
                        "recent_errors": [
                            {"at": e.at.isoformat(), "kind": e.kind, "message": e.message}
                            for e in report.recent_errors
                        ],
                        "conflicts": [
                            {
                                "at": c.at.isoformat(),
                                "issues": c.issues,
                                "field": c.field,
                                "rule": c.rule,
                                "winner": c.winner,
                            }
                            for c in report.conflicts
                        ],
                        "attachments_too_large": [
                            {
                                "at": e.at.isoformat(),
                                "site": e.site,
                                "issue": e.subject,
                                "message": e.message,
                            }
                            for e in report.too_large
                        ],
                    },
                    indent=2,
                )
            )
            return
        from rich.console import Console
        from rich.table import Table

        console = Console(soft_wrap=True)
        summary = Table(title="jirabridge sync status", show_header=False)
        summary.add_row("jobs queued", str(report.queue.queued))
        summary.add_row("jobs running", str(report.queue.leased))
        summary.add_row("notices waiting", str(report.queue.notices))
        summary.add_row("oldest queued", _when(report.queue.oldest_queued))
        summary.add_row("dead letters", str(report.queue.dead))
        summary.add_row("issue pairs", str(report.issue_pairs))
        summary.add_row("mirror creates not yet paired", str(report.pending_creates))
        summary.add_row("conflicts to review", str(report.open_conflicts))
        console.print(summary)
        cursors = Table(title="poll cursors")
        for column in ("site", "scope", "position", "saved"):
            cursors.add_column(column)
        for c in report.cursors:
            cursors.add_row(*_cells(c.site, c.scope, _when(c.position), _when(c.updated_at)))
        console.print(cursors)
        errors = Table(title="latest errors")
        for column in ("when", "kind", "site", "issue", "message"):
            errors.add_column(column)
        for e in (*report.retrying, *report.recent_errors):
            errors.add_row(*_cells(_when(e.at), e.kind, e.site or "-", e.subject or "-", e.message))
        console.print(errors)
        conflicts = Table(title="conflicts to review (latest)")
        for column in ("when", "issues", "field", "rule", "winner"):
            conflicts.add_column(column)
        for k in report.conflicts:
            conflicts.add_row(*_cells(_when(k.at), k.issues, k.field, k.rule, k.winner))
        console.print(conflicts)
        if report.too_large:
            large = Table(title="attachments not copied: too large (latest)")
            for column in ("when", "site", "issue", "file"):
                large.add_column(column)
            for e in report.too_large:
                large.add_row(*_cells(_when(e.at), e.site or "-", e.subject or "-", e.message))
            console.print(large)

    dlq = typer.Typer(help="The dead-letter queue: items that could not be synced.")
    app.add_typer(dlq, name="dlq")

    def _selection(ids: list[int] | None, reason: str | None, everything: bool) -> dict[str, Any]:
        if not ids and not reason and not everything:
            raise _fail("say which items: ids, --reason TEXT, or --all", 2)
        return {"ids": ids or [], "reason": reason, "everything": everything}

    @dlq.command("list")
    def dlq_list(
        config: Path | None = _CONFIG_OPT,
        store: str | None = _STORE_OPT,
        reason: str | None = typer.Option(None, "--reason", help="Only reasons containing this."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """List dead letters with their reason."""
        with _errors():
            items = _open_queue(config, store).dead_letters(reason=reason)
        if as_json:
            typer.echo(
                json.dumps(
                    [
                        {
                            "id": d.id,
                            "site": d.site,
                            "issue_id": d.issue_id,
                            "issue_key": d.issue_key,
                            "reason": d.reason,
                            "error": d.error_branch,
                            "attempts": d.attempts,
                            "failed_at": d.failed_at.isoformat(),
                        }
                        for d in items
                    ],
                    indent=2,
                )
            )
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"dead letters ({len(items)})")
        for column in ("id", "site", "issue", "error", "attempts", "failed", "reason"):
            table.add_column(column)
        for d in items:
            table.add_row(
                *_cells(
                    str(d.id),
                    d.site,
                    d.issue_key or d.issue_id,
                    d.error_branch,
                    str(d.attempts),
                    _when(d.failed_at),
                    d.reason,
                )
            )
        Console(soft_wrap=True).print(table)

    def _act(verb: str, action: Callable[..., int], selection: dict[str, Any]) -> None:
        with _errors():
            count = action(**selection)
        typer.echo(f"{verb} {count} dead letter(s)")

    @dlq.command("retry")
    def dlq_retry(
        ids: list[int] | None = typer.Argument(None, help="Dead-letter ids."),
        reason: str | None = typer.Option(None, "--reason", help="Reason text or error branch."),
        everything: bool = typer.Option(False, "--all", help="Every dead letter."),
        config: Path | None = _CONFIG_OPT,
        store: str | None = _STORE_OPT,
    ) -> None:
        """Put dead letters back in the queue (attempts start again)."""
        selection = _selection(ids, reason, everything)
        with _errors():
            queue = _open_queue(config, store)
        _act("requeued", queue.retry_dead, selection)

    @dlq.command("drop")
    def dlq_drop(
        ids: list[int] | None = typer.Argument(None, help="Dead-letter ids."),
        reason: str | None = typer.Option(None, "--reason", help="Reason text or error branch."),
        everything: bool = typer.Option(False, "--all", help="Every dead letter."),
        config: Path | None = _CONFIG_OPT,
        store: str | None = _STORE_OPT,
    ) -> None:
        """Delete dead letters for good."""
        selection = _selection(ids, reason, everything)
        with _errors():
            queue = _open_queue(config, store)
        _act("dropped", queue.drop_dead, selection)

    secrets = typer.Typer(help="The encrypted credential store (`store:NAME` references).")
    app.add_typer(secrets, name="secrets")

    @secrets.command("keygen")
    def secrets_keygen(key_file: Path = _KEY_OPT) -> None:
        """Create a new key file (mode 0600)."""
        from jirabridge.sync.secrets import generate_key_file

        with _errors():
            generate_key_file(key_file)
        typer.echo(f"wrote {key_file} (keep it private; losing it loses the secrets)")

    @secrets.command("set")
    def secrets_set(
        name: str = typer.Argument(..., help="Name used as `store:NAME` in the config."),
        from_stdin: bool = typer.Option(False, "--stdin", help="Read the secret from stdin."),
        secrets_file: Path = _SECRETS_OPT,
        key_file: Path = _KEY_OPT,
    ) -> None:
        """Store a secret (asked for without echo, or read from stdin)."""
        if from_stdin:
            value = sys.stdin.readline().rstrip("\r\n")
        else:
            value = typer.prompt(f"secret for {name}", hide_input=True)
        with _errors():
            _secret_store(secrets_file, key_file).set(name, value)
        typer.echo(f"stored {name}")

    @secrets.command("list")
    def secrets_list(secrets_file: Path = _SECRETS_OPT, key_file: Path = _KEY_OPT) -> None:
        """List the names of stored secrets (never the values)."""
        with _errors():
            names = _secret_store(secrets_file, key_file).names()
        for name in names:
            typer.echo(name)

    @secrets.command("oauth-token")
    def secrets_oauth_token(
        site: str = typer.Argument(..., help="The Cloud site's name in the configuration."),
        config: Path | None = _CONFIG_OPT,
    ) -> None:
        """Seed a site's OAuth 2.0 token pair with a refresh token read from stdin."""
        from datetime import UTC, datetime

        from jirabridge.jira import FileCredentialStore, OAuth2Token
        from jirabridge.sync.config import load_config

        with _errors():
            loaded = load_config(_config_path(config))
            site_cfg = loaded.config.sites.get(site)
            if site_cfg is None or site_cfg.oauth is None:
                raise _fail(f"site {site!r} has no `oauth` section in the configuration")
            refresh = sys.stdin.readline().strip()
            if not refresh:
                raise _fail("no refresh token on stdin")
            expired = datetime(1970, 1, 1, tzinfo=UTC)  # the first call refreshes it
            FileCredentialStore(site_cfg.oauth.token_dir).save(
                site, OAuth2Token(access_token="", refresh_token=refresh, expires_at=expired)
            )
        typer.echo(f"stored the token pair of {site} in {site_cfg.oauth.token_dir}")

    @secrets.command("delete")
    def secrets_delete(
        name: str, secrets_file: Path = _SECRETS_OPT, key_file: Path = _KEY_OPT
    ) -> None:
        """Delete a stored secret."""
        with _errors():
            removed = _secret_store(secrets_file, key_file).delete(name)
        if not removed:
            raise _fail(f"no secret named {name!r}")
        typer.echo(f"deleted {name}")
