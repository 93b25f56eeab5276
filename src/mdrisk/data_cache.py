"""A per-user cache of the built-in data files once validated, so a process skips parsing them.

Each entry is the pickled object built from one or more files of ``mdrisk/data/``, named by
the sha256 of those files' bytes, mdrisk's, Python's and pydantic's versions: a changed file
or an upgrade never reads a stale entry. Folder: ``$MDRISK_DATA_CACHE`` (``off`` disables
the cache), else ``data/`` in the user's mdrisk cache (:func:`mdrisk.user_dirs.cache_dir`).

A pickle runs code when loaded, so an entry is read only from a folder and file that belong
to this user and that nobody else can write (POSIX only; elsewhere there is no cache). Any
problem reading or writing an entry is ignored: the caller builds the object from the files,
as without a cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import pydantic

from mdrisk import __version__
from mdrisk.atomic import write_bytes_atomic
from mdrisk.user_dirs import cache_dir

FORMAT = 1
T = TypeVar("T")


def cache_folder() -> Path | None:
    setting = os.environ.get("MDRISK_DATA_CACHE", "")
    if setting == "off" or os.name != "posix":
        return None
    return Path(setting) if setting else cache_dir() / "data"


def _key(what: str, contents: Iterable[bytes]) -> str:
    digest = hashlib.sha256(
        f"{what};mdrisk={__version__};python={sys.version};pydantic={pydantic.VERSION};"
        f"format={FORMAT}".encode()
    )
    for content in contents:
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def _private(path: Path) -> bool:
    """Owned by this user and writable by nobody else (so nobody else chose its bytes)."""
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cached(what: str, contents: Iterable[bytes], build: Callable[[], T]) -> T:
    """``build()``, or the copy a previous process cached for the same ``contents``."""
    folder = cache_folder()
    if folder is None:
        return build()
    entry = folder / f"{_key(what, contents)}.pickle"
    try:
        if _private(folder) and _private(entry):
            return pickle.loads(entry.read_bytes())  # noqa: S301 - see the module docstring
    except Exception:  # noqa: BLE001 - a missing or unreadable entry: build it instead
        pass
    built = build()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _private(folder):
            write_bytes_atomic(entry, pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))
            entry.chmod(0o600)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is no cache
        pass
    return built
