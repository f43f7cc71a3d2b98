"""`jirabridge markup wiki-to-adf|adf-to-wiki`: convert standard input to standard output.

For admins checking how their text will look on the other side. Unresolved users, unmapped
attachments and lossy spots are listed on standard error; bad input exits with code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from jirabridge.markup import MarkupContext

markup_app = typer.Typer(
    name="markup",
    help="Convert between Jira wiki markup (Server) and ADF (Cloud), stdin to stdout.",
    no_args_is_help=True,
)

_USER_MAP_HELP = (
    "JSON file mapping users: {username: accountId} or a list of "
    "{accountId, username, key, email, displayName}."
)


def _read_stdin() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        typer.echo(f"error: standard input is not UTF-8 text ({exc.reason})", err=True)
        raise typer.Exit(2) from exc


def _context(user_map: Path | None) -> MarkupContext:
    from jirabridge.errors import JirabridgeError
    from jirabridge.markup import MarkupContext, load_user_map

    try:
        users = load_user_map(user_map) if user_map is not None else None
    except JirabridgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return MarkupContext(users=users)


def _print_report(ctx: MarkupContext) -> None:
    for item in ctx.report.items:
        where = f" at {item.path}" if item.path else ""
        typer.echo(f"warning: {item.kind.value}: {item.detail}{where}", err=True)


@markup_app.command("wiki-to-adf")
def wiki_to_adf_command(
    user_map: Path | None = typer.Option(None, "--user-map", help=_USER_MAP_HELP),
    compact: bool = typer.Option(False, "--compact", help="One line of JSON, no indentation."),
) -> None:
    """Read wiki markup on stdin, write the ADF document (JSON) on stdout."""
    from jirabridge.markup import wiki_to_adf

    ctx = _context(user_map)
    doc = wiki_to_adf(_read_stdin(), ctx)
    if compact:
        typer.echo(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    else:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    _print_report(ctx)


@markup_app.command("adf-to-wiki")
def adf_to_wiki_command(
    user_map: Path | None = typer.Option(None, "--user-map", help=_USER_MAP_HELP),
) -> None:
    """Read an ADF document (JSON) on stdin, write wiki markup on stdout."""
    from jirabridge.errors import BadInputError
    from jirabridge.markup import adf_to_wiki

    ctx = _context(user_map)
    text = _read_stdin()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        typer.echo(f"error: standard input is not JSON: {exc}", err=True)
        raise typer.Exit(2) from exc
    except RecursionError as exc:
        typer.echo("error: standard input is JSON nested too deeply", err=True)
        raise typer.Exit(2) from exc
    try:
        wiki = adf_to_wiki(doc, ctx)
    except BadInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(wiki)
    _print_report(ctx)


def register(app: typer.Typer) -> None:
    """Add this family's commands to ``app``."""
    app.add_typer(markup_app, name="markup")
