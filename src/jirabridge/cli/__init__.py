"""The ``jirabridge`` command line.

Each command family lives in its own module with a ``register(app)`` function, so the
families stay apart and heavy imports happen only when a command runs.
"""

from __future__ import annotations

import typer

from jirabridge import __version__
from jirabridge.cli import demo, emulate, markup, migrate, sync

app = typer.Typer(
    name="jirabridge",
    help="Keep Jira Server/Data Center and Jira Cloud in sync; move Server to Cloud safely.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jirabridge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """jirabridge."""


for _family in (demo, emulate, markup, migrate, sync):
    _family.register(app)


def main() -> None:
    app()
