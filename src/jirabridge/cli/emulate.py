"""`jirabridge emulate server|cloud`: serve an emulated Jira site over HTTP with uvicorn."""

from __future__ import annotations

import enum
from pathlib import Path

import typer


class FlavourChoice(enum.StrEnum):
    SERVER = "server"
    CLOUD = "cloud"


def _parse_seed(value: str | None) -> str | int | None:
    if value is None or value == "":
        return None
    if value == "demo":
        return "demo"
    if value.isdigit():
        return int(value)
    raise typer.BadParameter("--seed takes 'demo' or a number of issues")


def emulate(
    flavour: FlavourChoice = typer.Argument(..., help="Which product to emulate."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (loopback default)."),
    seed: str | None = typer.Option(
        None, "--seed", help="'demo' for the demo site, or N to seed N bulk issues."
    ),
    state: Path | None = typer.Option(
        None, "--state", help="Load the site from FILE at start (if it exists); save on exit."
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="The URL clients reach the emulator at (used in self links); default "
        "http://HOST:PORT.",
    ),
) -> None:
    """Serve an emulated Jira Server/DC or Jira Cloud site until interrupted."""
    import uvicorn

    from jirabridge.emulator.app import create_app, seed_site
    from jirabridge.emulator.model import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, Site
    from jirabridge.errors import JirabridgeError

    seed_value = _parse_seed(seed)
    base_url = (base_url or f"http://{host}:{port}").rstrip("/")
    try:
        if state is not None and state.exists():
            site = Site.load(state)
            if site.flavour.value != flavour.value:
                raise typer.BadParameter(
                    f"{state} holds a {site.flavour.value} site, not a {flavour.value} one"
                )
            typer.echo(f"Loaded {len(site.issues)} issues from {state}")
        else:
            site = Site(flavour.value)
            seed_site(site, seed_value)
        app = create_app(flavour.value, site, base_url=base_url)
    except JirabridgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    login = "admin" if flavour is FlavourChoice.SERVER else DEFAULT_ADMIN_EMAIL
    secret_kind = "password" if flavour is FlavourChoice.SERVER else "API token"
    typer.echo(f"Jira {flavour.value} emulator at {base_url}")
    typer.echo(f"Log in as {login} with {secret_kind} '{DEFAULT_ADMIN_PASSWORD}'")
    typer.echo(f"Control plane: {base_url}/_emulator/state")
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    try:
        server.run()
    finally:
        if state is not None:
            site.save(state)
            typer.echo(f"Saved {len(site.issues)} issues to {state}")


def register(app: typer.Typer) -> None:
    """Add ``emulate`` to ``app``."""
    app.command("emulate")(emulate)
