"""The SQLite store: versioned schema, one transaction per import, idempotent re-imports.

Each imported file is a snapshot (importer, file, SHA-256, time). A file whose content was
imported before is skipped; a document imported again with new content replaces its own
earlier rows (rows are keyed by the document's ``source_key``), never another document's.

Opening checks the file first (:mod:`mdrisk.kb.store_health`): a damaged, foreign or
hand-edited file is refused with a message saying how to rebuild it. Reading commands open it
read-only (immutable where its folder cannot be written, e.g. read-only media); a writer waits
up to ``BUSY_TIMEOUT_S`` for another writer and says so when it gives up.

Each distinct affected-versions text is read once, at import, into what the matcher judges
(``matching.plain``: release bounds as sortable keys, or "null" where only the full reading
will do), kept in ``version_readings`` and named by ``affected.reading``. ``meta`` records
what the readings were computed with (``plain.reading_format``: the reading code and
univers); a store whose readings are missing or were computed otherwise gets them again on a
writable open and, until then, is read the old way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mdrisk.kb import store_health
from mdrisk.kb.matching import plain
from mdrisk.kb.records import AffectedEntry, AffectedName, ImportBatch, Relation
from mdrisk.kb.store_errors import StoreBusy, StoreError

__all__ = ["BUSY_TIMEOUT_S", "ParsedFile", "Snapshot", "Store", "StoreBusy", "StoreError"]

SCHEMA_VERSION = 1
# meta key: the ``plain.reading_format`` the rows of ``version_readings`` were computed with
READINGS_KEY = "version_readings"
_IDS_PER_QUERY = 500  # SQL variables in one lookup of readings
_READING_IDS_KEPT = 200_000  # versions texts whose reading id a writer remembers
# a product's entries read from the index alone (their versions texts are not read)
_READINGS_INDEX = (
    "CREATE INDEX IF NOT EXISTS affected_readings_by_name ON affected "
    "(vendor, product, vuln_id, source_key, default_status, reading)"
)
# How long a writer waits for another process's write to finish before giving up.
BUSY_TIMEOUT_S = 30.0

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
    purl TEXT,
    reading INTEGER
);
CREATE INDEX IF NOT EXISTS affected_by_vuln ON affected (vuln_id);
CREATE INDEX IF NOT EXISTS affected_by_source ON affected (source_key);
CREATE INDEX IF NOT EXISTS affected_by_name ON affected (vendor, product);
CREATE TABLE IF NOT EXISTS version_readings (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    reading TEXT NOT NULL
);
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


def _decoded(text: str, path: Path | None, where: str) -> Any:
    """A JSON column's value, or a StoreError naming the row."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as error:
        raise store_health.unusable(path, f"{where}: not JSON ({error})") from None


# SQL: the row's versions when they are not a JSON list of objects (checked in SQLite, without
# decoding them in Python), else NULL; CASE tests in order, so only valid JSON is typed
_VERSIONS_DAMAGED = (
    "CASE WHEN NOT json_valid(versions) THEN versions "
    "WHEN json_type(versions) != 'array' THEN versions "
    "WHEN EXISTS (SELECT 1 FROM json_each(versions) WHERE type != 'object') THEN versions END"
)


def _constraint_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


@lru_cache(maxsize=65536)
def _shared_constraints(text: str) -> tuple[dict[str, Any], ...] | None:
    """The affected versions a stored JSON text holds, decoded once; None where the text is
    not a JSON list of objects (the caller says which row)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return tuple(value) if _constraint_list(value) else None


def _read_only_uri(path: Path) -> str:
    """``mode=ro``, and ``immutable=1`` where SQLite could not write its lock files beside the
    store (read-only media, a folder of another user): there nothing can change it anyway."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    if not os.access(path.resolve().parent, os.W_OK) or not os.access(path, os.W_OK):
        uri += "&immutable=1"
    return uri


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Store:
    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path | None,
        busy_timeout: float = BUSY_TIMEOUT_S,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self._db = connection
        self.path = path
        self._busy_timeout = busy_timeout
        self._on_wait = on_wait
        # whether version_readings holds what this mdrisk would compute (else not read)
        self._readings_current = False
        # a versions text's digest -> its version_readings id, for the texts written lately
        self._reading_ids: dict[bytes, int] = {}

    @classmethod
    def open(
        cls,
        path: Path | str,
        read_only: bool = False,
        busy_timeout: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> Store:
        """Open (or, when writing, create) the store at ``path``, after checking that it is
        one. ``read_only``: an existing store that is only read, never changed, not even its
        journal mode; a missing file is then a StoreError. ``on_wait`` hears, once per write,
        that another process is writing and how long this one will wait for it."""
        path = Path(path)
        busy_timeout = BUSY_TIMEOUT_S if busy_timeout is None else busy_timeout
        if read_only and not path.is_file():
            raise StoreError(
                f"no knowledge base at {path} (create one with 'mdrisk kb import FILES... "
                f"--store {path}' or 'mdrisk kb sync --store {path}')"
            )
        try:
            if read_only:
                connection = sqlite3.connect(
                    _read_only_uri(path), uri=True, isolation_level=None, timeout=busy_timeout
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
        except sqlite3.DatabaseError as exc:
            raise store_health.unusable(path, str(exc)) from None
        store = cls(connection, path, busy_timeout, on_wait)
        try:
            store._check(read_only)
            if not read_only:
                store._migrate()
            store._readings_current = store._readings_stamp() == plain.reading_format()
        except BaseException:
            connection.close()
            raise
        return store

    @classmethod
    def in_memory(cls) -> Store:
        store = cls(sqlite3.connect(":memory:", isolation_level=None), None)
        store._migrate()
        store._readings_current = True
        return store

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check(self, read_only: bool) -> None:
        """Refuse a damaged, foreign or newer store before anything reads or writes it. A
        file without any table (new, or empty) is left for ``_migrate`` to set up."""
        try:
            big = self.path is not None and self.path.stat().st_size > (
                store_health.QUICK_CHECK_MAX_BYTES
            )
            if not (read_only and big):
                store_health.check_pages(self._db, self.path)
            if not read_only and not store_health.table_names(self._db):
                return
            store_health.check_tables(self._db, self.path)
            version = store_health.schema_version(self._db, self.path)
            store_health.check_snapshot_columns(self._db, self.path)
        except sqlite3.OperationalError as exc:
            raise self._unusable_or_busy(exc) from None
        except sqlite3.DatabaseError as exc:
            raise store_health.unusable(self.path, str(exc)) from None
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: knowledge base schema {version} is newer than this "
                f"mdrisk understands ({SCHEMA_VERSION}); upgrade mdrisk"
            )
        if read_only and version != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: knowledge base schema {version or 'unknown'}, this mdrisk "
                f"reads {SCHEMA_VERSION}; {store_health.rebuild_hint(self.path)}"
            )

    def _unusable_or_busy(self, error: sqlite3.OperationalError) -> StoreError:
        if "locked" in str(error) or "busy" in str(error):
            return StoreBusy(
                f"{self.path}: another process is writing to the knowledge base; gave up "
                f"after waiting {self._busy_timeout:g} s (try again when it has finished)"
            )
        return store_health.unusable(self.path, str(error))

    def _begin_write(self) -> None:
        """Take the write lock; when another process holds it, say so and wait for it."""
        try:
            self._db.execute("PRAGMA busy_timeout=0")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            if self._on_wait is not None:
                self._on_wait(
                    f"{self.path}: another process is writing to the knowledge base; "
                    f"waiting up to {self._busy_timeout:g} s"
                )
            self._db.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._unusable_or_busy(exc) from None
        finally:
            self._db.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")

    def _migrate(self) -> None:
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.OperationalError as exc:
            raise self._unusable_or_busy(exc) from None
        self._begin_write()
        try:
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._db.execute(statement)
            if store_health.schema_version(self._db, self.path) is None:
                self._db.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(affected)")}
            if "reading" not in columns:  # a store written before readings were kept
                self._db.execute("ALTER TABLE affected ADD COLUMN reading INTEGER")
            if self._readings_stamp() != plain.reading_format():
                self._read_all_versions()
            self._db.execute(_READINGS_INDEX)
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self._rollback()
            raise store_health.unusable(self.path, str(exc)) from None
        except BaseException:
            self._rollback()
            raise

    def _readings_stamp(self) -> str | None:
        """What the stored readings were computed with (None: none stored, or no table)."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (READINGS_KEY,)).fetchone()
        except sqlite3.OperationalError:  # no meta table yet
            return None
        if row is None or not store_health.table_names(self._db) >= {"version_readings"}:
            return None
        return str(row[0])

    def _read_all_versions(self) -> None:
        """(Re)compute the reading of every stored versions text: a store written before
        readings were kept, or by an mdrisk that reads versions otherwise."""
        self._reading_ids.clear()
        self._db.execute("DELETE FROM version_readings")
        texts = self._db.execute("SELECT DISTINCT versions FROM affected")
        self._db.executemany(
            "INSERT OR IGNORE INTO version_readings (digest, reading) VALUES (?, ?)",
            ((plain.text_digest(text), plain.stored_reading(text)) for (text,) in texts),
        )
        self._db.create_function("mdrisk_text_digest", 1, plain.text_digest, deterministic=True)
        self._db.execute(
            "UPDATE affected SET reading = (SELECT id FROM version_readings "
            "WHERE digest = mdrisk_text_digest(affected.versions))"
        )
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (READINGS_KEY, plain.reading_format()),
        )

    def _rollback(self) -> None:
        self._reading_ids.clear()  # ids written in the transaction are gone
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # --- writing -------------------------------------------------------------------------

    def is_imported(self, importer: str, sha256: str) -> bool:
        """Whether a file with this content was imported at some time."""
        row = self._db.execute(
            "SELECT 1 FROM snapshots WHERE importer=? AND sha256=?", (importer, sha256)
        ).fetchone()
        return row is not None

    def is_current(
        self, importer: str, sha256: str, alongside: frozenset[str] = frozenset()
    ) -> bool:
        """Whether a file with this content was imported and the store still holds what it
        wrote. A document of it that a later file replaced (a newer release, or a cut one
        imported with ``--replace``) makes it stale, unless every such later file is among
        ``alongside`` (the SHA-256s of the files imported with it now), which will replace
        it again: two files of one catalogue (KEV's JSON and CSV) do not take turns."""
        row = self._db.execute(
            "SELECT id, documents, imported FROM snapshots WHERE importer=? AND sha256=?",
            (importer, sha256),
        ).fetchone()
        if row is None:
            return False
        snapshot_id, written, imported = row
        held = self._db.execute(
            "SELECT COUNT(*) FROM documents WHERE snapshot_id=?", (snapshot_id,)
        ).fetchone()[0]
        if held >= written:
            return True
        later = {
            later_sha
            for (later_sha,) in self._db.execute(
                "SELECT DISTINCT s.sha256 FROM documents d JOIN snapshots s "
                "ON s.id = d.snapshot_id WHERE d.importer=? AND s.id != ? AND s.imported >= ?",
                (importer, snapshot_id, imported),
            )
        }
        return bool(later) and later <= alongside

    def document_file(self, source_key: str) -> str | None:
        """The name of the file the store's copy of a document came from."""
        row = self._db.execute(
            "SELECT s.file FROM documents d JOIN snapshots s ON s.id = d.snapshot_id "
            "WHERE d.source_key=?",
            (source_key,),
        ).fetchone()
        return None if row is None else str(row[0])

    def document_ids(self, source_key: str) -> dict[str, set[str]]:
        """The ids the store holds from one document, by kind of record."""
        found: dict[str, set[str]] = {}
        for kind, record_id in self._db.execute(
            "SELECT kind, id FROM records WHERE source_key=?", (source_key,)
        ):
            found.setdefault(kind, set()).add(record_id)
        return found

    def document_relations(self, source_key: str) -> dict[str, set[tuple[str, str]]]:
        """The (src, dst) pairs the store holds from one document, by kind of relation."""
        found: dict[str, set[tuple[str, str]]] = {}
        for src, rel, dst in self._db.execute(
            "SELECT src, rel, dst FROM relations WHERE source_key=?", (source_key,)
        ):
            found.setdefault(rel, set()).add((src, dst))
        return found

    def write(self, parsed_files: list[ParsedFile], now: str | None = None) -> int:
        """Write every parsed file in one transaction; returns how many documents changed."""
        imported = now or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        changed = 0
        self._begin_write()
        try:
            # another process may have written since: ids are read again, and readings an
            # mdrisk that reads versions otherwise computed are computed again
            self._reading_ids.clear()
            if self._readings_stamp() != plain.reading_format():
                self._read_all_versions()
            self._readings_current = True
            for parsed in parsed_files:
                if self.is_current(parsed.importer, parsed.sha256):
                    continue
                # A file imported before whose documents were replaced since takes its
                # snapshot row back, with this import's name and time.
                snapshot_id = self._db.execute(
                    "INSERT INTO snapshots (importer, file, sha256, imported, documents) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (importer, sha256) DO UPDATE SET "
                    "file=excluded.file, imported=excluded.imported, "
                    "documents=excluded.documents RETURNING id",
                    (
                        parsed.importer,
                        parsed.path.name,
                        parsed.sha256,
                        imported,
                        len(parsed.batches),
                    ),
                ).fetchone()[0]
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
        texts = [json.dumps(list(a.versions), sort_keys=True) for a in batch.affected]
        reading_ids = self._reading_ids_of(texts)
        self._db.executemany(
            "INSERT INTO affected (vuln_id, source_key, vendor, product, versions, "
            "default_status, cpe, purl, reading) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    a.vuln_id,
                    key,
                    a.vendor,
                    a.product,
                    text,
                    a.default_status,
                    a.cpe,
                    a.purl,
                    reading_ids[text],
                )
                for a, text in zip(batch.affected, texts, strict=True)
            ],
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO relations (src, rel, dst, source_key) VALUES (?, ?, ?, ?)",
            [(r.src, r.rel, r.dst, key) for r in batch.relations],
        )

    def _reading_ids_of(self, texts: list[str]) -> dict[str, int]:
        """The version_readings id of each versions text, its reading computed and stored
        where the store holds none yet (one per distinct text)."""
        if len(self._reading_ids) > _READING_IDS_KEPT:
            self._reading_ids.clear()
        found: dict[str, int] = {}
        for text in texts:
            if text in found:
                continue
            digest = plain.text_digest(text)
            known = self._reading_ids.get(digest)
            if known is None:
                row = self._db.execute(
                    "SELECT id FROM version_readings WHERE digest=?", (digest,)
                ).fetchone()
                if row is None:
                    row = self._db.execute(
                        "INSERT INTO version_readings (digest, reading) VALUES (?, ?) RETURNING id",
                        (digest, plain.stored_reading(text)),
                    ).fetchone()
                known = self._reading_ids[digest] = int(row[0])
            found[text] = known
        return found

    # --- reading -------------------------------------------------------------------------

    def get(self, identifier: str) -> list[StoredRecord]:
        rows = self._db.execute(
            "SELECT kind, id, source_key, data FROM records WHERE id=? ORDER BY kind, source_key",
            (identifier,),
        ).fetchall()
        return [self._record(kind, rid, key, data) for kind, rid, key, data in rows]

    def _record(self, kind: str, rid: str, key: str, data: str) -> StoredRecord:
        where = f"record {kind} {rid} (document {key})"
        value = _decoded(data, self.path, where)
        if not isinstance(value, dict):
            raise store_health.unusable(self.path, f"{where} is not a JSON object")
        return StoredRecord(kind, rid, key, value)

    def records(self, kind: str) -> Iterator[StoredRecord]:
        for rkind, rid, key, data in self._db.execute(
            "SELECT kind, id, source_key, data FROM records WHERE kind=? ORDER BY id, source_key",
            (kind,),
        ):
            yield self._record(rkind, rid, key, data)

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
            constraints = self._constraints(versions, vid, product)
            yield AffectedEntry(vid, vendor, product, constraints, default_status, cpe, purl)

    def affected_names(self, versions_mentioning: str = "") -> Iterator[AffectedName]:
        """Every affected row's names (vendor, product, CPE, purl) without its versions, in
        the order of :meth:`affected`; the versions only of rows whose versions text holds
        ``versions_mentioning`` (any case), so a large store is read without decoding them.
        Versions that are not a JSON list of objects are refused here all the same."""
        wanted = f"%{versions_mentioning}%" if versions_mentioning else None
        query = (
            "SELECT vuln_id, vendor, product, cpe, purl, "
            "CASE WHEN ? IS NOT NULL AND versions LIKE ? THEN versions END, "
            f"{_VERSIONS_DAMAGED} "
            "FROM affected ORDER BY vuln_id, source_key, rowid"
        )
        try:
            rows = self._db.execute(query, (wanted, wanted))
        except sqlite3.OperationalError as error:  # an SQLite built without its JSON functions
            if "no such function" not in str(error):
                raise
            rows = self._db.execute(query.replace(_VERSIONS_DAMAGED, "NULL"), (wanted, wanted))
        for vid, vendor, product, cpe, purl, versions, damaged in rows:
            if damaged is not None:
                self._constraints(damaged, vid, product)
            constraints = () if versions is None else self._constraints(versions, vid, product)
            yield AffectedName(vendor, product, cpe, purl, constraints)

    def indexes_names(self) -> bool:
        """Whether :meth:`affected_of` reads through an index (a store written before the
        index existed gets it at its next import; until then it reads the whole table)."""
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='index' AND name='affected_by_name'"
        ).fetchone()
        return row is not None

    def affected_versions_of(self, vendor: str, product: str) -> Iterator[tuple[str, str, str]]:
        """The affected rows of one (vendor, product) name as (vulnerability id, default
        status, versions as stored), in the order of :meth:`affected`. The versions are JSON
        text (equal texts, equal versions): :meth:`decode_versions` reads one."""
        yield from self._db.execute(
            "SELECT vuln_id, default_status, versions FROM affected "
            "WHERE vendor=? AND product=? ORDER BY vuln_id, source_key, rowid",
            (vendor, product),
        )

    def affected_keys_of(self, vendor: str, product: str) -> list[tuple[str, str, str | int]]:
        """The affected rows of one (vendor, product) name as (vulnerability id, default
        status, versions key), in the order of :meth:`affected`. The key is the id of the
        versions' reading as kept at import (:meth:`stored_readings`) where the store keeps
        one this mdrisk can use, else the versions text (:meth:`affected_versions_of`)."""
        if not self._readings_current:
            return list(self.affected_versions_of(vendor, product))
        rows: list[tuple[str, str, str | int]] = []
        for vuln_id, default_status, reading, rowid in self._db.execute(
            "SELECT vuln_id, default_status, reading, rowid FROM affected "
            "WHERE vendor=? AND product=? ORDER BY vuln_id, source_key, rowid",
            (vendor, product),
        ):
            if reading is None:  # not expected: every writer stores it
                (reading,) = self._db.execute(
                    "SELECT versions FROM affected WHERE rowid=?", (rowid,)
                ).fetchone()
            rows.append((vuln_id, default_status, reading))
        return rows

    def stored_readings(self, reading_ids: Iterable[int]) -> dict[int, str]:
        """The plain readings (``plain.to_json``) kept under these ids."""
        found: dict[int, str] = {}
        wanted = list(reading_ids)
        for start in range(0, len(wanted), _IDS_PER_QUERY):
            chunk = wanted[start : start + _IDS_PER_QUERY]
            found.update(
                self._db.execute(
                    "SELECT id, reading FROM version_readings WHERE id IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        return found

    def versions_of_reading(self, reading_id: int, vendor: str, product: str) -> str:
        """The versions text (as stored) of one product's entries with this reading."""
        row = self._db.execute(
            "SELECT versions FROM affected WHERE vendor=? AND product=? AND reading=? LIMIT 1",
            (vendor, product, reading_id),
        ).fetchone()
        if row is None:
            raise store_health.unusable(
                self.path, f"no affected entry of {product} has versions reading {reading_id}"
            )
        return str(row[0])

    def decode_versions(self, text: str, vuln_id: str, product: str) -> tuple[dict[str, Any], ...]:
        """The constraint dicts of a versions text of :meth:`affected_versions_of` (texts read
        before share one tuple, not to be changed); a StoreError naming the row where the
        text is not a JSON list of objects."""
        constraints = _shared_constraints(text)
        return self._constraints(text, vuln_id, product) if constraints is None else constraints

    def _constraints(self, versions: str, vid: str, product: str) -> tuple[dict[str, Any], ...]:
        constraints = _decoded(versions, self.path, f"the affected versions of {vid} ({product})")
        if not _constraint_list(constraints):
            raise store_health.unusable(
                self.path,
                f"the affected versions of {vid} ({product}) are not a JSON list of objects",
            )
        return tuple(constraints)

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
