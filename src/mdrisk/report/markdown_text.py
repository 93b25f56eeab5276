"""Markdown text every section of the report shares: escaping untrusted text, tables, and
long id lists cut short."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_SPECIAL = re.compile(r"([\\`*\[\]<>|])")


def escape(text: object) -> str:
    """Markdown-safe inline text: markup characters escaped, '&' kept literal, one line."""
    value = str(text).replace("&", "&amp;")
    value = " ".join(value.split())
    return _SPECIAL.sub(r"\\\1", value)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    body = ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return lines + (body or ["| " + " | ".join(["—"] + [""] * (len(headers) - 1)) + " |"])


def first_ids(ids: list[str], limit: int) -> str:
    """At most ``limit`` ids, then how many more there are."""
    shown = ", ".join(ids[:limit])
    return shown + (f" … (+{len(ids) - limit})" if len(ids) > limit else "")
