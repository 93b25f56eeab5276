"""What the knowledge-base store raises when a file cannot serve as a store."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The file is missing, damaged, foreign or of another schema: the message says which
    file, what is wrong and how to rebuild it."""


class StoreBusy(StoreError):
    """Another process kept the store locked for longer than the wait allowed."""
