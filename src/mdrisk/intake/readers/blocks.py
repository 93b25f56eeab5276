"""Group located lines of plain text into blocks (paragraphs, headings, list items, fields).

Plain text and PDF text carry no markup, so block edges come from layout: a blank line, a
bullet or number starting a line, a short line in capitals (a heading), a "Label: value" line,
or a short line without closing punctuation followed by a capitalised one (a title or a field
in a specification list).
"""

from __future__ import annotations

import re

from mdrisk.intake.document import Block, BlockKind, Line

_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u25aa\u25cf\u2013]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")
_FIELD = re.compile(r"^\s*[A-Z][\w /()&.,'-]{0,40}:\s+\S")
_CLOSED = re.compile(r"[.!?:;,]['\")\]]?\s*$")


def _is_heading(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    return (
        0 < len(text.strip()) <= 80
        and len(letters) >= 3
        and sum(char.isupper() for char in letters) / len(letters) > 0.8
        and not _CLOSED.search(text)
    )


def plain_blocks(lines: list[Line]) -> list[Block]:
    """Blocks of plain text lines (blank lines already count as separators)."""
    widths = sorted(len(line.text.rstrip()) for line in lines if line.text.strip())
    wrap_width = widths[int(len(widths) * 0.9)] if widths else 80
    blocks: list[Block] = []
    current: list[Line] = []
    kind = BlockKind.paragraph

    def close() -> None:
        nonlocal current, kind
        if current:
            blocks.append(Block(tuple(current), kind))
        current, kind = [], BlockKind.paragraph

    previous: Line | None = None
    for line in lines:
        text = line.text.rstrip()
        if not text.strip():
            close()
            previous = None
            continue
        starts_new = (
            _BULLET.match(text) is not None
            or _FIELD.match(text) is not None
            or _is_heading(text)
            or (
                previous is not None
                and not _CLOSED.search(previous.text)
                and len(previous.text.rstrip()) < 0.7 * wrap_width
                and text.lstrip()[:1].isupper()
            )
            or kind == BlockKind.heading
        )
        if starts_new:
            close()
            if _is_heading(text):
                kind = BlockKind.heading
            elif _BULLET.match(text):
                kind = BlockKind.item
                text = _BULLET.sub("", text, count=1)
        current.append(Line(text, line.line, line.page))
        previous = line
    close()
    return blocks
