"""Import files and folders: detect each file's format, parse all, then write in one go.

Every file is parsed before anything is written. If any file is refused the store is not
touched at all, and every refusal is reported, each naming its file and record. A catalogue
release with fewer entries than the stored one is refused too, unless ``replace`` is given
(:mod:`mdrisk.kb.catalogue_guard`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mdrisk.errors import InputError, Problem
from mdrisk.kb.catalogue_guard import ShrinkGuard
from mdrisk.kb.importers.base import Importer
from mdrisk.kb.importers.registry import detect
from mdrisk.kb.store import ParsedFile, Store, file_sha256

Progress = Callable[[str, int, int], None]  # (file name, done, total)

MAX_IMPORT_FILE_BYTES = 512 * 1024 * 1024


class ImportRefused(Exception):
    """One or more files were refused; nothing was written."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass
class ImportSummary:
    imported: list[tuple[Path, str, int]] = field(default_factory=list)  # path, importer, docs
    unchanged: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # path, why
    documents_changed: int = 0


def collect_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(files named directly, files found in folders), each in a stable order."""
    named: list[Path] = []
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [Path(root) / name for name in sorted(files) if not name.startswith(".")]
        else:
            named.append(path)
    return named, found


def _unchanged(store: Store, importer: type[Importer], sha: str, alongside: frozenset[str]) -> bool:
    """Whether the file's content is in the store already. A catalogue counts as unchanged
    only while its copy is the one stored (or is replaced by files of this same import):
    after another release replaced it, importing it again puts it back."""
    if importer.whole_catalogue:
        return store.is_current(importer.name, sha, alongside)
    return store.is_imported(importer.name, sha)


def import_paths(
    store: Store,
    paths: list[Path],
    progress: Progress | None = None,
    replace: bool = False,
) -> ImportSummary:
    """Import ``paths`` (files and folders) into ``store``, all or nothing. ``replace``: let a
    catalogue release with fewer entries than the stored one replace it."""
    named, found = collect_files(paths)
    summary = ImportSummary()
    errors: list[InputError] = []
    work: list[tuple[Path, type[Importer]]] = []
    for path in named + found:
        try:
            if not path.exists():
                raise InputError(
                    str(path), [Problem("no such file or folder", fix="check the path")]
                )
            if path.stat().st_size > MAX_IMPORT_FILE_BYTES:
                raise InputError(str(path), [Problem("file too large to import")])
            importer = detect(path)
        except OSError as exc:
            errors.append(InputError(str(path), [Problem(f"cannot read: {exc.strerror}")]))
            continue
        except InputError as error:
            errors.append(error)
            continue
        if importer is None:
            if path in named:
                errors.append(
                    InputError(
                        str(path),
                        [
                            Problem(
                                "not a format the knowledge base imports",
                                fix="give a CVE 5, NVD 2.0, CSAF 2.0, KEV, EPSS, CWE, CAPEC, ATT&CK, ATLAS "
                                "or CycloneDX file",
                            )
                        ],
                    )
                )
            else:
                summary.skipped.append((path, "not a knowledge-base format"))
            continue
        work.append((path, importer))

    shas: dict[Path, str] = {}
    for path, importer in work:
        if importer.whole_catalogue:
            try:
                shas[path] = file_sha256(path)
            except OSError:
                pass  # reported below, where the file is read again
    alongside = frozenset(shas.values())
    guard = ShrinkGuard(store)
    parsed_files: list[ParsedFile] = []
    for done, (path, importer) in enumerate(work, start=1):
        if progress:
            progress(path.name, done, len(work))
        try:
            sha = shas.get(path) or file_sha256(path)
            if _unchanged(store, importer, sha, alongside):
                summary.unchanged.append((path, importer.name))
                continue
            batches = importer().parse(path)
            if importer.whole_catalogue and not replace:
                shrinking = [
                    problem for batch in batches for problem in guard.problems(batch, path.name)
                ]
                if shrinking:
                    raise InputError(str(path), shrinking)
        except InputError as error:
            errors.append(error)
            continue
        except OSError as exc:
            errors.append(InputError(str(path), [Problem(f"cannot read: {exc.strerror}")]))
            continue
        parsed_files.append(ParsedFile(path, importer.name, sha, batches))
        summary.imported.append((path, importer.name, len(batches)))
    if errors:
        raise ImportRefused(errors)
    summary.documents_changed = store.write(parsed_files)
    return summary
