"""Split blocks into sentences that know where they stand (file, page, line)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mdrisk.intake.document import Block, BlockKind, Document

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs cf fig figs no nos approx incl inc ltd corp co dr mr mrs ms st sec ref "
    "refs vol ed eds al jan feb mar apr jun jul aug sep sept oct nov dec ver rev min max".split()
)
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_LOOK_BACK = 40
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
# Chat-template and role markers start a new sentence wherever they stand, so that an
# instruction glued onto a paragraph does not take the paragraph's last sentence with it.
_MARKER = re.compile(r"\s+(?=<\||\[/?INST\]|<</?SYS>>|(?:SYSTEM|ASSISTANT|USER)\s*:)")


@dataclass(frozen=True)
class Sentence:
    """A sentence of visible text and its place: ``line`` in the file (text, Markdown) or on
    ``page`` (PDF). ``block`` numbers the block it came from within its document."""

    text: str
    file: str
    line: int
    page: int | None
    block: int
    kind: BlockKind

    @property
    def where(self) -> str:
        if self.page is not None:
            return f"{self.file}:page {self.page}:line {self.line}"
        return f"{self.file}:{self.line}"


def _ends_sentence(text: str, dot: int) -> bool:
    """Whether the punctuation at ``dot`` ends a sentence (not an abbreviation or initial)."""
    if text[dot] != ".":
        return True
    # Only the last few characters matter (abbreviations are short): looking further back
    # would make a block of many sentences cost the square of its length.
    start = max(0, dot - _LOOK_BACK)
    word = _LAST_WORD.search(text, start, dot)
    if word is None:
        return True
    if (
        word.start() == start
        and start > 0
        and (text[start - 1].isalpha() or text[start - 1] == ".")
    ):
        return True  # a word longer than any abbreviation
    token = word.group(1).lower().rstrip(".")
    return token not in _ABBREVIATIONS and not (len(token) == 1 and token.isalpha())


def split_block(block: Block) -> list[tuple[int, str]]:
    """(offset, sentence) pairs of a block's text."""
    text = block.text
    if block.kind in (BlockKind.heading, BlockKind.row):
        return [(0, text.strip())] if text.strip() else []
    pieces: list[tuple[int, str]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        dot = match.start() - 1
        while dot > start and text[dot] in "\"')]":
            dot -= 1
        if _ends_sentence(text, dot):
            pieces.append((start, text[start : match.start()]))
            start = match.end()
    pieces.append((start, text[start:]))
    pieces = [(offset + cut, part) for offset, piece in pieces for cut, part in _cut(piece)]
    result = []
    for offset, piece in pieces:
        stripped = piece.strip()
        if stripped:
            result.append((offset + len(piece) - len(piece.lstrip()), stripped))
    return result


def _cut(piece: str) -> list[tuple[int, str]]:
    cuts = [0, *(match.end() for match in _MARKER.finditer(piece))]
    return [(a, piece[a:b]) for a, b in zip(cuts, [*cuts[1:], len(piece)], strict=True)]


def sentences_of(document: Document) -> list[Sentence]:
    found = []
    for number, block in enumerate(document.blocks):
        for offset, text in split_block(block):
            line = block.locate(offset)
            found.append(
                Sentence(
                    text=text,
                    file=document.file,
                    line=line.line,
                    page=line.page,
                    block=number,
                    kind=block.kind,
                )
            )
    return found
