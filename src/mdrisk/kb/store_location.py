"""The knowledge-base snapshot that ships with mdrisk, and which store a command opens.

With no ``--store`` and no store of the user's at ``paths.default_store_path()``, the bundled
snapshot is used: checked against its manifest's SHA-256, unpacked once into the cache folder
(``paths.cache_dir()``) and only read there; site-packages is never written. A command that
writes (``kb import``, ``kb sync``) into the default store starts that store as a copy of the
snapshot, so the user's store is the snapshot plus their updates.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from mdrisk.errors import InputError, Problem
from mdrisk.kb.paths import default_store_path
from mdrisk.kb.store_errors import StoreError
from mdrisk.user_dirs import cache_dir

SNAPSHOT_FILE = "kb-snapshot.sqlite.xz"
MANIFEST_FILE = "kb-snapshot.json"
MANIFEST_FORMAT = 1
_REINSTALL = "reinstall mdrisk, or name a knowledge base with --store"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot_folder() -> Traversable:
    return resources.files("mdrisk") / "data" / "kb"


@dataclass(frozen=True)
class BundledSnapshot:
    """The manifest of the shipped snapshot and where its compressed file is."""

    folder: Traversable
    file: str
    label: str
    xz_sha256: str
    sqlite_sha256: str

    @classmethod
    def find(cls, folder: Traversable | None = None) -> BundledSnapshot | None:
        """The shipped snapshot, or None when this installation carries none."""
        folder = folder or snapshot_folder()
        manifest_file = folder / MANIFEST_FILE
        if not manifest_file.is_file():
            return None
        try:
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
            if manifest["format"] != MANIFEST_FORMAT:
                raise ValueError(f"format {manifest['format']!r}, expected {MANIFEST_FORMAT}")
            return cls(
                folder,
                str(manifest["file"]),
                str(manifest["label"]),
                str(manifest["xz_sha256"]),
                str(manifest["sqlite_sha256"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(
                str(manifest_file),
                [Problem(f"not a usable snapshot manifest ({error})", fix=_REINSTALL)],
            ) from None

    def database(self) -> bytes:
        """The SQLite file, after both hashes of the manifest were checked."""
        name = str(self.folder / self.file)
        try:
            compressed = (self.folder / self.file).read_bytes()
        except OSError as error:
            raise InputError(
                name, [Problem(f"cannot read the bundled snapshot: {error}", fix=_REINSTALL)]
            ) from None
        if sha256_hex(compressed) != self.xz_sha256:
            raise InputError(
                name,
                [
                    Problem(
                        "the bundled snapshot does not match its manifest's sha256", fix=_REINSTALL
                    )
                ],
            )
        try:
            database = lzma.decompress(compressed)
        except lzma.LZMAError as error:
            raise InputError(
                name,
                [Problem(f"the bundled snapshot cannot be unpacked ({error})", fix=_REINSTALL)],
            ) from None
        if sha256_hex(database) != self.sqlite_sha256:
            raise InputError(
                name,
                [
                    Problem(
                        "the unpacked snapshot does not match its manifest's sha256", fix=_REINSTALL
                    )
                ],
            )
        return database

    def unpacked(self, cache: Path | None = None) -> Path:
        """The snapshot as a SQLite file in the cache, unpacked on first use."""
        target = (cache or cache_dir()) / f"kb-snapshot-{self.sqlite_sha256[:16]}.sqlite"
        if not target.is_file():
            _write_whole(target, self.database())
        return target


def _write_whole(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename: never half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def is_unpacked_snapshot(path: Path) -> bool:
    """Whether ``path`` is a snapshot unpacked into the cache (to be opened read-only)."""
    return path.parent == cache_dir() and path.name.startswith("kb-snapshot-")


def store_to_read(store_path: Path | None) -> Path:
    """The store a reading command opens: the one named (a StoreError when there is none
    there: a typo must not read as an empty knowledge base), else the user's default store
    when it exists, else the bundled snapshot (else the default path, which does not exist)."""
    if store_path is not None:
        if not store_path.is_file():
            raise StoreError(
                f"no knowledge base at {store_path} (create one with 'mdrisk kb import "
                f"FILES... --store {store_path}' or 'mdrisk kb sync --store {store_path}')"
            )
        return store_path
    default = default_store_path()
    if default.is_file():
        return default
    snapshot = BundledSnapshot.find()
    return snapshot.unpacked() if snapshot else default


def store_to_write(store_path: Path | None) -> Path:
    """The store a writing command opens: the one named, else the default store, which
    starts as a copy of the bundled snapshot when it does not exist yet."""
    if store_path is not None:
        return store_path
    default = default_store_path()
    if not default.exists():
        snapshot = BundledSnapshot.find()
        if snapshot is not None:
            _write_whole(default, snapshot.database())
    return default
