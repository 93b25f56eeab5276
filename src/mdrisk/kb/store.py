"""The SQLite store: versioned schema, one transaction per import, idempotent re-imports.

Each imported file is a snapshot (importer, file, SHA-256, time). A file whose content was
imported before is skipped; a document imported again with new content replaces its own
earlier rows (rows are keyed by the document's ``source_key``), never another document's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdrisk.kb.records import AffectedEntry, ImportBatch, Relation

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY,
    importer TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    imported TEXT NOT NULL,
    documents INTEGER NOT NULL,
    UNIQUE (importer, sha256)
);
CREATE TABLE IF NOT EXISTS documents (
    source_key TEXT PRIMARY KEY,
    importer TEXT NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id)
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    source_key TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id, source_key)
);
CREATE INDEX IF NOT EXISTS records_by_id ON records (id);
CREATE INDEX IF NOT EXISTS records_by_source ON records (source_key);
CREATE TABLE IF NOT EXISTS affected (
    vuln_id TEXT NOT NULL,
    source_key TEXT NOT NULL,
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    versions TEXT NOT NULL,
    default_status TEXT NOT NULL,
    cpe TEXT,
    purl TEXT
);
CREATE INDEX IF NOT EXISTS affected_by_vuln ON affected (vuln_id);
CREATE INDEX IF NOT EXISTS affected_by_source ON affected (source_key);
CREATE TABLE IF NOT EXISTS relations (
    src TEXT NOT NULL,
    rel TEXT NOT NULL,
    dst TEXT NOT NULL,
    source_key TEXT NOT NULL,
    PRIMARY KEY (src, rel, dst, source_key)
);
CREATE INDEX IF NOT EXISTS relations_by_dst ON relations (dst);
CREATE INDEX IF NOT EXISTS relations_by_source ON relations (source_key);
"""


class StoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class Snapshot:
    id: int
    importer: str
    file: str
    sha256: str
    imported: str
    documents: int


@dataclass(frozen=True)
class ParsedFile:
    """A file parsed and ready to be written: nothing of it is in the store yet."""

    path: Path
    importer: str
    sha256: str
    batches: list[ImportBatch]


@dataclass(frozen=True)
class StoredRecord:
    kind: str
    id: str
    source_key: str
    data: dict[str, Any]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Store:
    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path | str, read_only: bool = False) -> Store:
        """Open (or create) the store at ``path``. ``read_only``: an existing store that is
        only read, never changed, not even its journal mode."""
        path = Path(path)
        try:
            if read_only:
                connection = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(path, isolation_level=None)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable knowledge base ({exc})") from None
        store = cls(connection, path)
        if read_only:
            store._check_version()
        else:
            store._migrate()
        return store

    @classmethod
    def in_memory(cls) -> Store:
        store = cls(sqlite3.connect(":memory:", isolation_level=None), None)
        store._migrate()
        return store

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._db.execute(statement)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: knowledge base schema {row[0]} is newer than this "
                    f"mdrisk understands ({SCHEMA_VERSION}); upgrade mdrisk"
                )
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise StoreError(f"{self.path}: not a usable knowledge base ({exc})") from None
        except BaseException:
            self._rollback()
            raise

    def _check_version(self) -> None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable knowledge base ({exc})") from None
        if row is None or int(row[0]) != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: knowledge base schema {row[0] if row else 'unknown'}, this "
                f"mdrisk reads {SCHEMA_VERSION}"
            )

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # --- writing -------------------------------------------------------------------------

    def is_imported(self, importer: str, sha256: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM snapshots WHERE importer=? AND sha256=?", (importer, sha256)
        ).fetchone()
        return row is not None

    def write(self, parsed_files: list[ParsedFile], now: str | None = None) -> int:
        """Write every parsed file in one transaction; returns how many documents changed."""
        imported = now or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        changed = 0
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for parsed in parsed_files:
                if self.is_imported(parsed.importer, parsed.sha256):
                    continue
                cursor = self._db.execute(
                    "INSERT INTO snapshots (importer, file, sha256, imported, documents) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        parsed.importer,
                        parsed.path.name,
                        parsed.sha256,
                        imported,
                        len(parsed.batches),
                    ),
                )
                snapshot_id = cursor.lastrowid
                for batch in parsed.batches:
                    self._replace_document(batch, snapshot_id)
                    changed += 1
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        return changed

    def _replace_document(self, batch: ImportBatch, snapshot_id: int | None) -> None:
        key = batch.source_key
        for table in ("records", "affected", "relations"):
            self._db.execute(f"DELETE FROM {table} WHERE source_key=?", (key,))
        self._db.execute(
            "INSERT OR REPLACE INTO documents (source_key, importer, snapshot_id) VALUES (?,?,?)",
            (key, batch.importer, snapshot_id),
        )
        self._db.executemany(
            "INSERT OR REPLACE INTO records (kind, id, source_key, data) VALUES (?, ?, ?, ?)",
            [
                (r.kind, r.id, key, json.dumps(r.data, sort_keys=True, ensure_ascii=False))
                for r in batch.records
            ],
        )
        self._db.executemany(
            "INSERT INTO affected (vuln_id, source_key, vendor, product, versions, "
            "default_status, cpe, purl) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    a.vuln_id,
                    key,
                    a.vendor,
                    a.product,
                    json.dumps(list(a.versions), sort_keys=True),
                    a.default_status,
                    a.cpe,
                    a.purl,
                )
                for a in batch.affected
            ],
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO relations (src, rel, dst, source_key) VALUES (?, ?, ?, ?)",
            [(r.src, r.rel, r.dst, key) for r in batch.relations],
        )

    # --- reading -------------------------------------------------------------------------

    def get(self, identifier: str) -> list[StoredRecord]:
        rows = self._db.execute(
            "SELECT kind, id, source_key, data FROM records WHERE id=? ORDER BY kind, source_key",
            (identifier,),
        ).fetchall()
        return [StoredRecord(kind, rid, key, json.loads(data)) for kind, rid, key, data in rows]

    def records(self, kind: str) -> Iterator[StoredRecord]:
        for rkind, rid, key, data in self._db.execute(
            "SELECT kind, id, source_key, data FROM records WHERE kind=? ORDER BY id, source_key",
            (kind,),
        ):
            yield StoredRecord(rkind, rid, key, json.loads(data))

    def has(self, identifier: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM records WHERE id=? LIMIT 1", (identifier,)).fetchone()
            is not None
        )

    def has_kind(self, kind: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM records WHERE kind=? LIMIT 1", (kind,)).fetchone()
            is not None
        )

    def affected(self, vuln_id: str | None = None) -> Iterator[AffectedEntry]:
        query = "SELECT vuln_id, vendor, product, versions, default_status, cpe, purl FROM affected"
        params: tuple[str, ...] = ()
        if vuln_id is not None:
            query += " WHERE vuln_id=?"
            params = (vuln_id,)
        query += " ORDER BY vuln_id, source_key, rowid"
        for vid, vendor, product, versions, default_status, cpe, purl in self._db.execute(
            query, params
        ):
            yield AffectedEntry(
                vid, vendor, product, tuple(json.loads(versions)), default_status, cpe, purl
            )

    def relations(
        self, src: str | None = None, rel: str | None = None, dst: str | None = None
    ) -> list[Relation]:
        clauses, params = [], []
        for column, value in (("src", src), ("rel", rel), ("dst", dst)):
            if value is not None:
                clauses.append(f"{column}=?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT DISTINCT src, rel, dst FROM relations{where} ORDER BY src, rel, dst", params
        ).fetchall()
        return [Relation(*row) for row in rows]

    def snapshots(self) -> list[Snapshot]:
        rows = self._db.execute(
            "SELECT id, importer, file, sha256, imported, documents FROM snapshots ORDER BY id"
        ).fetchall()
        return [Snapshot(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        counts = dict(
            self._db.execute(
                "SELECT kind, COUNT(DISTINCT id) FROM records GROUP BY kind ORDER BY kind"
            ).fetchall()
        )
        counts["affected product entries"] = self._db.execute(
            "SELECT COUNT(*) FROM affected"
        ).fetchone()[0]
        counts["relations"] = self._db.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT src, rel, dst FROM relations)"
        ).fetchone()[0]
        return counts

    def content_digest(self) -> str:
        """A hash of everything the store knows apart from import times: equal digests mean
        equal knowledge."""
        digest = hashlib.sha256()
        for query in (
            "SELECT kind, id, source_key, data FROM records ORDER BY kind, id, source_key",
            "SELECT vuln_id, source_key, vendor, product, versions, default_status, cpe, purl "
            "FROM affected ORDER BY vuln_id, source_key, vendor, product, versions",
            "SELECT src, rel, dst, source_key FROM relations ORDER BY src, rel, dst, source_key",
            "SELECT source_key, importer FROM documents ORDER BY source_key",
            "SELECT importer, file, sha256, documents FROM snapshots ORDER BY id",
        ):
            for row in self._db.execute(query):
                digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
                digest.update(b"\n")
        return digest.hexdigest()
