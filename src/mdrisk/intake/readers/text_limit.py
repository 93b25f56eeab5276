"""How much text a device document may hold: the limit that keeps extraction bounded in time,
shared by every reader (its own module so that the PDF reader and the format detection, which
calls the PDF reader, do not import each other)."""

from __future__ import annotations

from mdrisk.errors import InputError, Problem

MAX_TEXT_CHARS = 4_000_000


def check_text_size(file: str, characters: int) -> None:
    """Refuse a document whose text is longer than extraction reads."""
    if characters > MAX_TEXT_CHARS:
        raise InputError(
            file,
            [
                Problem(
                    f"{characters} characters of text, over the {MAX_TEXT_CHARS}-character "
                    "limit for a device document (the limit keeps extraction bounded in time)",
                    fix="split it, or pass the parts that describe the device",
                )
            ],
        )
