"""Markdown text every section of the report shares: escaping untrusted text, tables, and
long id lists cut short."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_MARKUP = "\\`*[]<>|"
_HAS_MARKUP = re.compile("[" + re.escape(_MARKUP) + "]")
# A backslash before each markup character.
_ESCAPES = str.maketrans({character: "\\" + character for character in _MARKUP})


def escape(text: object) -> str:
    """Markdown-safe inline text: markup characters escaped, '&' kept literal, one line."""
    value = " ".join(str(text).replace("&", "&amp;").split())
    # Few cells hold markup, and translate is slow with two-character replacements.
    return value.translate(_ESCAPES) if _HAS_MARKUP.search(value) else value


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    body = ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return lines + (body or ["| " + " | ".join(["—"] + [""] * (len(headers) - 1)) + " |"])


def first_ids(ids: list[str], limit: int) -> str:
    """At most ``limit`` ids, then how many more there are."""
    shown = ", ".join(ids[:limit])
    return shown + (f" … (+{len(ids) - limit})" if len(ids) > limit else "")
