"""``fairmarket --help`` and light commands do not import the heavy libraries other commands need.

Each command imports what it runs (cli/main.py); a module-level import of pandas, Scrapy, jieba or
FastAPI in any command module would again slow every command down by seconds. Checked in a fresh
interpreter, by which modules got imported (not by timing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Libraries that only some commands need: analysis, crawling, search, serving, scheduling, delivery.
HEAVY = (
    "pandas",
    "numpy",
    "scipy",
    "scrapy",
    "twisted",
    "jieba",
    "fastapi",
    "starlette",
    "uvicorn",
    "apscheduler",
    "elasticsearch",
    "httpx",
    "apprise",
    "openpyxl",
    "pwdlib",
)
# What every command that touches the database needs anyway; --help needs none of it. (Pydantic is not
# in the list: typer itself uses it to build the parameters.)
DATABASE = ("sqlalchemy", "alembic")

EVERY_HELP_PAGE = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from cli.main import app

runner, pages = CliRunner(), 0

def walk(command, path):
    global pages
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
    pages += 1
    for name, sub in getattr(command, "commands", {}).items():
        walk(sub, [*path, name])

walk(get_command(app), [])
print(json.dumps({"pages": pages, "modules": sorted(sys.modules)}))
"""

ONE_COMMAND = """
import json, sys
from typer.testing import CliRunner
from cli.main import app

result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"exit_code": result.exit_code, "modules": sorted(sys.modules)}))
"""


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return sorted({module.split(".")[0] for module in modules} & set(names))


def test_no_help_page_imports_a_heavy_library_or_the_database() -> None:
    outcome = _run(EVERY_HELP_PAGE)
    assert outcome["pages"] >= 25
    assert _loaded(outcome["modules"], HEAVY + DATABASE) == []


@pytest.mark.parametrize(
    "command",
    [["status", "--json"], ["user", "list"], ["apikey", "list"], ["complaints", "overdue", "--json"]],
)
def test_light_commands_import_only_the_database_layer(command: list[str], tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "FAIRMARKET_DATA_DIR": str(tmp_path),
        "FAIRMARKET_DATABASE_URL": f"sqlite:///{tmp_path / 'fairmarket.db'}",
        "FAIRMARKET_SEARCH_URL": "",
    }
    outcome = _run(ONE_COMMAND, *command, env=env)
    assert outcome["exit_code"] == 0
    assert _loaded(outcome["modules"], HEAVY) == []
