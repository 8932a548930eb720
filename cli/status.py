from __future__ import annotations

import typer


def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Not available yet."""
    raise typer.Exit(code=2)
