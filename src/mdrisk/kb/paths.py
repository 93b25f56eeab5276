"""Where the knowledge base lives (in the user's mdrisk home) and where the bundled snapshot
is unpacked (in the user's cache); see :mod:`mdrisk.user_dirs`."""

from __future__ import annotations

from pathlib import Path

from mdrisk.user_dirs import mdrisk_home


def default_store_path() -> Path:
    return mdrisk_home() / "kb.sqlite"
