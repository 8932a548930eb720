from __future__ import annotations

import typer

app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply all pending migrations to the configured database."""
    from core.db import get_engine, upgrade_database

    engine = get_engine()
    upgrade_database(engine)
    typer.echo(f"database at head: {engine.url.render_as_string(hide_password=True)}")
