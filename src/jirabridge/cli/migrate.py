"""`jirabridge migrate ...`: the Site Import toolkit (check, fix, media, plan, verify)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jirabridge.errors import JirabridgeError

if TYPE_CHECKING:
    from jirabridge.migrate import CloudGroup


class OutputFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


class Strategy(enum.Enum):
    MERGE = "merge"
    OVERWRITE = "overwrite"


class Plan(enum.Enum):
    FREE = "free"
    STANDARD = "standard"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"


migrate_app = typer.Typer(
    name="migrate",
    help="Move Jira Server to Cloud with Site Import: check, fix, media, plan, verify.",
    no_args_is_help=True,
)


def _fail(exc: JirabridgeError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields ``update(done, total)``."""
    if not enabled:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@migrate_app.command("check")
def check_cmd(
    backup: Path = typer.Argument(..., help="The backup zip (or a bare entities.xml)."),
    fmt: OutputFormat = typer.Option(OutputFormat.TEXT, "--format", "-f", help="Report format."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here."),
    cloud_groups: Path | None = typer.Option(
        None, "--cloud-groups", help="JSON file with the Cloud site's groups."
    ),
    cloud_groups_from: str | None = typer.Option(
        None, "--cloud-groups-from", help="Or read them from this Cloud site's REST API."
    ),
    cloud_email: str | None = typer.Option(None, help="Cloud account email (API token auth)."),
    cloud_token_env: str = typer.Option(
        "JIRABRIDGE_CLOUD_TOKEN", help="Env var with the Cloud API token."
    ),
    strategy: Strategy = typer.Option(Strategy.MERGE, help="User strategy of the import."),
    plan: Plan | None = typer.Option(None, help="Cloud plan, for the attachment storage check."),
    max_ratio: float = typer.Option(1000.0, help="Refuse zip members compressed more than this."),
    max_uncompressed: str = typer.Option(
        "4TiB", help="Refuse zips holding more than this uncompressed."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar on stderr."),
) -> None:
    """Check a backup before Site Import; exit 1 when a blocker is found."""
    from jirabridge.migrate import (
        CheckOptions,
        CloudPlan,
        UserStrategy,
        ZipLimits,
        check_backup,
        parse_size,
        render_html,
        render_json,
        render_text,
    )

    try:
        total = parse_size(max_uncompressed)
        options = CheckOptions(
            strategy=UserStrategy(strategy.value),
            cloud_groups=load_groups(cloud_groups, cloud_groups_from, cloud_email, cloud_token_env),
            plan=CloudPlan(plan.value) if plan else None,
            zip_limits=ZipLimits(
                max_ratio=max_ratio, max_total_bytes=total, max_member_bytes=total
            ),
        )
        with _progress("checking", progress) as update:
            report = check_backup(backup, options, progress=update)
    except JirabridgeError as exc:
        raise _fail(exc) from exc
    render = {
        OutputFormat.TEXT: render_text,
        OutputFormat.JSON: render_json,
        OutputFormat.HTML: render_html,
    }[fmt]
    _write(render(report), output)
    raise typer.Exit(report.exit_code)


@migrate_app.command("fix")
def fix_cmd(
    backup: Path = typer.Argument(..., help="The backup zip to fix (never modified)."),
    out: Path = typer.Option(..., "--out", help="Where to write the fixed backup zip."),
    emails: Path | None = typer.Option(
        None, "--emails", help="Email fixes: JSON {user or old email: new email} or 2-column CSV."
    ),
    rename_prefix: str = typer.Option("migrated_", help="Prefix replacing 'addon_' in usernames."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    progress: bool = typer.Option(True, help="Show a progress bar on stderr."),
) -> None:
    """Write a fixed copy of a backup, check it again, and list every change."""
    import json

    from jirabridge.migrate import render_text
    from jirabridge.migrate._fix import fix_backup, load_email_map

    try:
        mapping = load_email_map(emails) if emails else None
        with _progress("fixing", progress) as update:
            report = fix_backup(
                backup, out, emails=mapping, rename_prefix=rename_prefix, progress=update
            )
    except JirabridgeError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(f"wrote {report.output}")
        for kind, count in sorted(report.counts.items()):
            typer.echo(f"  {kind}: {count}")
        for change in report.changes:
            typer.echo(f"  - {change.kind.value}: {change.detail}  [{change.location}]")
        for key in report.unused_email_keys:
            typer.echo(f"  ! email mapping entry {key!r} matched no user")
        typer.echo("")
        if report.after is not None:
            typer.echo(render_text(report.after), nl=False)
    raise typer.Exit(report.exit_code)


@migrate_app.command("media")
def media_cmd(
    jira_home: Path = typer.Option(..., "--jira-home", help="The Jira home folder."),
    out: Path = typer.Option(..., "--out", help="Folder for the media zips and manifest."),
    max_size: str = typer.Option("4GB", "--max-size", help="Largest zip, e.g. 4GB or 500MiB."),
    by_project: bool = typer.Option(False, help="Never mix two projects in one zip."),
    backup: Path | None = typer.Option(
        None, "--backup", help="Cross-check the files against this backup's attachments."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    progress: bool = typer.Option(True, help="Show a progress bar on stderr."),
) -> None:
    """Pack attachments, avatars and logos into Site Import media zips (resumable)."""
    import json

    from jirabridge.migrate._media import pack_media, parse_size

    try:
        limit = parse_size(max_size)
        with _progress("packing", progress) as update:
            report = pack_media(
                jira_home,
                out,
                max_bytes=limit,
                by_project=by_project,
                backup=backup,
                progress=update,
            )
    except JirabridgeError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
        return
    for chunk in report.chunks:
        state = "kept (resumed)" if chunk.index in report.resumed else "written, verified"
        typer.echo(
            f"{chunk.file}: {chunk.files} file(s), {chunk.zip_bytes:,} bytes, {state}; "
            f"{chunk.first} .. {chunk.last}"
        )
    if report.refs is not None:
        r = report.refs
        typer.echo(
            f"backup cross-check: {r.found} of {r.referenced} referenced attachment(s) found, "
            f"{r.missing} missing, {r.size_mismatch} size mismatch(es), {r.orphans} orphan(s)"
        )
    for warning in report.warnings:
        typer.echo(f"warning: {warning}")
    if report.skipped:
        typer.echo(f"{len(report.skipped)} path(s) skipped, e.g. {report.skipped[0]}")
    typer.echo(
        f"{report.files} file(s) in {len(report.chunks)} zip(s); manifest: {out}/manifest.json"
    )


@migrate_app.command("plan")
def plan_cmd(
    backup: Path = typer.Argument(..., help="The backup zip."),
    strategy: Strategy = typer.Option(Strategy.MERGE, help="User strategy of the import."),
    cloud_groups: Path | None = typer.Option(
        None, "--cloud-groups", help="JSON file with the Cloud site's groups."
    ),
    cloud_groups_from: str | None = typer.Option(
        None, "--cloud-groups-from", help="Or read them from this Cloud site's REST API."
    ),
    cloud_email: str | None = typer.Option(None, help="Cloud account email (API token auth)."),
    cloud_token_env: str = typer.Option(
        "JIRABRIDGE_CLOUD_TOKEN", help="Env var with the Cloud API token."
    ),
    plan: Plan | None = typer.Option(None, help="Cloud plan, for the attachment storage check."),
    media: Path | None = typer.Option(None, "--media", help="Folder `migrate media` wrote."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
    progress: bool = typer.Option(True, help="Show a progress bar on stderr."),
) -> None:
    """The guide's eight steps with their state for this backup; exit 1 while blocked."""
    import json

    from jirabridge.migrate import CheckOptions, CloudPlan, UserStrategy, check_backup
    from jirabridge.migrate._plan import build_plan

    chosen = UserStrategy(strategy.value)
    try:
        options = CheckOptions(
            strategy=chosen,
            cloud_groups=load_groups(cloud_groups, cloud_groups_from, cloud_email, cloud_token_env),
            plan=CloudPlan(plan.value) if plan else None,
        )
        with _progress("checking", progress) as update:
            report = check_backup(backup, options, progress=update)
    except JirabridgeError as exc:
        raise _fail(exc) from exc
    result = build_plan(report, chosen, media_dir=media)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(result.render_text(), nl=False)
    raise typer.Exit(0 if result.ready else 1)


def load_groups(
    path: Path | None, url: str | None, email: str | None, token_env: str
) -> tuple[CloudGroup, ...] | None:
    """The Cloud groups from a JSON file or from the Cloud site's API (or none)."""
    import asyncio
    import os

    from jirabridge.errors import FixConfigError
    from jirabridge.migrate import ApiSnapshotReader, load_cloud_groups

    if path is not None and url is not None:
        raise FixConfigError("give --cloud-groups or --cloud-groups-from, not both")
    if path is not None:
        return load_cloud_groups(path)
    if url is None:
        return None
    token = os.environ.get(token_env)
    if not token or not email:
        raise FixConfigError(f"--cloud-groups-from needs --cloud-email and {token_env} set")

    async def fetch() -> tuple[CloudGroup, ...]:
        async with ApiSnapshotReader(url, cloud=True, email_or_user=email, token=token) as api:
            return await api.cloud_groups()

    return asyncio.run(fetch())


@migrate_app.command("verify")
def verify_cmd(
    source: Path | None = typer.Option(None, "--source", help="The backup zip imported."),
    source_server: str | None = typer.Option(
        None, "--source-server", help="Or the Server/DC base URL to read over REST v2."
    ),
    source_user: str | None = typer.Option(None, help="Server username (basic auth)."),
    source_token_env: str = typer.Option(
        "JIRABRIDGE_SERVER_TOKEN", help="Env var with the Server password or PAT."
    ),
    source_pat: bool = typer.Option(False, help="Send the Server token as a Bearer PAT."),
    cloud: str | None = typer.Option(None, "--cloud", help="The Cloud site base URL."),
    cloud_email: str | None = typer.Option(None, help="Cloud account email (API token auth)."),
    cloud_token_env: str = typer.Option(
        "JIRABRIDGE_CLOUD_TOKEN", help="Env var with the Cloud API token."
    ),
    target_backup: Path | None = typer.Option(
        None, "--target-backup", help="Or compare with another backup (e.g. a Cloud export)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Compare the source with the Cloud site after the import; exit 1 on any difference."""
    import asyncio
    import json
    import os

    from jirabridge.errors import FixConfigError
    from jirabridge.migrate._api_reader import ApiSnapshotReader
    from jirabridge.migrate._verify import BackupSnapshotReader, SiteSnapshotReader, verify

    async def run() -> tuple[str, int]:
        readers: list[SiteSnapshotReader] = []
        closers: list[Callable[[], object]] = []
        try:
            for label, backup, url in (
                ("source", source, source_server),
                ("target", target_backup, cloud),
            ):
                if (backup is None) == (url is None):
                    raise FixConfigError(
                        f"give exactly one {label}: "
                        + (
                            "--source or --source-server"
                            if label == "source"
                            else "--cloud or --target-backup"
                        )
                    )
                if backup is not None:
                    b = BackupSnapshotReader(backup)
                    closers.append(b.close)
                    readers.append(b)
                    continue
                assert url is not None
                is_cloud = label == "target"
                token = os.environ.get(cloud_token_env if is_cloud else source_token_env)
                if not token:
                    raise FixConfigError(
                        f"set {cloud_token_env if is_cloud else source_token_env} to the token"
                    )
                api = ApiSnapshotReader(
                    url,
                    cloud=is_cloud,
                    email_or_user=cloud_email if is_cloud else source_user,
                    token=None if (source_pat and not is_cloud) else token,
                    bearer=token if (source_pat and not is_cloud) else None,
                )
                readers.append(api)
            result = await verify(readers[0], readers[1])
        finally:
            for reader in readers:
                if isinstance(reader, ApiSnapshotReader):
                    await reader.aclose()
            for close in closers:
                close()
        text = (
            json.dumps(result.to_json(), indent=2, ensure_ascii=False)
            if as_json
            else result.render_text()
        )
        return text, result.exit_code

    try:
        text, code = asyncio.run(run())
    except JirabridgeError as exc:
        raise _fail(exc) from exc
    typer.echo(text, nl=not text.endswith("\n"))
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this family's commands to ``app``."""
    app.add_typer(migrate_app, name="migrate")
