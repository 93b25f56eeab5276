"""The user's folders mdrisk keeps things in: its home (the knowledge base), and its cache
(the unpacked bundled knowledge base, validated built-in data, trained forecasters)."""

from __future__ import annotations

import os
from pathlib import Path


def mdrisk_home() -> Path:
    """``$MDRISK_HOME``, else ``$XDG_DATA_HOME/mdrisk``, else ``~/.local/share/mdrisk``."""
    if os.environ.get("MDRISK_HOME"):
        return Path(os.environ["MDRISK_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mdrisk"


def cache_dir() -> Path:
    """``$MDRISK_CACHE_DIR``, else ``$XDG_CACHE_HOME/mdrisk``, else ``~/.cache/mdrisk``."""
    if os.environ.get("MDRISK_CACHE_DIR"):
        return Path(os.environ["MDRISK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mdrisk"
