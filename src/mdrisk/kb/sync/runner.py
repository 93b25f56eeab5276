"""One sync run: fetch every chosen source, then import what came down in one transaction.

A source that fails does not stop the others; whatever was downloaded (by this run or by an
earlier one that did not get to import it) is imported together, all or nothing, through
``kb.importing.import_paths``. Files no importer of this mdrisk recognises stay in the cache,
still waiting, and are named in the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mdrisk.kb.importers.registry import detect
from mdrisk.kb.importing import ImportSummary, import_paths
from mdrisk.kb.store import Store
from mdrisk.kb.sync.base import Progress, Source, no_progress
from mdrisk.kb.sync.client import HttpClient
from mdrisk.kb.sync.errors import SyncError
from mdrisk.kb.sync.state import SyncState


@dataclass
class SourceOutcome:
    name: str
    downloaded: list[Path] = field(default_factory=list)  # by this run
    waiting: list[Path] = field(default_factory=list)  # to import: this run's and earlier
    error: SyncError | None = None
    warning: str = ""


@dataclass
class SyncResult:
    outcomes: list[SourceOutcome] = field(default_factory=list)
    unrecognised: list[Path] = field(default_factory=list)  # downloaded, no importer yet
    summary: ImportSummary | None = None

    @property
    def failed(self) -> list[SourceOutcome]:
        return [outcome for outcome in self.outcomes if outcome.error is not None]


def fetch_source(
    source: Source, client: HttpClient, downloads: Path, progress: Progress = no_progress
) -> tuple[SourceOutcome, SyncState]:
    folder = downloads / source.name
    state = SyncState.load(folder)
    outcome = SourceOutcome(source.name, warning=state.warning)
    try:
        outcome.downloaded = source.fetch(client, folder, state, progress)
    except SyncError as error:
        outcome.error = error
    outcome.waiting = state.pending_files()
    return outcome, state


def run_sync(
    store: Store,
    sources: list[Source],
    client: HttpClient,
    downloads: Path,
    progress_for: Callable[[str], Progress] | None = None,
    import_progress: Callable[[str, int, int], None] | None = None,
    replace: bool = False,
) -> SyncResult:
    """Fetch each source into ``downloads/<name>/``, then import everything waiting
    (``replace``: see ``import_paths``).

    Raises ``ImportRefused`` (nothing written; the files stay waiting for the next run) when
    the importers refuse a downloaded file.
    """
    result = SyncResult()
    states: dict[str, SyncState] = {}
    for source in sources:
        progress = progress_for(source.name) if progress_for else no_progress
        outcome, states[source.name] = fetch_source(source, client, downloads, progress)
        result.outcomes.append(outcome)
    to_import: list[Path] = []
    for outcome in result.outcomes:
        for path in outcome.waiting:
            (to_import if detect(path) is not None else result.unrecognised).append(path)
    if to_import:
        result.summary = import_paths(store, to_import, import_progress, replace)
    taken = set(to_import)
    for outcome in result.outcomes:
        imported = [path for path in outcome.waiting if path in taken]
        if imported:
            states[outcome.name].mark_imported(imported)
    return result
