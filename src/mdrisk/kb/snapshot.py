"""Build the knowledge-base snapshot that ships with mdrisk (``src/mdrisk/data/kb/``).

    python -m mdrisk.kb.snapshot build --data ../shared/data --out src/mdrisk/data/kb

imports the redistributable public sources through the ordinary importers into a fresh
store, fixes the import times, VACUUMs it and writes it xz-compressed with a manifest
(hashes, per-source file and document counts, record counts). The same inputs built with the
same SQLite and liblzma give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import lzma
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mdrisk.kb.importing import import_paths
from mdrisk.kb.store import SCHEMA_VERSION, Store
from mdrisk.kb.store_location import MANIFEST_FILE, MANIFEST_FORMAT, SNAPSHOT_FILE, sha256_hex

# Folders of the shared data, in import order. Each SOURCE.md states a licence that allows
# redistribution (NOTICE.md beside the snapshot reproduces what the licences require).
# ATT&CK Enterprise is left out: 32 MB, and the device analysis uses ATT&CK for ICS.
SOURCE_FOLDERS = (
    "cisa-csaf-icsma",
    "cisa-kev",
    "mitre-atlas",
    "mitre-capec",
    "mitre-cwe",
    "mitre-attack-ics",
    "cve-records-vulnrichment",
)
# When the shared data was retrieved (every SOURCE.md says 2026-11-25): the import time the
# snapshot records for each file, so that rebuilding does not change the bytes.
DATA_RETRIEVED = "2026-11-25T00:00:00+00:00"
# The row in the snapshots table that names the bundled snapshot itself, so provenance
# says when an assessment (or a user store seeded from it) used it.
BUNDLE_IMPORTER = "bundled-snapshot"


def _source_counts(store_path: Path, data_dir: Path) -> dict[str, dict[str, int]]:
    """Files and documents each source folder contributed (from the snapshots table)."""
    counts: dict[str, dict[str, int]] = {}
    with Store.open(store_path) as store:
        snapshots = store.snapshots()
    names_by_folder = {
        folder: {path.name for path in (data_dir / folder).rglob("*") if path.is_file()}
        for folder in SOURCE_FOLDERS
    }
    for snapshot in snapshots:
        folder = next(f for f, names in names_by_folder.items() if snapshot.file in names)
        entry = counts.setdefault(folder, {"files": 0, "documents": 0})
        entry["files"] += 1
        entry["documents"] += snapshot.documents
    return counts


def _finish(store_path: Path, label: str) -> str:
    """Fix import times, add the bundle's own snapshot row, compact. Returns its digest."""
    with Store.open(store_path) as store:
        digest = store.content_digest()
    connection = sqlite3.connect(store_path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        connection.execute("UPDATE snapshots SET imported=?", (DATA_RETRIEVED,))
        connection.execute(
            "INSERT INTO snapshots (importer, file, sha256, imported, documents) "
            "VALUES (?, ?, ?, ?, 0)",
            (BUNDLE_IMPORTER, label, digest, DATA_RETRIEVED),
        )
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("VACUUM")
    finally:
        connection.close()
    return digest


def build(data_dir: Path, out_dir: Path) -> dict:
    """Build the snapshot from ``data_dir`` into ``out_dir``; returns the manifest."""
    missing = [name for name in SOURCE_FOLDERS if not (data_dir / name).is_dir()]
    if missing:
        raise FileNotFoundError(f"{data_dir}: missing source folder(s) {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as work:
        store_path = Path(work) / "kb.sqlite"
        with Store.open(store_path) as store:
            import_paths(store, [data_dir / name for name in SOURCE_FOLDERS])
            counts = store.counts()
        sources = _source_counts(store_path, data_dir)
        label = f"mdrisk-kb-{DATA_RETRIEVED[:10]}"
        digest = _finish(store_path, label)
        database = store_path.read_bytes()
    compressed = lzma.compress(database, preset=9 | lzma.PRESET_EXTREME)
    manifest = {
        "format": MANIFEST_FORMAT,
        "file": SNAPSHOT_FILE,
        "label": label,
        "xz_sha256": sha256_hex(compressed),
        "xz_bytes": len(compressed),
        "sqlite_sha256": sha256_hex(database),
        "sqlite_bytes": len(database),
        "content_digest": digest,
        "schema_version": SCHEMA_VERSION,
        "imported": DATA_RETRIEVED,
        "sources": sources,
        "counts": counts,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SNAPSHOT_FILE).write_bytes(compressed)
    (out_dir / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdrisk.kb.snapshot")
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the bundled snapshot")
    build_parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    build_parser.add_argument("--out", type=Path, required=True, help="where to write it")
    arguments = parser.parse_args(argv)
    manifest = build(arguments.data, arguments.out)
    print(
        f"{arguments.out / SNAPSHOT_FILE}: {manifest['xz_bytes']} bytes "
        f"({manifest['sqlite_bytes']} unpacked), sha256 {manifest['xz_sha256']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
