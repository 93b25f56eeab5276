"""A small, deterministic PDF writer for the test corpus (standard Helvetica, Flate streams).

Written for the tests so that the corpus PDFs are reproducible from text and can carry what
injected documents need: white, invisible (render mode 3), microscopic and off-page text, and
pages that hold only an image (a scan without a text layer).

    python tests/pdfgen.py            # rebuild the corpus PDFs from their text sources

A source line may start with a marker: ``[[white]]``, ``[[invisible]]``, ``[[tiny]]``,
``[[offpage]]``; a line holding only ``\\f`` (or a form feed) starts a new page; ``[[image]]``
alone on a page makes it an image-only page.
"""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
MARGIN, LEADING, SIZE = 54, 12, 9

CORPUS = Path(__file__).resolve().parent / "corpus" / "documents"


@dataclass(frozen=True)
class Run:
    """One line of text drawn at (x, y)."""

    text: str
    x: float
    y: float
    size: float = SIZE
    rgb: tuple[float, float, float] = (0, 0, 0)
    render_mode: int = 0


@dataclass(frozen=True)
class Page:
    runs: tuple[Run, ...] = ()
    image_only: bool = False


def _escape(text: str) -> bytes:
    data = text.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(page: Page) -> bytes:
    if page.image_only:
        return b"q 400 0 0 300 100 400 cm /Im1 Do Q\n"
    parts = []
    for run in page.runs:
        r, g, b = run.rgb
        parts.append(
            b"BT /F1 %s Tf %d Tr %s %s %s rg %s %s Td (%s) Tj ET\n"
            % (
                _num(run.size),
                run.render_mode,
                _num(r),
                _num(g),
                _num(b),
                _num(run.x),
                _num(run.y),
                _escape(run.text),
            )
        )
    return b"".join(parts)


def _num(value: float) -> bytes:
    return (b"%d" % value) if float(value).is_integer() else (b"%.2f" % value)


def pdf_bytes(pages: list[Page]) -> bytes:
    """A complete PDF file; the same pages always give the same bytes."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pixels = zlib.compress(bytes(range(0, 256, 16)) * 16)
    image = add(
        b"<< /Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace "
        b"/DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\n"
        b"stream\n%s\nendstream" % (len(pixels), pixels)
    )
    kids = []
    for page in pages:
        stream = zlib.compress(_content(page))
        content = add(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream)
        )
        resources = (
            b"<< /XObject << /Im1 %d 0 R >> >>" % image
            if page.image_only
            else b"<< /Font << /F1 %d 0 R >> >>" % font
        )
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Resources %s "
                b"/Contents %d 0 R >>" % (pages_obj, PAGE_WIDTH, PAGE_HEIGHT, resources, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids),
        len(kids),
    )

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)


_MARKERS = {
    "[[white]]": {"rgb": (1, 1, 1)},
    "[[invisible]]": {"render_mode": 3},
    "[[tiny]]": {"size": 0.4},
    "[[offpage]]": {"x": -2000},
}


def pages_from_text(text: str) -> list[Page]:
    """Lay out source text, one line per line, a new page at each form feed."""
    pages: list[Page] = []
    for page_text in text.replace("\\f\n", "\f").replace("\\f", "\f").split("\f"):
        lines = page_text.strip("\n").split("\n")
        if [line.strip() for line in lines] == ["[[image]]"]:
            pages.append(Page(image_only=True))
            continue
        runs = []
        y = PAGE_HEIGHT - MARGIN
        for line in lines:
            options: dict = {}
            for marker, effect in _MARKERS.items():
                if line.startswith(marker):
                    line = line[len(marker) :]
                    options = effect
            if line.strip():
                runs.append(
                    Run(
                        text=line,
                        x=options.get("x", MARGIN),
                        y=y,
                        size=options.get("size", SIZE),
                        rgb=options.get("rgb", (0, 0, 0)),
                        render_mode=options.get("render_mode", 0),
                    )
                )
            y -= LEADING
        pages.append(Page(runs=tuple(runs)))
    return pages


def pdf_from_text(text: str) -> bytes:
    return pdf_bytes(pages_from_text(text))


def corpus_pdfs() -> dict[Path, bytes]:
    """Every corpus PDF, by path, as built from its text source."""
    built = {}
    for folder in (CORPUS, CORPUS / "heldout", CORPUS / "injected"):
        for source in sorted((folder / "pdf-sources").glob("*.txt")):
            built[folder / f"{source.stem}.pdf"] = pdf_from_text(source.read_text("utf-8"))
    return built


if __name__ == "__main__":
    for path, data in corpus_pdfs().items():
        path.write_bytes(data)
        print(f"wrote {path} ({len(data)} bytes)", file=sys.stderr)
