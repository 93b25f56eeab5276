"""The knowledge-base store keeps what was imported, whole or not at all."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mdrisk.kb.records import VULNERABILITY, AffectedEntry, ImportBatch, Record, Relation
from mdrisk.kb.store import ParsedFile, Store, StoreError


def _batch(key: str, cves: list[str], text: str = "x") -> ImportBatch:
    return ImportBatch(
        importer="test",
        source_key=key,
        records=[Record(VULNERABILITY, cve, {"description": f"{text} {cve}"}) for cve in cves],
        affected=[
            AffectedEntry(cve, "Vendor", "Product", ({"status": "affected", "version": "1.0"},))
            for cve in cves
        ],
        relations=[Relation(cve, "has_weakness", "CWE-287") for cve in cves],
    )


def _parsed(tmp_path: Path, name: str, sha: str, *batches: ImportBatch) -> ParsedFile:
    return ParsedFile(tmp_path / name, "test", sha, list(batches))


def test_a_repeated_import_changes_nothing(tmp_path):
    with Store.open(tmp_path / "kb.sqlite") as store:
        assert store.write([_parsed(tmp_path, "a.json", "s1", _batch("doc-a", ["CVE-2020-1"]))])
        digest = store.content_digest()
        assert (
            store.write([_parsed(tmp_path, "a.json", "s1", _batch("doc-a", ["CVE-2020-1"]))]) == 0
        )
        assert store.content_digest() == digest
        assert len(store.snapshots()) == 1


def test_a_new_version_of_a_document_replaces_only_its_own_rows(tmp_path):
    with Store.open(tmp_path / "kb.sqlite") as store:
        store.write(
            [
                _parsed(tmp_path, "a.json", "s1", _batch("doc-a", ["CVE-2020-1", "CVE-2020-2"])),
                _parsed(tmp_path, "b.json", "s2", _batch("doc-b", ["CVE-2020-2"])),
            ]
        )
        store.write([_parsed(tmp_path, "a.json", "s3", _batch("doc-a", ["CVE-2020-1"], "new"))])
        assert [r.data["description"] for r in store.get("CVE-2020-1")] == ["new CVE-2020-1"]
        assert [r.source_key for r in store.get("CVE-2020-2")] == ["doc-b"]
        assert {a.vuln_id for a in store.affected()} == {"CVE-2020-1", "CVE-2020-2"}
        assert len(store.snapshots()) == 3


def test_a_failed_write_leaves_the_store_as_it_was(tmp_path):
    with Store.open(tmp_path / "kb.sqlite") as store:
        store.write([_parsed(tmp_path, "a.json", "s1", _batch("doc-a", ["CVE-2020-1"]))])
        digest = store.content_digest()
        broken = _batch("doc-b", ["CVE-2020-9"])
        broken.records.append(Record(VULNERABILITY, "CVE-2020-10", {"bad": object()}))
        with pytest.raises(TypeError):
            store.write([_parsed(tmp_path, "b.json", "s2", broken)])
        assert store.content_digest() == digest
        assert not store.has("CVE-2020-9")


def test_a_store_from_a_newer_mdrisk_is_refused(tmp_path):
    path = tmp_path / "kb.sqlite"
    Store.open(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="newer"):
        Store.open(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "kb.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable knowledge base"):
        Store.open(path)


_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mdrisk.kb.records import ImportBatch, Record, AffectedEntry
    from mdrisk.kb.store import ParsedFile, Store
    store = Store.open(sys.argv[1])
    records = [Record("vulnerability", f"CVE-2099-{i}", {"description": "x" * 200})
               for i in range(400_000)]
    affected = [AffectedEntry(f"CVE-2099-{i}", "V", "P") for i in range(400_000)]
    batch = ImportBatch("test", "big-doc", records, affected, [])
    print("writing", flush=True)
    store.write([ParsedFile(Path("big.json"), "test", "big-sha", [batch])])
    print("committed", flush=True)
""")


def test_a_process_killed_mid_import_leaves_the_store_consistent(tmp_path):
    path = tmp_path / "kb.sqlite"
    with Store.open(path) as store:
        store.write([_parsed(tmp_path, "a.json", "s1", _batch("doc-a", ["CVE-2020-1"]))])
        before = store.content_digest()
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "writing"
    time.sleep(0.5)  # well inside the write of 800,000 rows
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with Store.open(path) as store:
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = store.content_digest()
        complete = store.has("CVE-2099-399999")
    # Either the whole import landed or none of it did; never a part.
    assert after == before or complete
    if after == before:
        assert not store_has_any_of(path, "CVE-2099-0")


def store_has_any_of(path: Path, identifier: str) -> bool:
    with Store.open(path) as store:
        return store.has(identifier)
