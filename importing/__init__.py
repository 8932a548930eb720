"""Bulk import of complaints and prices from CSV or JSONL files, streamed and idempotent."""
