"""Bulk import of complaints and prices from CSV or JSONL files, streamed and idempotent."""

# The source of imported prices whose rows name none. Here rather than in importing.prices, so that
# ``fairmarket import prices --help`` can show it without importing the write path.
DEFAULT_SOURCE = "import"
