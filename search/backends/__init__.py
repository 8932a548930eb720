"""Search backends: SQLite FTS5 (embedded) and Elasticsearch."""
