"""Every entry point works as the first command on an empty database: schema at head, catalogue seeded.

(``scrapy crawl`` is covered in tests/crawlers/test_end_to_end.py, ``import`` in test_imports.py.)
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.main import create_app
from cli.main import app
from core.config import Settings
from core.db import get_engine
from core.models import Product


def _catalogued(db_url: str) -> int:
    with Session(get_engine(db_url)) as session:
        count = select(func.count()).select_from(Product).where(Product.status == "catalogued")
        return session.scalar(count) or 0


def test_detect_on_an_empty_database(cli_env: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["detect", "--json"])
    assert result.exit_code == 0, result.output
    assert _catalogued(cli_env) > 40


def test_catalogue_review_on_an_empty_database(cli_env: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalogue", "review", "--json"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert _catalogued(cli_env) > 40


def test_serve_on_an_empty_database(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        products = client.get("/api/products").json()
    assert products["count"] > 40
