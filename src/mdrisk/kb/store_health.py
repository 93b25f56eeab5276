"""Is a SQLite file a usable mdrisk knowledge base? Checked when a store is opened, so that a
damaged, foreign or hand-edited file is refused with one message saying how to rebuild it,
before any command reads from it (and before a writing command adds tables to it).

Checks, in order: SQLite's own ``quick_check`` (pages, indexes); mdrisk's tables with their
columns; the schema version in ``meta``; the types of the snapshot table's integer columns.
A record whose JSON was damaged later is caught where it is read (see ``Store``), with its
kind, id and document named.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mdrisk.kb.store_errors import StoreError

# Reading commands skip SQLite's page check on stores larger than this (about 3 s per GB);
# a damaged page there still surfaces as a StoreError when it is read.
QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "snapshots": ("id", "importer", "file", "sha256", "imported", "documents"),
    "documents": ("source_key", "importer", "snapshot_id"),
    "records": ("kind", "id", "source_key", "data"),
    "affected": (
        "vuln_id",
        "source_key",
        "vendor",
        "product",
        "versions",
        "default_status",
        "cpe",
        "purl",
    ),
    "relations": ("src", "rel", "dst", "source_key"),
}


def rebuild_hint(path: Path | None) -> str:
    store = f" --store {path}" if path else ""
    return (
        f"rebuild it: move the file aside, then run 'mdrisk kb import FILES...{store}' "
        f"(or 'mdrisk kb sync{store}')"
    )


def unusable(path: Path | None, what: str) -> StoreError:
    return StoreError(f"{path}: not a usable knowledge base ({what}); {rebuild_hint(path)}")


def table_names(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {row[0] for row in rows}


def check_pages(db: sqlite3.Connection, path: Path | None) -> None:
    problems = [row[0] for row in db.execute("PRAGMA quick_check(5)").fetchall()]
    if problems != ["ok"]:
        raise unusable(path, f"SQLite finds it damaged: {'; '.join(map(str, problems))}")


def check_tables(db: sqlite3.Connection, path: Path | None) -> None:
    """mdrisk's tables with mdrisk's columns, or a StoreError naming what is missing."""
    present = table_names(db)
    if "meta" not in present:
        others = ", ".join(sorted(present)[:5])
        raise StoreError(
            f"{path}: not a knowledge base but a SQLite file of another application (tables "
            f"{others}); it was left as it was. Name a new file with --store to create a "
            "knowledge base there"
        )
    for table, columns in TABLE_COLUMNS.items():
        if table not in present:
            raise unusable(path, f"table {table!r} is missing")
        found = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        missing = [column for column in columns if column not in found]
        if missing:
            raise unusable(path, f"table {table!r} lacks column(s) {', '.join(missing)}")


def schema_version(db: sqlite3.Connection, path: Path | None) -> int | None:
    """The version in ``meta`` (None when not written yet)."""
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise unusable(path, f"meta.schema_version is {row[0]!r}, not a number") from None


def check_snapshot_columns(db: sqlite3.Connection, path: Path | None) -> None:
    row = db.execute(
        "SELECT rowid, id, documents FROM snapshots "
        "WHERE typeof(id) != 'integer' OR typeof(documents) != 'integer' LIMIT 1"
    ).fetchone()
    if row is not None:
        raise unusable(
            path, f"snapshots row {row[0]}: id {row[1]!r} / documents {row[2]!r} are not numbers"
        )
