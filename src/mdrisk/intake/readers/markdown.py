"""Markdown documents: the prose a reader sees when the Markdown is rendered.

Left out, as not part of what the document says: front matter, fenced code blocks, HTML
comments and hidden elements, link targets and image alt text, link definitions, and table
columns that describe another device (a predicate or comparator column).
"""

from __future__ import annotations

import html
import re

from mdrisk.intake.document import Block, BlockKind, Document, Line
from mdrisk.intake.readers.html import strip_html
from mdrisk.intake.readers.plain import front_matter_end
from mdrisk.intake.visible import visible_text

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_SETEXT_OR_RULE = re.compile(r"^\s{0,3}([=\-*_])(?:\s*\1){2,}\s*$")
_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_EMPHASIS = re.compile(r"(?<![\w*_])[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?![\w*_])")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_OTHER_DEVICE_HEADER = re.compile(
    r"\b(?:predicate|comparator|competitor|reference device|legacy device|previous (?:device|"
    r"version|generation))",
    re.IGNORECASE,
)


def _inline(text: str) -> str:
    text = _IMAGE.sub("", text)  # alt text is not shown beside a rendered image
    text = _LINK.sub(r"\1", text)
    text = text.replace("`", "")
    text = _EMPHASIS.sub("", text)
    return html.unescape(text).replace("\u00a0", " ")


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def _table_rows(lines: list[tuple[int, str]], hidden: list[str]) -> list[Block]:
    """A table's rows as blocks "first cell: other cells; ..." without other-device columns."""
    header = _cells(lines[0][1])
    dropped = {index for index, cell in enumerate(header) if _OTHER_DEVICE_HEADER.search(cell)}
    if dropped:
        hidden.append(
            f"line {lines[0][0]}: table column(s) "
            f"{', '.join(repr(header[i]) for i in sorted(dropped))} describe another "
            "device"
        )
    blocks = []
    for position, (number, raw) in enumerate(lines):
        if position == 1:
            continue  # the separator row
        cells = [_inline(cell) for index, cell in enumerate(_cells(raw)) if index not in dropped]
        cells = [cell for cell in cells if cell]
        if not cells:
            continue
        text = (
            "; ".join(cells)
            if position == 0 or len(cells) == 1
            else f"{cells[0]}: {'; '.join(cells[1:])}"
        )
        kind = BlockKind.heading if position == 0 else BlockKind.row
        blocks.append(Block((Line(text, number),), kind))
    return blocks


def markdown_document(text: str, file: str, sha256: str) -> Document:
    visible, removed = visible_text(text)
    hidden: list[str] = []
    if removed:
        hidden.append(f"{removed} invisible or control character(s) removed")
    raw_lines = visible.split("\n")
    skip = front_matter_end(raw_lines)
    if skip:
        hidden.append(f"lines 1-{skip}: front matter (metadata, not read)")
        raw_lines = [""] * skip + raw_lines[skip:]

    fence: str | None = None
    for index, line in enumerate(raw_lines):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * len(match.group(1))
            hidden.append(f"line {index + 1}: code block (not prose, not read)")
            raw_lines[index] = ""
        elif fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            raw_lines[index] = ""

    images = sum(
        1
        for line in raw_lines
        for match in _IMAGE.finditer(line)
        if match.group(0)[2:].split("]")[0].strip()
    )
    if images:
        hidden.append(f"{images} image(s): alt text not read")
    without_html, hidden_spans = strip_html("\n".join(raw_lines))
    if hidden_spans:
        hidden.append(f"{hidden_spans} HTML comment(s) or hidden element(s) removed")
    lines = without_html.split("\n")

    blocks: list[Block] = []
    current: list[Line] = []
    kind = BlockKind.paragraph

    def close() -> None:
        nonlocal current, kind
        if current:
            blocks.append(Block(tuple(current), kind))
        current, kind = [], BlockKind.paragraph

    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if "|" in line and _TABLE_SEPARATOR.match(following) and "|" in following + line:
            close()
            end = index + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            blocks.extend(_table_rows([(i + 1, lines[i]) for i in range(index, end)], hidden))
            index = end
            continue
        line = _QUOTE.sub("", line)
        if not line.strip() or _SETEXT_OR_RULE.match(line) or _LINK_DEFINITION.match(line):
            if _LINK_DEFINITION.match(line):
                hidden.append(f"line {number}: link definition")
            close()
        elif _HEADING.match(line):
            close()
            blocks.append(
                Block(
                    (Line(_inline(_HEADING.sub("", line)).rstrip(" #"), number),), BlockKind.heading
                )
            )
        elif _ITEM.match(line):
            close()
            kind = BlockKind.item
            current.append(Line(_inline(_ITEM.sub("", line, count=1)), number))
        else:
            current.append(Line(_inline(line), number))
        index += 1
    close()
    blocks = [block for block in blocks if block.text.strip()]
    return Document(
        file=file, format="markdown", sha256=sha256, blocks=tuple(blocks), hidden=tuple(hidden)
    )
