"""Find sources as plug-ins: every module in this package that defines a ``Source``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from mdrisk.kb import sync as package
from mdrisk.kb.sync.base import FileSource, Source, SyncOptions

_NOT_SOURCES = {"archives", "base", "client", "errors", "ratelimit", "registry", "runner", "state"}


@cache
def source_classes() -> tuple[type[Source], ...]:
    found: dict[str, type[Source]] = {}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module_info.name in _NOT_SOURCES or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, Source)
                and value not in (Source, FileSource)
                and value.__module__ == module.__name__
                and not inspect.isabstract(value)
            ):
                if value.name in found:
                    raise RuntimeError(f"two sync sources are named {value.name!r}")
                found[value.name] = value
    return tuple(found[name] for name in sorted(found))


def source_names() -> list[str]:
    return [source.name for source in source_classes()]


def make_sources(names: list[str] | tuple[str, ...], options: SyncOptions) -> list[Source]:
    """Sources by name (all of them when ``names`` is empty), in the registry's order.

    Raises ``KeyError`` naming the unknown ones.
    """
    classes = {source.name: source for source in source_classes()}
    unknown = [name for name in names if name not in classes]
    if unknown:
        raise KeyError(", ".join(unknown))
    chosen = set(names) or set(classes)
    return [classes[name](options) for name in sorted(chosen)]
