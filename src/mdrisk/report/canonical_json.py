"""The canonical result: sorted keys, stable ids, times only inside ``provenance``.

The text is exactly ``json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)``.
Python's encoder is pure Python once it indents (~0.3 s for a large assessment), so the data
is written by pydantic-core's serializer after its keys are sorted; values whose spelling the
two serializers could write differently (floats in exponent notation, NaN, integers beyond
64 bits, non-text keys) send the whole document to ``json.dumps`` instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pydantic_core

from mdrisk.assessment import Assessment
from mdrisk.report.interface import ReportWriter

_INT_LIMIT = 2**63


class _NotPlain(Exception):
    """A value only ``json.dumps`` is sure to spell as before."""


def _sorted(value: Any) -> Any:
    """``value`` with every mapping's keys in sorted order; _NotPlain for a risky value."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _NotPlain
        return {key: _sorted(value[key]) for key in sorted(value)}
    if kind is list:
        return [_sorted(item) for item in value]
    if kind is int:
        if not -_INT_LIMIT < value < _INT_LIMIT:
            raise _NotPlain
        return value
    if kind is float:
        # Both write the shortest round-trip digits; they differ only in exponent notation.
        if not math.isfinite(value) or (value and not 1e-4 <= abs(value) < 1e15):
            raise _NotPlain
        return value
    raise _NotPlain


def canonical_dict(assessment: Assessment) -> dict:
    return assessment.model_dump(mode="json", by_alias=True)


def canonical_text(data: Any) -> str:
    """``data`` as canonical JSON text, ending with a line break."""
    try:
        return pydantic_core.to_json(_sorted(data), indent=2).decode("utf-8") + "\n"
    except (_NotPlain, ValueError, pydantic_core.PydanticSerializationError):
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def canonical_json(assessment: Assessment) -> str:
    return canonical_text(canonical_dict(assessment))


class CanonicalJsonWriter(ReportWriter):
    name = "json"
    file_name = "assessment.json"

    def render(self, assessment: Assessment) -> bytes:
        return canonical_json(assessment).encode("utf-8")
