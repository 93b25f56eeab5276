"""Where the knowledge base lives: $MDRISK_HOME, else the user's data directory; and where
the bundled snapshot is unpacked: $MDRISK_CACHE_DIR, else the user's cache directory."""

from __future__ import annotations

import os
from pathlib import Path


def mdrisk_home() -> Path:
    if os.environ.get("MDRISK_HOME"):
        return Path(os.environ["MDRISK_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mdrisk"


def default_store_path() -> Path:
    return mdrisk_home() / "kb.sqlite"


def cache_dir() -> Path:
    """The same folder the forecaster cache uses (impact.forecasting.cache)."""
    if os.environ.get("MDRISK_CACHE_DIR"):
        return Path(os.environ["MDRISK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mdrisk"
