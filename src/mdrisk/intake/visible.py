"""Reduce text to what a person sees: no invisible or control characters, one normal form.

Zero-width spaces, joiners, bidirectional controls and Unicode tag characters (the "ASCII
smuggling" block) render as nothing, so text written with them is not text a reviewer could
have read; they are removed before anything else looks at the document.
"""

from __future__ import annotations

import unicodedata

_KEEP = frozenset("\n\t")


def visible_text(text: str) -> tuple[str, int]:
    """The text in NFKC form without format (Cf), control (Cc), private-use and unassigned
    characters, and how many were removed. Line endings become "\\n"; tabs stay; other
    whitespace becomes a space."""
    removed = 0
    kept: list[str] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if char in _KEEP:
            kept.append(char)
        elif char in "\f\v":
            kept.append(" ")  # page and line feeds are layout, not hidden content
        elif category in ("Cf", "Cc", "Co", "Cs", "Cn"):
            removed += 1
        elif category in ("Zs", "Zl", "Zp"):
            # U+2028/U+2029 become spaces: line numbers count "\n" only, as editors show them.
            kept.append(" ")
        else:
            kept.append(char)
    return "".join(kept), removed
