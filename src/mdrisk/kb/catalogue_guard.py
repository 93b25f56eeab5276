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


def shrinkage(store: Store, batch: ImportBatch) -> list[Problem]:
    """One problem per kind of record of which ``batch`` holds fewer than the stored copy of
    the same document; none when the store has no copy yet."""
    stored = store.document_ids(batch.source_key)
    if not stored:
        return []
    incoming: dict[str, set[str]] = {}
    for record in batch.records:
        incoming.setdefault(record.kind, set()).add(record.id)
    origin = store.document_file(batch.source_key) or "an earlier import"
    problems = []
    for kind, held in sorted(stored.items()):
        new = incoming.get(kind, set())
        if len(new) >= len(held):
            continue
        dropped = held - new
        problems.append(
            Problem(
                f"holds {len(new):,} {kind} record(s) where the knowledge base holds "
                f"{len(held):,} (from {origin}): importing it would drop {len(dropped):,} "
                f"({_examples(dropped)})",
                fix="check that the file is a whole release; give --replace to import it anyway",
            )
        )
    return problems
