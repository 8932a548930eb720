"""The ``fairmarket`` command: one sub-module per command group.

The sub-modules import only typer, rich and the standard library at the top; each command imports what
it needs (SQLAlchemy, pandas, Scrapy, jieba, FastAPI …) when it runs, so ``--help`` and a light command
do not pay for the heaviest one. ``tests/cli/test_startup.py`` keeps it so.
"""

from __future__ import annotations

import typer

from cli import (
    alerts,
    apikeys,
    catalogue,
    complaints,
    crawl,
    database,
    demo,
    detect,
    imports,
    scheduler,
    search,
    status,
    users,
)

app = typer.Typer(
    help="FairMarket: consumer complaints and livelihood-goods price monitoring.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(database.app, name="db")
app.add_typer(imports.app, name="import")
app.add_typer(users.app, name="user")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(complaints.app, name="complaints")
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(alerts.app, name="alerts")
app.command("demo")(demo.demo)
app.command("serve")(demo.serve)
app.command("crawl")(crawl.crawl)
app.add_typer(crawl.sites_app, name="sites")
app.command("detect")(detect.detect)
app.command("reindex")(search.reindex)
app.command("search")(search.search)
app.command("status")(status.status)
app.command("scheduler")(scheduler.scheduler)

if __name__ == "__main__":
    app()
