"""CLI fixtures: the ``fairmarket`` app pointed at the test database through its environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.config import get_settings
from core.db import get_engine


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Environment as a user would set it; the settings and engine caches are reset around the test."""
    monkeypatch.setenv("FAIRMARKET_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRMARKET_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FAIRMARKET_SEARCH_URL", "")
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield db_url
    get_engine(db_url).dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
