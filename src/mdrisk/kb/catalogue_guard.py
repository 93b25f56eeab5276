"""A catalogue release (CWE, CAPEC, ATT&CK, ATLAS, KEV) replaces the stored one as a whole, so
a smaller file would silently drop entries: a cut download, a one-entry test file, a view
instead of the catalogue. Such an import is refused, naming what it would drop, unless the
user says ``--replace``."""

from __future__ import annotations

from collections.abc import Iterable

from mdrisk.errors import Problem
from mdrisk.kb.records import ImportBatch
from mdrisk.kb.store import Store

EXAMPLES = 5


def _examples(ids: Iterable[str]) -> str:
    chosen = sorted(ids)
    more = f", … {len(chosen) - EXAMPLES:,} more" if len(chosen) > EXAMPLES else ""
    return ", ".join(chosen[:EXAMPLES]) + more


def record_ids(batch: ImportBatch) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for record in batch.records:
        found.setdefault(record.kind, set()).add(record.id)
    return found


class ShrinkGuard:
    """Compares each catalogue batch of one import with what it would replace: the batch of
    the same document imported just before it in this import, else the stored copy."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._earlier: dict[str, tuple[dict[str, set[str]], str]] = {}

    def problems(self, batch: ImportBatch, file_name: str) -> list[Problem]:
        """One problem per kind of record of which ``batch`` holds fewer than what it
        replaces; none when nothing is replaced. Remembers ``batch`` for the next file."""
        incoming = record_ids(batch)
        if batch.source_key in self._earlier:
            held, origin = self._earlier[batch.source_key]
        else:
            held = self._store.document_ids(batch.source_key)
            origin = self._store.document_file(batch.source_key) or "an earlier import"
        self._earlier[batch.source_key] = (incoming, f"{file_name}, earlier in this import")
        problems = []
        for kind, held_ids in sorted(held.items()):
            new = incoming.get(kind, set())
            if len(new) >= len(held_ids):
                continue
            dropped = held_ids - new
            problems.append(
                Problem(
                    f"holds {len(new):,} {kind} record(s) where the knowledge base holds "
                    f"{len(held_ids):,} (from {origin}): importing it would drop "
                    f"{len(dropped):,} ({_examples(dropped)})",
                    fix="check that the file is a whole release; give --replace to import "
                    "it anyway",
                )
            )
        return problems
