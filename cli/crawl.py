from __future__ import annotations

import typer


def crawl() -> None:
    """Not available yet: lands with its issue."""
    typer.echo("fairmarket crawl: not implemented yet", err=True)
    raise typer.Exit(code=2)
