"""Find importers as plug-ins: every module in this package that defines an Importer."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from pathlib import Path

from mdrisk.kb import importers as package
from mdrisk.kb.importers.base import HEAD_BYTES, Importer

_NOT_PLUGINS = {"base", "registry"}


@cache
def all_importers() -> tuple[type[Importer], ...]:
    found: list[type[Importer]] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name in _NOT_PLUGINS or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, Importer)
                and value is not Importer
                and value.__module__ == module.__name__
                and not inspect.isabstract(value)
            ):
                found.append(value)
    return tuple(sorted(found, key=lambda importer: importer.name))


def read_head(path: Path) -> str:
    with path.open("rb") as handle:
        raw = handle.read(HEAD_BYTES)
    return raw.decode("utf-8-sig", errors="replace")


def detect(path: Path) -> type[Importer] | None:
    """The importer whose format the file's content is, or None."""
    head = read_head(path)
    for importer in all_importers():
        if importer.sniff(head, path):
            return importer
    return None
