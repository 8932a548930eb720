"""The FTS5 index's tables: creating them, upgrading an old index in place, swapping a rebuilt one in.

Two tables: ``search_docs`` (the masked display fields and the filter columns) and the FTS5 table
``search_fts`` holding the space-joined tokenizer terms under the ``ascii`` tokenizer, which splits on the
spaces and nothing else; its ``scope`` column holds the complaint's association. A rebuild fills
``*_next`` tables and renames them over the live ones in one short transaction.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import Connection

log = logging.getLogger(__name__)
NEXT = "_next"  # suffix of the tables a rebuild fills


def create_fts(conn: Connection, suffix: str) -> None:
    """The FTS table, ranking by the terms alone: the scope column weighs nothing in bm25."""
    table = f"search_fts{suffix}"
    conn.exec_driver_sql(f"CREATE VIRTUAL TABLE {table} USING fts5(tokens, scope, tokenize='ascii')")
    conn.exec_driver_sql(f"INSERT INTO {table} ({table}, rank) VALUES ('rank', 'bm25(1.0, 0.0)')")


def fts_columns(conn: Connection) -> list[str]:
    return [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(search_fts)")]


def add_scope(conn: Connection) -> None:
    """Give an index built before the scope column one, from its stored terms (no re-tokenizing), in
    one transaction: searches meanwhile read the old table."""
    log.info("search index: adding the association scope to the FTS5 table (once)")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts_scoped")
    create_fts(conn, "_scoped")
    conn.exec_driver_sql(
        "INSERT INTO search_fts_scoped (rowid, tokens, scope) "
        "SELECT f.rowid, f.tokens, coalesce('a' || d.association_id, '') "
        "FROM search_fts f LEFT JOIN search_docs d ON d.id = f.rowid"
    )
    conn.exec_driver_sql("DROP TABLE search_fts")
    conn.exec_driver_sql("ALTER TABLE search_fts_scoped RENAME TO search_fts")


def table_exists(conn: Connection, name: str) -> bool:
    found = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.first() is not None


def create_tables(conn: Connection, suffix: str) -> None:
    """Create the document and FTS tables when missing.

    Index names are global in SQLite and survive the rename that swaps a rebuilt table in, so each new
    table's indexes get a fresh tag; they are created only with the table, never again.
    """
    if not table_exists(conn, f"search_docs{suffix}"):
        tag = uuid.uuid4().hex[:8]
        conn.exec_driver_sql(
            f"CREATE TABLE search_docs{suffix} (id INTEGER PRIMARY KEY, "
            "tracking_code TEXT NOT NULL, title TEXT, text TEXT NOT NULL, nature TEXT, industry TEXT, "
            "district TEXT, merchant TEXT, status TEXT NOT NULL, created_ms INTEGER NOT NULL, "
            "amount_cents INTEGER, association_id INTEGER, source_hash TEXT NOT NULL)"
        )
        table = f"search_docs{suffix}"
        conn.exec_driver_sql(f"CREATE INDEX ix_search_docs_created_{tag} ON {table} (created_ms, id)")
        conn.exec_driver_sql(
            f"CREATE INDEX ix_search_docs_association_{tag} ON {table} (association_id, created_ms)"
        )
    if not table_exists(conn, f"search_fts{suffix}"):
        create_fts(conn, suffix)


def ensure_tables(conn: Connection) -> None:
    """The live tables exist and have today's columns (an index of an older release is upgraded)."""
    create_tables(conn, "")
    if "scope" not in fts_columns(conn):
        add_scope(conn)


def fresh_next_tables(conn: Connection) -> None:
    """Empty ``*_next`` tables for a rebuild (left-overs of a failed one are dropped)."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS search_fts{NEXT}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS search_docs{NEXT}")
    create_tables(conn, NEXT)


def swap_in_next_tables(conn: Connection) -> None:
    """The rebuilt tables replace the live ones (one transaction: a search sees old or new, never none)."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_docs")
    conn.exec_driver_sql(f"ALTER TABLE search_docs{NEXT} RENAME TO search_docs")
    conn.exec_driver_sql(f"ALTER TABLE search_fts{NEXT} RENAME TO search_fts")
