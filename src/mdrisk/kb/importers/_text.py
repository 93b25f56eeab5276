"""Catalogue prose as plain text: markup removed, whitespace folded, long text shortened."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_ENUMERATION = re.compile(r"^(?:\d{1,2}[.)]|[-*•])\s+")  # "2. Preventing ..." in a list
_SENTENCE = re.compile(r"(.{12,}?[.!?])(?:\s|$)")
_BLOCKS = {"p", "li", "div", "br", "tr", "h1", "h2", "h3", "h4", "ul", "ol", "table"}


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag.rsplit(":", 1)[-1] in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag.rsplit(":", 1)[-1] in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def fold(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def plain_text(text: str) -> str:
    """``text`` with any (X)HTML tags removed and whitespace folded to single spaces."""
    if "<" not in text and "&" not in text:
        return fold(text)
    parser = _TextOnly()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        return fold(_TAG.sub(" ", text))
    return fold("".join(parser.parts))


def shorten(text: str, limit: int) -> str:
    """The first sentence of ``text`` if it fits in ``limit`` characters, else a cut at a word."""
    text = _ENUMERATION.sub("", fold(text))
    match = _SENTENCE.match(text)
    if match and len(match.group(1)) <= limit:
        return match.group(1)
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"
