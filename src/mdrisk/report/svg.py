"""A very small SVG writer for the report's charts: every text and attribute escaped, numbers
rounded so that the same data gives the same bytes."""

from __future__ import annotations

from mdrisk.model.xml_text import escape, quoteattr


def num(value: float) -> str:
    """Two decimals at most, no trailing zeros, no "-0"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def element(tag: str, content: str = "", /, **attributes: object) -> str:
    """``<tag a="..">content</tag>``; ``content`` is markup already built by this module.
    Attribute names use ``_`` for ``-`` (``font_size`` -> ``font-size``)."""
    parts = [tag]
    for name, value in attributes.items():
        if value is None:
            continue
        shown = num(value) if isinstance(value, float) else str(value)
        parts.append(f"{name.rstrip('_').replace('_', '-')}={quoteattr(shown)}")
    opening = " ".join(parts)
    return f"<{opening}>{content}</{tag}>" if content else f"<{opening}/>"


def text(x: float, y: float, value: object, **attributes: object) -> str:
    return element("text", escape(str(value)), x=float(x), y=float(y), **attributes)


def document(width: float, height: float, body: list[str], label: str) -> str:
    """An inline ``<svg>`` with a title for screen readers."""
    return element(
        "svg",
        element("title", escape(label)) + "".join(body),
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {num(width)} {num(height)}",
        width=num(width),
        height=num(height),
        role="img",
        aria_label=label,
        class_="chart",
    )
