from __future__ import annotations

import typer


def reindex() -> None:
    """Not available yet: lands with the complaints/search issue."""
    typer.echo("fairmarket reindex: not implemented yet", err=True)
    raise typer.Exit(code=2)


def search(query: str) -> None:
    """Not available yet: lands with the complaints/search issue."""
    typer.echo("fairmarket search: not implemented yet", err=True)
    raise typer.Exit(code=2)
