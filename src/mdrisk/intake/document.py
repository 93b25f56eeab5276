"""What a reader gives: the visible text of a document in blocks of located lines."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


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

    @cached_property
    def text(self) -> str:
        return " ".join(line.text.strip() for line in self.lines)

    @cached_property
    def _line_ends(self) -> list[int]:
        return list(itertools.accumulate(len(line.text.strip()) + 1 for line in self.lines))

    def locate(self, offset: int) -> Line:
        """The line holding character ``offset`` of ``text``."""
        index = bisect.bisect_right(self._line_ends, offset)
        return self.lines[min(index, len(self.lines) - 1)]


@dataclass(frozen=True)
class Document:
    """A device document as its reader saw it. ``hidden`` says what was left out as not
    visible to a person reading it (comments, front matter, invisible PDF text), per line."""

    file: str
    format: str  # "text" | "markdown" | "html" | "pdf"
    sha256: str
    blocks: tuple[Block, ...]
    hidden: tuple[str, ...] = field(default=())
    pages: int | None = None
