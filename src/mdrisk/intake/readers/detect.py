"""Choose a reader by content, then by file name, and refuse what is not a document."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from mdrisk.errors import InputError, Problem
from mdrisk.intake.document import Document
from mdrisk.intake.readers.text_limit import check_text_size
from mdrisk.parsing.bounded import read_limited

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
# An HTML document's own elements: text holding one is HTML, whatever its name says.
_HTML_MARKUP = re.compile(
    r"<(?:!doctype\s+html|html|head|body|div|span|p|script|style|table|font|section|article)"
    r"(?:\s[^<>]*)?>",
    re.IGNORECASE,
)

# Magic numbers of files analysts are likely to pass by mistake, and what to do instead.
_NOT_DOCUMENTS = (
    (
        b"PK\x03\x04",
        "a ZIP archive (a Word .docx or other Office file?)",
        "save it as PDF or plain text",
    ),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file", "save it as PDF or plain text"),
    (b"{\\rtf", "an RTF file", "save it as PDF or plain text"),
    (b"\x89PNG", "a PNG image", "run OCR on it and pass the text or a searchable PDF"),
    (b"\xff\xd8\xff", "a JPEG image", "run OCR on it and pass the text or a searchable PDF"),
    (b"GIF8", "a GIF image", "run OCR on it and pass the text or a searchable PDF"),
    (b"II*\x00", "a TIFF image", "run OCR on it and pass the text or a searchable PDF"),
    (b"MM\x00*", "a TIFF image", "run OCR on it and pass the text or a searchable PDF"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"\x7fELF", "a program, not a document", "pass a text, Markdown or PDF document"),
)


def _refuse(file: str, message: str, fix: str, line: int | None = None) -> InputError:
    return InputError(file, [Problem(message, line=line, fix=fix)])


def read_bytes(path: Path) -> bytes:
    return read_limited(path, MAX_DOCUMENT_BYTES, "a device document")


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 (or UTF-16 with a byte-order mark) text, or a located refusal."""
    for magic, what, fix in _NOT_DOCUMENTS:
        if data.startswith(magic):
            raise _refuse(file, f"this is {what}, not a text, Markdown or PDF document", fix)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _refuse(file, "starts like UTF-16 text but is not", "save it as UTF-8") from None
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise _refuse(
            file,
            "contains NUL bytes: binary data, not text",
            "pass a text, Markdown or PDF document",
            data.count(b"\n", 0, offset) + 1,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refuse(
            file,
            f"not UTF-8 text (byte {error.start})",
            "save the file as UTF-8",
            data.count(b"\n", 0, error.start) + 1,
        ) from None
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\n\r\t\f")
    if controls > max(8, len(text) // 100):
        raise _refuse(
            file,
            f"{controls} control characters: binary data, not text",
            "pass a text, Markdown or PDF document",
        )
    return text


def read_document(path: Path | str) -> Document:
    """Read a text, Markdown, HTML or PDF device document. Raises InputError naming the file."""
    from mdrisk.intake.readers.html_document import html_document
    from mdrisk.intake.readers.markdown import markdown_document
    from mdrisk.intake.readers.pdf import pdf_document
    from mdrisk.intake.readers.plain import text_document

    path = Path(path)
    file = str(path)
    data = read_bytes(path)
    sha256 = hashlib.sha256(data).hexdigest()
    if b"%PDF-" in data[:1024]:
        return pdf_document(data, file, sha256)
    if path.suffix.lower() == ".pdf":
        raise _refuse(
            file,
            "named .pdf but not a PDF (no %PDF- header)",
            "check the file; pass the real PDF, or rename a text file to .txt",
        )
    if not data.strip():
        raise _refuse(file, "the document is empty", "pass a document with text in it")
    text = decode_text(data, file)
    check_text_size(file, len(text))
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_document(text, file, sha256)
    if suffix in HTML_SUFFIXES:
        return html_document(text, file, sha256)
    if _HTML_MARKUP.search(text):
        # A browser shows such a file without its hidden parts; read as plain text, the
        # hidden parts would become findings. The output says the file was read as HTML.
        return html_document(
            text,
            file,
            sha256,
            note="the file holds HTML markup: read as HTML (what a "
            "browser shows; hidden elements and comments left out)",
        )
    return text_document(text, file, sha256)
