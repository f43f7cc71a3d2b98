"""`jirabridge demo`: two emulated sites kept in sync."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    del app
