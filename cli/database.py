from __future__ import annotations

import typer

app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply all pending migrations; re-mask the search index if the masking rules changed."""
    from core.config import get_settings
    from core.db import get_engine, upgrade_database
    from search.masking import remask_stale_index

    engine = get_engine()
    upgrade_database(engine)
    typer.echo(f"database at head: {engine.url.render_as_string(hide_password=True)}")
    try:
        remasked = remask_stale_index(get_settings(), engine)
    except Exception as error:
        typer.echo(
            f"检索索引未能按新的遮蔽规则更新：{error}；"
            "请在检索服务可用后运行 fairmarket reindex --check --repair",
            err=True,
        )
        raise typer.Exit(code=1) from error
    if remasked is not None:
        typer.echo(
            f"search index re-masked to masking version {remasked.current}"
            f" (was {remasked.previous if remasked.previous is not None else 'unrecorded'}):"
            f" {remasked.stale} stale documents, {remasked.changed} written"
        )
