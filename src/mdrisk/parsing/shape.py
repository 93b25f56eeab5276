"""Typed access to parsed JSON that says exactly where the input has the wrong shape.

Importers walk untrusted JSON through these helpers only, so a wrong type, a missing field or
an absurd number surfaces as ``Shape(where, message)`` (turned into an InputError naming the
file and record by ``Shape.refusal``) and never as a KeyError or TypeError.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mdrisk.errors import InputError
from mdrisk.parsing.errors import refuse

MAX_DEPTH = 64  # nesting of tree-like structures (CSAF branches, SBOM components) we accept


class Shape(Exception):
    """The input is not the shape we need at ``where`` (a record name plus a field path)."""

    def __init__(self, where: str, message: str, fix: str = "") -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message
        self.fix = fix

    def refusal(self, path: Path) -> InputError:
        return refuse(path, self.message, record=self.where, fix=self.fix)


@contextmanager
def located_refusals(path: Path) -> Iterator[None]:
    """Turn what a reader of ``path`` raises into the InputError naming the file: a ``Shape``
    (with its record and field), and nesting too deep for the interpreter."""
    try:
        yield
    except Shape as bad:
        raise bad.refusal(path) from None
    except RecursionError:
        raise refuse(
            path, "nested too deeply to read", fix="give the file as its source publishes it"
        ) from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "true/false",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Shape(where, f"expected an object, found {_kind(value)}")
    return value


def arr(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise Shape(where, f"expected an array, found {_kind(value)}")
    return value


def text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise Shape(where, f"expected a string, found {_kind(value)}")
    return value


def required(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping or mapping[key] is None:
        raise Shape(where, f"'{key}' is missing")
    return mapping[key]


def required_text(mapping: dict[str, Any], key: str, where: str) -> str:
    return text(required(mapping, key, where), f"{where}.{key}")


def opt_text(mapping: dict[str, Any], key: str, where: str) -> str | None:
    value = mapping.get(key)
    return None if value is None else text(value, f"{where}.{key}")


def opt_obj(mapping: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = mapping.get(key)
    return {} if value is None else obj(value, f"{where}.{key}")


def opt_arr(mapping: dict[str, Any], key: str, where: str) -> list[Any]:
    value = mapping.get(key)
    return [] if value is None else arr(value, f"{where}.{key}")


def opt_bool(mapping: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = mapping.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise Shape(f"{where}.{key}", f"expected true or false, found {_kind(value)}")
    return value


def number(value: Any, where: str, low: float, high: float) -> float:
    """A finite number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Shape(where, f"expected a number, found {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise Shape(where, "expected a finite number")
    if not low <= value <= high:
        raise Shape(where, f"{value!r:.40} is outside {low:g}..{high:g}")
    return float(value)


def texts(value: Any, where: str) -> list[str]:
    """An array of strings."""
    return [text(item, f"{where}[{index}]") for index, item in enumerate(arr(value, where))]


def unique(items: list[Any]) -> list[Any]:
    """``items`` without repeats, first occurrence kept (items must be JSON-like)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        key = repr(sorted(item.items())) if isinstance(item, dict) else repr(item)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept
