from __future__ import annotations

import typer


def detect() -> None:
    """Not available yet: lands with its issue."""
    typer.echo("fairmarket detect: not implemented yet", err=True)
    raise typer.Exit(code=2)
