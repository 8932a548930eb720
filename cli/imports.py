from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Bulk import of complaints and prices (CSV or JSONL).", no_args_is_help=True)


@app.command("complaints")
def complaints(file: Path) -> None:
    """Not available yet."""
    raise typer.Exit(code=2)


@app.command("prices")
def prices(file: Path) -> None:
    """Not available yet."""
    raise typer.Exit(code=2)
