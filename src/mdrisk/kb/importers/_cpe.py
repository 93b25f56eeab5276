"""Read the vendor, product and version out of a CPE 2.3 formatted string."""

from __future__ import annotations

from dataclasses import dataclass

_FIELDS = (
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


@dataclass(frozen=True)
class CpeName:
    part: str
    vendor: str
    product: str
    version: str  # "*" any, "-" not applicable
    update: str


def _split(body: str) -> list[str]:
    """Split on ':' that are not escaped with a backslash; unescape the pieces."""
    pieces, current, escaped = [], [], False
    for char in body:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def parse_cpe(cpe: str) -> CpeName | None:
    """The CPE's names, or None when ``cpe`` is not a CPE 2.3 formatted string."""
    if not cpe.startswith("cpe:2.3:"):
        return None
    values = _split(cpe[len("cpe:2.3:") :])
    if len(values) != len(_FIELDS) or values[0] not in ("a", "o", "h", "*", "-"):
        return None
    if not values[1] or not values[2]:
        return None
    return CpeName(values[0], values[1], values[2], values[3] or "*", values[4] or "*")
