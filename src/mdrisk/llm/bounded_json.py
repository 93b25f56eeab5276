"""JSON from an endpoint, refused before parsing when it is nested deeper than any answer
needs: a deep enough array makes Python's parser raise RecursionError."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class TooDeep(ValueError):
    pass


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, brackets in strings ignored."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads_bounded(text: str, **options: Any) -> Any:
    """``json.loads`` of ``text``; TooDeep (a ValueError) past MAX_JSON_DEPTH levels."""
    if nesting_depth(text) > MAX_JSON_DEPTH:
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(text, **options)
