"""HTML documents: the text a browser shows, in blocks (paragraphs, headings, list items, table
rows), parsed with the standard library's ``html.parser``.

Left out as not visible, like hidden text in Markdown and PDF: comments, ``script``, ``style``,
``template``, ``head`` (the title too), ``noscript``; elements with the ``hidden`` attribute,
``aria-hidden="true"``, or an inline style that hides them (``display: none``,
``visibility: hidden``, zero font size, width or height, zero opacity, white text); hidden
inputs. Not detected: styles set by class in a style sheet, text placed off-screen or covered
by another element. Such text still meets the sentence-level checks for instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from mdrisk.errors import InputError, Problem
from mdrisk.intake.document import Block, BlockKind, Document, Line
from mdrisk.intake.visible import visible_text

# Tags in one document: a long design description has a few tens of thousands.
MAX_HTML_TAGS = 200_000

_NEVER_SHOWN = frozenset({"script", "style", "template", "head", "title", "noscript"})
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS = (
    frozenset(
        "address article aside blockquote body caption dd details dialog div dl dt fieldset "
        "figcaption figure footer form header hr html li main nav ol p pre section summary table "
        "tbody td tfoot th thead tr ul br".split()
    )
    | _HEADINGS
)
# Tags that close an open <p> (or <li>, <tr>) when they start, as a browser does.
_CLOSES_P = _BLOCKS - {"br", "td", "th", "dd", "dt", "tbody", "thead", "tfoot", "body", "html"}
_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)"
    r"|(?<![\w-])(?:font-size|width|height|max-width|max-height)\s*:\s*0(?:\.0*)?[a-z%]*\s*(?:[;!]|$)"
    r"|opacity\s*:\s*0(?:\.0*)?\s*(?:[;!]|$)"
    r"|(?<![\w-])color\s*:\s*(?:#fff(?:fff)?\b|white\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)",
    re.IGNORECASE,
)


def _hides(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in _NEVER_SHOWN:
        return True
    values = {name.lower(): (value or "") for name, value in attrs}
    return (
        "hidden" in values
        or values.get("aria-hidden", "").strip().lower() == "true"
        or (tag == "input" and values.get("type", "").strip().lower() == "hidden")
        or _HIDING_STYLE.search(values.get("style", "")) is not None
    )


class _TooManyTags(Exception):
    pass


@dataclass
class _Open:
    tag: str
    hidden: bool


class _VisibleText(HTMLParser):
    """Collects visible text as blocks of located lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.hidden_elements = 0
        self.comments = 0
        self._open: list[_Open] = []
        self._hidden_depth = 0
        self._lines: list[Line] = []
        self._kind = BlockKind.paragraph
        self._tags = 0

    def _close_block(self, kind: BlockKind = BlockKind.paragraph) -> None:
        lines = tuple(line for line in self._lines if line.text.strip())
        if lines:
            self.blocks.append(Block(lines, self._kind))
        self._lines, self._kind = [], kind

    def _count(self) -> None:
        self._tags += 1
        if self._tags > MAX_HTML_TAGS:
            raise _TooManyTags

    def _pop_to(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                for closed in self._open[index:]:
                    self._hidden_depth -= closed.hidden
                del self._open[index:]
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._count()
        if tag in _CLOSES_P and any(o.tag == "p" for o in self._open[-1:]):
            self._pop_to("p")
        if tag in ("li", "tr", "dt", "dd") and any(o.tag == tag for o in self._open[-1:]):
            self._pop_to(tag)
        hidden = _hides(tag, attrs)
        if hidden and not self._hidden_depth:
            self.hidden_elements += 1
        if tag in _BLOCKS and not self._hidden_depth:
            kind = (
                BlockKind.heading
                if tag in _HEADINGS
                else BlockKind.item
                if tag == "li"
                else BlockKind.row
                if tag == "tr"
                else BlockKind.paragraph
            )
            if tag in ("td", "th"):
                self._append("; ")
            else:
                self._close_block(kind)
        if tag not in _VOID:
            self._open.append(_Open(tag, hidden))
            self._hidden_depth += hidden

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._count()
        if _hides(tag, attrs) and not self._hidden_depth:
            self.hidden_elements += 1
        elif tag in _BLOCKS and not self._hidden_depth:
            self._close_block()

    def handle_endtag(self, tag: str) -> None:
        self._count()
        if any(o.tag == tag for o in self._open):
            was_hidden = self._hidden_depth > 0
            self._pop_to(tag)
            if tag in _BLOCKS and not was_hidden:
                self._close_block()

    def handle_comment(self, data: str) -> None:
        if not self._hidden_depth:
            self.comments += 1

    def _append(self, text: str) -> None:
        line_number = self.getpos()[0]
        for offset, piece in enumerate(text.split("\n")):
            number = line_number + offset
            if offset == 0 and self._lines and self._lines[-1].line == number:
                last = self._lines[-1]
                self._lines[-1] = Line(last.text + piece, number)
            else:
                self._lines.append(Line(piece, number))

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self._append(data)

    def finish(self) -> list[Block]:
        self.close()
        self._close_block()
        return self.blocks


def html_document(text: str, file: str, sha256: str, note: str = "") -> Document:
    """The visible text of an HTML document; ``note`` says why a file not named .html was
    read as HTML."""
    visible, removed = visible_text(text)
    parser = _VisibleText()
    try:
        parser.feed(visible)
        blocks = parser.finish()
    except _TooManyTags:
        raise InputError(
            file,
            [
                Problem(
                    f"more than {MAX_HTML_TAGS} HTML tags, over the limit for a device "
                    "document (the limit keeps reading bounded in time)",
                    fix="pass the document's prose, or split it",
                )
            ],
        ) from None
    hidden: list[str] = []
    if note:
        hidden.append(note)
    if removed:
        hidden.append(f"{removed} invisible or control character(s) removed")
    if parser.comments:
        hidden.append(f"{parser.comments} HTML comment(s) not read")
    if parser.hidden_elements:
        hidden.append(
            f"{parser.hidden_elements} hidden HTML element(s) not read (script, style, head, "
            "hidden attribute or style)"
        )
    blocks = [
        Block(
            tuple(Line(" ".join(line.text.split()), line.line) for line in block.lines), block.kind
        )
        for block in blocks
    ]
    return Document(
        file=file, format="html", sha256=sha256, blocks=tuple(blocks), hidden=tuple(hidden)
    )
