"""Text and attribute values for XML (the SVG drawings), escaped exactly as
:mod:`xml.sax.saxutils` escapes them, without that module's import of ``urllib.request``
(http, ssl and email: a tenth of ``mdrisk analyze``'s start-up)."""

from __future__ import annotations

# Attribute values also keep their line breaks and tabs, as character references.
_ATTRIBUTE_ENTITIES = (("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;"))


def escape(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` as entity references."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """``text`` escaped and quoted as an attribute value: double quotes, or single quotes
    when it holds a double quote but no single one, else double quotes with ``&quot;``."""
    value = escape(text)
    for character, reference in _ATTRIBUTE_ENTITIES:
        value = value.replace(character, reference)
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace('"', "&quot;") + '"'
