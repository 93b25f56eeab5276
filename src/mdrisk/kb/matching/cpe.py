"""CPE 2.3 names: parse the formatted string, compare with wildcards, read vendor and product.

In: "cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*" (backslash escapes such as "\\:" and "\\."
allowed; the older URI form "cpe:/a:offis:dcmtk:3.6.6" is read too). Out: a ``Cpe`` whose
attributes are ANY ("*"), NA ("-") or a value; ``CpeError`` (a ValueError) names what is wrong.
Matching follows the CPE 2.3 name-matching rules: ANY matches everything, NA matches only NA
or ANY, and "*"/"?" inside a value are wildcards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from urllib.parse import unquote

ANY = "*"
NA = "-"

_ATTRIBUTES = (
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
)
_MAX_CPE_CHARS = 1024


class CpeError(ValueError):
    """A CPE string that is not a CPE 2.3 formatted string (or 2.2 URI)."""


@dataclass(frozen=True)
class Cpe:
    part: str = ANY
    vendor: str = ANY
    product: str = ANY
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    def values(self) -> tuple[str, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    @property
    def vendor_name(self) -> str:
        """The vendor as words ("becton_dickinson" -> "becton dickinson"); "" if ANY/NA."""
        return _words(self.vendor)

    @property
    def product_name(self) -> str:
        return _words(self.product)

    @property
    def version_text(self) -> str:
        """The version with its update ("1.0" + "sp3" -> "1.0 sp3"); "" when ANY or NA."""
        if self.version in (ANY, NA) or _has_wildcard(self.version):
            return ""
        version = _unescape(self.version)
        if self.update not in (ANY, NA) and not _has_wildcard(self.update):
            version += " " + _unescape(self.update)
        return version

    def __str__(self) -> str:
        return "cpe:2.3:" + ":".join(self.values())


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _has_wildcard(value: str) -> bool:
    return bool(re.search(r"(?<!\\)[*?]", value))


def _words(value: str) -> str:
    if value in (ANY, NA):
        return ""
    return re.sub(r"[_\s]+", " ", _unescape(value)).strip()


def _split_formatted(text: str) -> list[str]:
    """Split on ":" not escaped by a backslash."""
    if "\\" not in text:
        return text.split(":")
    pieces, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == ":":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    pieces.append("".join(current))
    return pieces


_UNESCAPED_SPACE_OR_QUOTE = re.compile(r"(?<!\\)[\s\"'<>]")


def _check_value(name: str, value: str, text: str) -> str:
    if value == "":
        raise CpeError(f"'{text}': the {name} is empty (use '*' for any)")
    if value in (ANY, NA):
        return value
    if _UNESCAPED_SPACE_OR_QUOTE.search(value):
        raise CpeError(f"'{text}': the {name} '{value}' holds an unescaped space or quote")
    return value.casefold()


def _plain_formatted(text: str, lowered: str) -> Cpe | None:
    """The common case read at once: a 2.3 formatted string without escapes that passes
    every check (None otherwise: the full reading says what is wrong)."""
    if "\\" in text or not lowered.startswith("cpe:2.3:"):
        return None
    body = text[len("cpe:2.3:") :]
    pieces = body.split(":")
    if len(pieces) != len(_ATTRIBUTES) or not all(pieces) or _UNESCAPED_SPACE_OR_QUOTE.search(body):
        return None
    values = [piece.casefold() for piece in pieces]  # "*" and "-" fold to themselves
    return Cpe(*values) if values[0] in ("a", "o", "h", ANY) else None


def parse_cpe(text: str) -> Cpe:
    """A ``Cpe`` from a 2.3 formatted string or a 2.2 URI; ``CpeError`` says what is wrong."""
    if not isinstance(text, str):
        raise CpeError("a CPE must be text")
    text = text.strip()
    if len(text) > _MAX_CPE_CHARS:
        raise CpeError(f"a CPE of {len(text)} characters is too long")
    lowered = text.casefold()
    plain = _plain_formatted(text, lowered)
    if plain is not None:
        return plain
    if lowered.startswith("cpe:2.3:"):
        pieces = _split_formatted(text[len("cpe:2.3:") :])
        if len(pieces) != len(_ATTRIBUTES):
            raise CpeError(
                f"'{text}': a CPE 2.3 name has {len(_ATTRIBUTES)} attributes after "
                f"'cpe:2.3:', this one has {len(pieces)}"
            )
    elif lowered.startswith("cpe:/"):
        pieces = [unquote(p) for p in text[len("cpe:/") :].split(":")]
        if len(pieces) > 7:
            raise CpeError(f"'{text}': a CPE 2.2 URI has at most 7 components")
        pieces = [p if p else ANY for p in pieces] + [ANY] * (len(_ATTRIBUTES) - len(pieces))
    else:
        raise CpeError(f"'{text}' does not start with 'cpe:2.3:' (or 'cpe:/')")
    values = [
        _check_value(name, value, text) for name, value in zip(_ATTRIBUTES, pieces, strict=True)
    ]
    if values[0] not in ("a", "o", "h", ANY):
        raise CpeError(f"'{text}': part '{values[0]}' must be a, o or h")
    return Cpe(*values)


def _value_matches(pattern: str, value: str) -> bool:
    if pattern == ANY:
        return True
    if pattern == NA or value == NA:
        return pattern == value
    if value == ANY:
        return False
    if _has_wildcard(pattern):
        regex = "".join(
            ".*" if part == "*" else "." if part == "?" else re.escape(_unescape(part))
            for part in re.split(r"((?<!\\)[*?])", pattern)
        )
        return re.fullmatch(regex, _unescape(value)) is not None
    return _unescape(pattern) == _unescape(value)


def cpe_matches(pattern: Cpe, name: Cpe, attributes: tuple[str, ...] = _ATTRIBUTES) -> bool:
    """True when every attribute of ``name`` is within ``pattern`` (the CPE 2.3 superset
    test); ``attributes`` limits the test, e.g. to ("part", "vendor", "product")."""
    return all(_value_matches(getattr(pattern, a), getattr(name, a)) for a in attributes)
