"""The canonical result: sorted keys, stable ids, times only inside ``provenance``.

The text is exactly ``json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)``.
Python's encoder is pure Python once it indents (~0.2 s for a large assessment), so the data
is written by orjson (C, keys sorted by code point as Python sorts them) when it holds only
values the two spell alike: JSON's own types, and floats Python writes without an exponent.
NaN and infinity are refused (NonFiniteNumber, with where they stand). Anything else (1e-05, a tuple, an Enum, ...) and anything orjson refuses (integers
beyond 64 bits, keys that are not text, lone surrogates) sends the whole document to
``json.dumps`` instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from mdrisk.assessment import Assessment
from mdrisk.report.interface import ReportWriter

_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
# Python writes a float in positional notation inside this range, with an exponent outside.
_POSITIONAL_FLOATS = (1e-4, 1e16)


def _plain(data: Any) -> bool:
    """Whether orjson would write ``data`` as ``json.dumps`` does (or refuse it): only dicts,
    lists, text, integers, booleans, None, and floats in positional notation."""
    low, high = _POSITIONAL_FLOATS
    pending = [data]
    take, add = pending.pop, pending.extend
    while pending:  # a loop, not recursion: a third faster on a large assessment
        value = take()
        kind = type(value)
        if kind is str:
            continue
        if kind is dict:
            add(value.values())
        elif kind is list:
            add(value)
        elif kind is float:
            if not (value == 0.0 or low <= abs(value) < high):  # NaN fails both
                return False
        elif not (kind is int or kind is bool or value is None):
            return False
    return True


def canonical_dict(assessment: Assessment) -> dict:
    return assessment.model_dump(mode="json", by_alias=True)


def _by_orjson(data: Any) -> bytes | None:
    """The canonical text of ``data`` in UTF-8 written by orjson; None where it could differ."""
    try:
        text = orjson.dumps(data, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:  # also a cycle: orjson stops at 255 levels, _plain would not
        return None
    return text + b"\n" if _plain(data) else None


class NonFiniteNumber(ValueError):
    """NaN or infinity in data to be written: JSON has no spelling for them, and a reader of
    the record would take ``NaN`` for a broken file or, worse, for a number."""


def non_finite_at(data: Any, path: str = "$") -> str | None:
    """The path of the first NaN or infinity in ``data`` (None when there is none)."""
    pending: list[tuple[Any, str]] = [(data, path)]
    seen: set[int] = set()
    while pending:
        value, where = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return f"{where} = {value}"
        if isinstance(value, dict | list | tuple):
            if id(value) in seen:
                continue  # a cycle: json.dumps says so itself
            seen.add(id(value))
        if isinstance(value, dict):
            pending.extend((item, f"{where}.{key}") for key, item in value.items())
        elif isinstance(value, list | tuple):
            pending.extend((item, f"{where}[{index}]") for index, item in enumerate(value))
    return None


def _by_json_module(data: Any) -> str:
    try:
        return (
            json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        )
    except ValueError as error:
        where = non_finite_at(data) if "float" in str(error) else None
        if where is None:
            raise
        raise NonFiniteNumber(f"refusing to write a non-finite number into JSON: {where}") from None


def canonical_bytes(data: Any) -> bytes:
    """``data`` as canonical JSON text in UTF-8, ending with a line break."""
    fast = _by_orjson(data)
    return fast if fast is not None else _by_json_module(data).encode("utf-8")


def canonical_text(data: Any) -> str:
    """``data`` as canonical JSON text, ending with a line break."""
    fast = _by_orjson(data)
    return fast.decode("utf-8") if fast is not None else _by_json_module(data)


def canonical_json(assessment: Assessment) -> str:
    return canonical_text(canonical_dict(assessment))


class CanonicalJsonWriter(ReportWriter):
    name = "json"
    file_name = "assessment.json"

    def render(self, assessment: Assessment) -> bytes:
        return canonical_bytes(canonical_dict(assessment))
