"""What a reader gives: the visible text of a document in blocks of located lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    paragraph = "paragraph"
    heading = "heading"
    item = "item"  # a list item
    row = "row"  # a table row, cells joined with "; "


@dataclass(frozen=True)
class Line:
    """One line of visible text and where it stood: the line in the file (text, Markdown) or
    on the page (PDF, with ``page``)."""

    text: str
    line: int
    page: int | None = None


@dataclass(frozen=True)
class Block:
    """Lines that read as one unit: sentences never cross a block's edge."""

    lines: tuple[Line, ...]
    kind: BlockKind = BlockKind.paragraph

    @property
    def text(self) -> str:
        return " ".join(line.text.strip() for line in self.lines)

    def locate(self, offset: int) -> Line:
        """The line holding character ``offset`` of ``text``."""
        position = 0
        for line in self.lines:
            position += len(line.text.strip()) + 1
            if offset < position:
                return line
        return self.lines[-1]


@dataclass(frozen=True)
class Document:
    """A device document as its reader saw it. ``hidden`` says what was left out as not
    visible to a person reading it (comments, front matter, invisible PDF text), per line."""

    file: str
    format: str  # "text" | "markdown" | "pdf"
    sha256: str
    blocks: tuple[Block, ...]
    hidden: tuple[str, ...] = field(default=())
    pages: int | None = None
