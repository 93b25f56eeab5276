"""Remove what a browser or Markdown viewer would not show: comments, scripts, styles and
elements hidden by their attributes (``hidden``, ``display: none``, ``visibility: hidden``,
zero font size or opacity, white text). Tags go; the text between visible tags stays; every
newline stays, so line numbers still point into the file."""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # a comment; an unclosed one hides the rest, as in a browser
    r"|<(?P<close>/?)(?P<name>[A-Za-z][\w:-]*)(?P<attrs>(?:\s[^<>]*?)?)\s*(?P<self>/?)>",
    re.DOTALL,
)
_NEVER_SHOWN = frozenset({"script", "style", "template", "head", "title", "noscript"})
_VOID = frozenset(
    {
        "br",
        "hr",
        "img",
        "input",
        "meta",
        "link",
        "wbr",
        "col",
        "area",
        "base",
        "source",
        "embed",
        "param",
        "track",
    }
)
_HIDING = re.compile(
    r"\bhidden\b|display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)"
    r"|font-size\s*:\s*0(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:[;\"']|$)"
    r"|opacity\s*:\s*0(?:\.0*)?\s*(?:[;\"']|$)"
    r"|(?<![\w-])color\s*:\s*(?:#fff(?:fff)?\b|white\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)"
    r"|type\s*=\s*[\"']?hidden",
    re.IGNORECASE,
)


def strip_html(text: str) -> tuple[str, int]:
    """The text without markup and hidden content, and how many hidden spans were removed."""
    out: list[str] = []
    position = 0
    hidden_name: str | None = None  # the element that started the hidden stretch
    depth = 0  # nesting of that element's name inside the hidden stretch
    hidden_spans = 0
    hidden_from = 0

    for match in _TOKEN.finditer(text):
        if hidden_name is None:
            out.append(text[position : match.start()])
        position = match.end()
        if match.group("name") is None:  # a comment
            if hidden_name is None:
                hidden_spans += 1
                out.append("\n" * match.group(0).count("\n"))
            continue
        name = match.group("name").lower()
        closing = bool(match.group("close"))
        if hidden_name is not None:
            if name == hidden_name and not match.group("self") and name not in _VOID:
                depth += -1 if closing else 1
                if depth == 0:
                    out.append("\n" * text.count("\n", hidden_from, match.end()))
                    hidden_name = None
            continue
        out.append("\n" * match.group(0).count("\n"))
        if closing or match.group("self") or name in _VOID:
            if name in ("br", "p", "div", "li", "tr") and not match.group(0).count("\n"):
                out.append(" ")
            continue
        if name in _NEVER_SHOWN or _HIDING.search(match.group("attrs") or ""):
            hidden_name, depth, hidden_from = name, 1, match.start()
            hidden_spans += 1
    if hidden_name is None:
        out.append(text[position:])
    else:
        out.append("\n" * text.count("\n", hidden_from))
    return "".join(out), hidden_spans
