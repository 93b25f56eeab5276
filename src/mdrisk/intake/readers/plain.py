"""Plain text documents: lines as written, front matter left out."""

from __future__ import annotations

import re

from mdrisk.intake.document import Document, Line
from mdrisk.intake.readers.blocks import plain_blocks
from mdrisk.intake.visible import visible_text

_FRONT_MATTER_FENCE = re.compile(r"^(---|\+\+\+)\s*$")


def front_matter_end(lines: list[str]) -> int:
    """How many leading lines are YAML/TOML front matter (configuration, not prose): 0 if none.

    Front matter never configures mdrisk; it is metadata for other tools, and text claiming
    to be configuration in a document is exactly what an injected instruction looks like.
    """
    if not lines or not _FRONT_MATTER_FENCE.match(lines[0]):
        return 0
    fence = lines[0].strip()
    for index in range(1, min(len(lines), 200)):
        if lines[index].strip() == fence:
            return index + 1
    return 0


def text_document(text: str, file: str, sha256: str) -> Document:
    visible, removed = visible_text(text)
    raw_lines = visible.split("\n")
    hidden: list[str] = []
    if removed:
        hidden.append(f"{removed} invisible or control character(s) removed")
    skip = front_matter_end(raw_lines)
    if skip:
        hidden.append(f"lines 1-{skip}: front matter (metadata, not read)")
    lines = [
        Line(raw.replace("\f", " ").replace("\t", " "), number)
        for number, raw in enumerate(raw_lines, start=1)
        if number > skip
    ]
    return Document(
        file=file,
        format="text",
        sha256=sha256,
        blocks=tuple(plain_blocks(lines)),
        hidden=tuple(hidden),
    )
