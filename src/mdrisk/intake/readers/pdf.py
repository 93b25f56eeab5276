"""PDF documents (needs the ``docs`` extra: pypdf): the text a person sees on each page.

Before extraction every page's content stream is rewritten without the text-showing
operations a reader cannot see: render mode 3 or 7 (invisible, clip only), white fill on the
(assumed white) page, glyphs under 1 pt, and text placed outside the page.

Not detected: text inside form XObjects, text covered by an opaque shape or clipped away,
text in optional-content layers switched off, and white text on a dark fill (dropped though
visible). Such text still meets the sentence-level checks for instructions.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from mdrisk.errors import InputError, Problem
from mdrisk.intake.document import Document, Line
from mdrisk.intake.readers.blocks import plain_blocks
from mdrisk.intake.readers.text_limit import check_text_size
from mdrisk.intake.visible import visible_text

MAX_PAGES = 2000
# A page's content stream: a dense page of text is tens of KB; millions of drawing
# operations on one page cost pypdf minutes to parse and are not a document's prose.
MAX_PAGE_CONTENT_BYTES = 2 * 1024 * 1024
_SHOW = frozenset({b"Tj", b"TJ", b"'", b'"'})
_WHITE = 0.95


class PdfSupportMissing(RuntimeError):
    """pypdf is not installed: the tool cannot read PDFs (not a fault of the document)."""


Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _matrix(operands: list[Any]) -> Matrix:
    """The six operands of ``cm`` or ``Tm`` as a matrix."""
    a, b, c, d, e, f = (float(v) for v in operands)
    return (a, b, c, d, e, f)


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


@dataclass
class _State:
    ctm: Matrix = _IDENTITY
    fill_white: bool = False
    stroke_white: bool = False
    render_mode: int = 0
    font_size: float = 12.0
    leading: float = 0.0


@dataclass
class _Visibility:
    """Tracks enough of the graphics and text state to tell whether shown text is visible."""

    box: tuple[float, float, float, float]
    state: _State = field(default_factory=_State)
    stack: list[_State] = field(default_factory=list)
    text_matrix: Matrix = _IDENTITY
    line_matrix: Matrix = _IDENTITY
    dropped: dict[str, int] = field(default_factory=dict)

    def _white(self, operands: list[Any], operator: bytes) -> bool | None:
        try:
            values = [float(value) for value in operands if not hasattr(value, "startswith")]
        except (TypeError, ValueError):
            return None
        if operator in (b"g", b"G") and len(values) == 1:
            return values[0] >= _WHITE
        if operator in (b"rg", b"RG") and len(values) == 3:
            return all(value >= _WHITE for value in values)
        if operator in (b"k", b"K") and len(values) == 4:
            return all(value <= 1 - _WHITE for value in values)
        if operator in (b"sc", b"scn", b"SC", b"SCN"):
            if len(values) == 1:
                return values[0] >= _WHITE
            if len(values) == 3:
                return all(value >= _WHITE for value in values)
            if len(values) == 4:
                return all(value <= 1 - _WHITE for value in values)
        return None

    def step(self, operands: list[Any], operator: bytes) -> bool:
        """Update the state; False when this operation shows text nobody can see."""
        state = self.state
        try:
            if operator == b"q":
                self.stack.append(replace(state))
            elif operator == b"Q" and self.stack:
                self.state = self.stack.pop()
            elif operator == b"cm" and len(operands) == 6:
                state.ctm = _multiply(_matrix(operands), state.ctm)
            elif operator in (b"g", b"rg", b"k", b"sc", b"scn"):
                white = self._white(operands, operator)
                if white is not None:
                    state.fill_white = white
            elif operator in (b"G", b"RG", b"K", b"SC", b"SCN"):
                white = self._white(operands, operator)
                if white is not None:
                    state.stroke_white = white
            elif operator == b"Tr" and operands:
                state.render_mode = int(operands[0])
            elif operator == b"Tf" and len(operands) == 2:
                state.font_size = float(operands[1])
            elif operator == b"TL" and operands:
                state.leading = float(operands[0])
            elif operator == b"BT":
                self.text_matrix = self.line_matrix = _IDENTITY
            elif operator in (b"Td", b"TD") and len(operands) == 2:
                tx, ty = float(operands[0]), float(operands[1])
                if operator == b"TD":
                    state.leading = -ty
                self.line_matrix = _multiply((1, 0, 0, 1, tx, ty), self.line_matrix)
                self.text_matrix = self.line_matrix
            elif operator == b"Tm" and len(operands) == 6:
                self.line_matrix = self.text_matrix = _matrix(operands)
            elif operator in (b"T*", b"'", b'"'):
                self.line_matrix = _multiply((1, 0, 0, 1, 0, -state.leading), self.line_matrix)
                self.text_matrix = self.line_matrix
        except (TypeError, ValueError):
            return True  # a malformed operand: leave the operation to pypdf
        if operator not in _SHOW:
            return True
        reason = self._hidden_because()
        if reason:
            self.dropped[reason] = self.dropped.get(reason, 0) + 1
            return False
        return True

    def _hidden_because(self) -> str | None:
        state = self.state
        if state.render_mode in (3, 7):
            return "invisible render mode"
        fills = state.render_mode in (0, 2, 4, 6)
        strokes = state.render_mode in (1, 2, 5, 6)
        if (not fills or state.fill_white) and (not strokes or state.stroke_white):
            return "white text"
        a, b, c, d, e, f = _multiply(self.text_matrix, state.ctm)
        if abs(state.font_size) * math.sqrt(abs(a * d - b * c)) < 1.0:
            return "text under 1 pt"
        left, bottom, right, top = self.box
        if not (left - 1 <= e <= right + 1 and bottom - 1 <= f <= top + 1):
            return "text outside the page"
        return None


class _PageTooLarge(Exception):
    """A page's content stream is over MAX_PAGE_CONTENT_BYTES (the size is the argument)."""


def _pypdf() -> Any:
    try:
        import pypdf
    except ImportError:
        raise PdfSupportMissing(
            "reading PDF documents needs pypdf: pip install 'mdrisk[docs]'"
        ) from None
    return pypdf


def _visible_page_text(page: Any) -> tuple[str, dict[str, int]]:
    stream = page.get_contents()
    if stream is None:
        return "", {}
    size = len(stream.get_data())
    if size > MAX_PAGE_CONTENT_BYTES:
        raise _PageTooLarge(size)
    box = tuple(float(value) for value in page.mediabox)
    visibility = _Visibility(
        box=(min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3]))
    )
    kept = []
    for operands, operator in stream.operations:
        if visibility.step(list(operands), operator):
            kept.append((operands, operator))
        elif operator in (b"'", b'"'):
            kept.append(([], b"T*"))  # keep the line break the dropped text made
    if len(kept) != len(stream.operations):
        stream.operations = kept
        page.replace_contents(stream)
    return page.extract_text() or "", visibility.dropped


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pypdf logs and warns about every repair it makes; the analyst gets one clear error."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _refuse(file: str, message: str, fix: str) -> InputError:
    return InputError(file, [Problem(message, fix=fix)])


def pdf_document(data: bytes, file: str, sha256: str) -> Document:
    pypdf = _pypdf()
    with _quiet():
        return _pdf_document(pypdf, data, file, sha256)


def _pdf_document(pypdf: Any, data: bytes, file: str, sha256: str) -> Document:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _refuse(file, "the PDF is encrypted with a password", "save an unprotected copy")
        # Pages are rewritten before extraction, which pypdf allows only on a writer's pages.
        pages = list(pypdf.PdfWriter(clone_from=reader).pages)
    except InputError:
        raise
    except Exception as error:  # pypdf raises many types on a broken file
        raise _refuse(
            file,
            f"not a readable PDF: {type(error).__name__}: {error}",
            "check that the file is a complete PDF; re-export it",
        ) from None
    if len(pages) > MAX_PAGES:
        raise _refuse(
            file, f"{len(pages)} pages, over the {MAX_PAGES}-page limit", "pass the relevant part"
        )
    lines: list[Line] = []
    hidden: list[str] = []
    for number, page in enumerate(pages, start=1):
        try:
            text, dropped = _visible_page_text(page)
        except _PageTooLarge as error:
            raise _refuse(
                file,
                f"page {number} has {error.args[0]} bytes of drawing operations, over the "
                f"{MAX_PAGE_CONTENT_BYTES}-byte limit for a page (the limit keeps reading "
                "bounded in time)",
                "pass the pages that describe the device, or a text export of the document",
            ) from None
        except Exception as error:
            raise _refuse(
                file,
                f"page {number} cannot be read: {type(error).__name__}: {error}",
                "re-export the PDF",
            ) from None
        for reason, count in sorted(dropped.items()):
            hidden.append(f"page {number}: {count} text run(s) not visible ({reason})")
        text, removed = visible_text(text)
        if removed:
            hidden.append(f"page {number}: {removed} invisible or control character(s) removed")
        for line_number, line in enumerate(text.split("\n"), start=1):
            lines.append(Line(line, line_number, number))
        lines.append(Line("", 0, number))  # a page edge ends a paragraph
    check_text_size(file, sum(len(line.text) for line in lines))
    if not any(line.text.strip() for line in lines):
        raise _refuse(
            file,
            f"the PDF has no text layer ({len(pages)} page(s) of images or "
            "nothing visible): a scanned document?",
            "run OCR first (for example ocrmypdf) or pass a text version",
        )
    return Document(
        file=file,
        format="pdf",
        sha256=sha256,
        blocks=tuple(plain_blocks(lines)),
        hidden=tuple(hidden),
        pages=len(pages),
    )
