"""Markdown text every section of the report shares: escaping untrusted text, tables, and
long id lists cut short."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# A backslash before each markup character.
_ESCAPES = str.maketrans({character: "\\" + character for character in "\\`*[]<>|"})


def escape(text: object) -> str:
    """Markdown-safe inline text: markup characters escaped, '&' kept literal, one line."""
    return " ".join(str(text).replace("&", "&amp;").split()).translate(_ESCAPES)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    body = ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return lines + (body or ["| " + " | ".join(["—"] + [""] * (len(headers) - 1)) + " |"])


def first_ids(ids: list[str], limit: int) -> str:
    """At most ``limit`` ids, then how many more there are."""
    shown = ", ".join(ids[:limit])
    return shown + (f" … (+{len(ids) - limit})" if len(ids) > limit else "")
