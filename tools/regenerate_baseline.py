"""Regenerate the single baseline migration from core/models.py (pre-release only)."""

import tempfile
from pathlib import Path

from alembic import command

from core.db import MIGRATIONS_DIR, alembic_config

baseline = MIGRATIONS_DIR / "versions" / "0001_baseline_schema.py"
baseline.unlink(missing_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    command.revision(
        alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}"),
        message="baseline schema",
        autogenerate=True,
        rev_id="0001",
    )
print(f"wrote {baseline}")
