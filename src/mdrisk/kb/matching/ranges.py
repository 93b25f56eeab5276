"""Version ranges as advisories publish them, and whether a version falls inside.

In: range text ("< 3.0", "<= 1.3.2", ">= 1.1 | <= 1.3.2", "5.0|5.1", "vers:all/*",
"vers:generic/>=1.0|<2.0", "all versions", "prior to 4.2", "before 2.1", "versions 3.0 and
earlier", "1.2 through 1.9", "A10 < A11", "<= 1.54 (integrated into GE MobileLink)",
"(Release 1.3.2 1.4.0 1.4.1)", "Android-8.0 Android-8.1 Android-9", "distributed < april 1,
2018") or a normalised constraint dict (see ``records.AffectedEntry``). Out: a ``VersionRange``
whose ``contains`` answers True, False or None (cannot tell), never raising; text that cannot
be read keeps a ``problem`` saying why and still matches the identical version text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from mdrisk.kb.matching import ecosystems
from mdrisk.kb.matching.versions import (
    Version,
    compare_to_bound,
    normalise,
    parse_version,
    wildcard_ends,
)

Tri = bool | None  # True: inside, False: outside, None: cannot tell

_ALL = {
    "*",
    "all",
    "all versions",
    "any",
    "any version",
    "every version",
    "vers:all/*",
    "all releases",
    "all models",
    "all products",
}
_COMPARATOR = re.compile(r"^(>=|=>|<=|=<|!=|==|<|>|=|≤|≥)\s*(.+)$")
_BETWEEN = re.compile(r"^(.+?)\s*(<=|<)\s*(.+)$")  # "A10 < A11", "A.01 <= C.0x"
_NOTE = re.compile(
    r"\s+(?:\(|on\s|with\s|running\s|model\s|for\s|in\s|under\s|,\s*not\s"
    r"|not\s+including|and\s+later\s+models)"
)
_BEFORE = re.compile(
    r"^(?:all\s+)?(?:versions?\s+)?(?:prior\s+to|before|earlier\s+than"
    r"|older\s+than|lower\s+than|below|less\s+than"
    r"|up\s+to\s+but\s+not\s+including)\s+(.+)$"
)
_UP_TO = re.compile(
    r"^(?:all\s+)?(?:versions?\s+)?(?:up\s+to(?:\s+and\s+including)?|through"
    r"|until)\s+(.+)$"
)
_AND_EARLIER = re.compile(
    r"^(?:all\s+)?(?:versions?\s+)?(.+?),?\s+(?:and|or|&)\s+(?:earlier|prior"
    r"|below|older|lower|before|previous(?:\s+versions?)?)$"
)
_AND_LATER = re.compile(
    r"^(?:all\s+)?(?:versions?\s+)?(.+?),?\s+(?:and|or|&)\s+(?:later|newer"
    r"|above|higher|after|greater)$"
)
_FROM = re.compile(
    r"^(?:all\s+)?(?:versions?\s+)?(?:from|since|starting\s+(?:with|from|at)"
    r"|at\s+least)\s+(.+?)(?:\s+(?:on(?:ward)?s?|and\s+up))?$"
)
_SPAN = re.compile(
    r"^(?:all\s+)?(?:versions?\s+)?(?:from\s+|between\s+)?(.+?)\s+(?:through|thru|to"
    r"|until|-|–)\s+(.+)$"
)
_BETWEEN_AND = re.compile(r"^(?:all\s+)?(?:versions?\s+)?between\s+(.+?)\s+and\s+(.+)$")
_LETTER_SPAN = re.compile(r"^(?:rev\.?\s*)?([a-z])\s*-\s*([a-z])$")
_LEAD_NOISE = re.compile(
    r"^(?:all\s+)?(?:versions?|releases?|firmware|software|distributed|shipped"
    r"|manufactured|produced|sold)\s*:?\s+"
)
_LIST_ITEM = re.compile(r"^v?\d+(?:\.\d+)*[a-z]?$")


@dataclass(frozen=True)
class Interval:
    """A contiguous stretch of versions; a missing bound is open."""

    lower: Version | None = None
    lower_inclusive: bool = True
    upper: Version | None = None
    upper_inclusive: bool = True

    def contains(self, version: Version) -> Tri:
        if self.lower is not None:
            side = compare_to_bound(version, self.lower)
            if side is None:
                return None
            if side < 0 or (side == 0 and not self.lower_inclusive):
                return False
        if self.upper is not None:
            side = compare_to_bound(version, self.upper)
            if side is None:
                return None
            if side > 0 or (side == 0 and not self.upper_inclusive):
                return False
        return True

    def describe(self) -> str:
        if self.lower is not None and self.upper is not None and self.lower is self.upper:
            return f"= {self.lower.raw}"
        pieces = []
        if self.lower is not None:
            pieces.append(f"{'>=' if self.lower_inclusive else '>'} {self.lower.raw}")
        if self.upper is not None:
            pieces.append(f"{'<=' if self.upper_inclusive else '<'} {self.upper.raw}")
        return ", ".join(pieces) or "all versions"


def exactly(version: Version) -> Interval:
    return Interval(version, True, version, True)


@dataclass(frozen=True)
class VersionRange:
    """A union of intervals read from ``text``. ``everything``: every version is inside.
    ``problem``: why the text could not be read (then only the identical text matches)."""

    text: str
    intervals: tuple[Interval, ...] = ()
    everything: bool = False
    problem: str = ""
    # the ecosystem's own reading (univers) when the range is a package ecosystem's
    native: Any = field(default=None, compare=False, repr=False)

    def contains(self, version: Version | None, version_text: str = "") -> Tri:
        if self.everything:
            return True
        if version_text and normalise(version_text) == normalise(self.text):
            return True
        if self.native is not None and version_text:
            inside = ecosystems.contains(self.native, version_text)
            if inside is not None:
                return inside
        if version is None or not self.intervals:
            return None
        inside = self._contains_version(version)
        if inside is False and self.problem:
            return None  # a part we could not read might hold the version
        return inside

    def _contains_version(self, version: Version) -> Tri:
        if version.wildcard:  # "5.x": inside only if every 5.* is, outside if none is
            low, high = wildcard_ends(version)
            if self._contains(low) is True and self._contains(high) is True:
                return True
            if all(_disjoint(interval, low, high) for interval in self.intervals):
                return False if not self.problem else None
            return None
        return self._contains(version)

    def _contains(self, version: Version) -> Tri:
        unknown = False
        for interval in self.intervals:
            inside = interval.contains(version)
            if inside is True:
                return True
            unknown = unknown or inside is None
        return None if unknown else False


def _disjoint(interval: Interval, low: Version, high: Version) -> bool:
    """True when no version between ``low`` and ``high`` is inside ``interval``."""
    if interval.upper is not None:
        side = compare_to_bound(low, interval.upper)
        if side is not None and (side > 0 or (side == 0 and not interval.upper_inclusive)):
            return True
    if interval.lower is not None:
        side = compare_to_bound(high, interval.lower)
        if side is not None and (side < 0 or (side == 0 and not interval.lower_inclusive)):
            return True
    return False


def _version(text: str) -> Version | None:
    return parse_version(text.strip().strip(",;"))


def _cut_note(text: str) -> str:
    found = _NOTE.search(text)
    if found and found.start() > 0:
        return text[: found.start()].strip(" ,;")
    return text


def _listed(text: str) -> list[Version] | None:
    """ "1.3.2 1.4.0 1.4.1", "Android-8.0 Android-8.1 Android-9", "2131 and 2141"."""
    words = [w for w in re.split(r"\s+(?:and|or)\s+|\s*,\s*|\s+", text) if w]
    if len(words) < 2:
        return None
    prefix = re.match(r"^([a-z][a-z ]*-)", words[0])
    if prefix and all(w.startswith(prefix.group(1)) for w in words):
        words = [w[len(prefix.group(1)) :] for w in words]
    if not all(_LIST_ITEM.match(w) for w in words):
        return None
    versions = [parse_version(w) for w in words]
    return [v for v in versions if v is not None] if all(versions) else None


def _part(
    text: str,
) -> tuple[str, Version, None] | Interval | list[Interval] | None:
    """One "|"-separated piece: a comparator, a span, a list or a single version."""
    text = _cut_note(text.strip())
    if not text:
        return None
    if text in _ALL:
        return Interval()
    found = _COMPARATOR.match(text)
    if found:
        operator = {"=>": ">=", "=<": "<=", "≤": "<=", "≥": ">=", "==": "="}.get(
            found.group(1), found.group(1)
        )
        bound = _version(found.group(2))
        return (operator, bound, None) if bound is not None else None
    for pattern, operator in (
        (_BEFORE, "<"),
        (_UP_TO, "<="),
        (_AND_EARLIER, "<="),
        (_AND_LATER, ">="),
        (_FROM, ">="),
    ):
        found = pattern.match(text)
        if found:
            bound = _version(found.group(1))
            return (operator, bound, None) if bound is not None else None
    found = _LETTER_SPAN.match(text)
    if found:
        low, high = _version(found.group(1)), _version(found.group(2))
        return Interval(low, True, high, True) if low and high else None
    found = _BETWEEN.match(text)
    if found:
        low, high = _version(found.group(1)), _version(found.group(3))
        if low is not None and high is not None:
            return Interval(low, True, high, found.group(2) == "<=")
    found = _BETWEEN_AND.match(text) or _SPAN.match(text)
    if found:
        low, high = _version(found.group(1)), _version(found.group(2))
        if low is not None and high is not None:
            return Interval(low, True, high, True)
    listed = _listed(text)
    if listed:
        return [exactly(v) for v in listed]
    single = _version(text)
    return exactly(single) if single is not None else None


def _combine(pieces: list[tuple[str, Version, None]]) -> tuple[list[Interval], bool]:
    """Comparators in the order written: a lower bound followed by an upper bound is one
    interval (CISA writes ">= 1.1 | <= 1.3.2" for "from 1.1 to 1.3.2"); the rest stand alone.
    Returns the intervals and whether a "!=" excluded something (unsupported: cannot tell)."""
    intervals: list[Interval] = []
    pending: tuple[str, Version] | None = None
    excluded = False
    for operator, bound, _ in pieces:
        if operator in (">", ">="):
            if pending is not None:
                intervals.append(Interval(pending[1], pending[0] == ">="))
            pending = (operator, bound)
        elif operator in ("<", "<="):
            if pending is not None:
                intervals.append(Interval(pending[1], pending[0] == ">=", bound, operator == "<="))
                pending = None
            else:
                intervals.append(Interval(None, True, bound, operator == "<="))
        elif operator == "=":
            intervals.append(exactly(bound))
        else:
            excluded = True
    if pending is not None:
        intervals.append(Interval(pending[1], pending[0] == ">="))
    return intervals, excluded


def _parse_vers(text: str) -> VersionRange:
    """purl-spec ``vers:<scheme>/<constraint>|...``: sorted by version, >=/< pairs form
    intervals."""
    body = text.split("/", 1)[1] if "/" in text else ""
    if body.strip() == "*":
        return VersionRange(text, everything=True)
    pieces: list[tuple[str, Version, None]] = []
    for item in body.split("|"):
        item = unquote(item.strip())
        if not item:
            continue
        found = _COMPARATOR.match(item)
        operator, value = (found.group(1), found.group(2)) if found else ("=", item)
        bound = _version(value)
        if bound is None:
            return VersionRange(text, problem=f"'{value}' in '{text}' is not a version")
        pieces.append((operator, bound, None))
    if not pieces:
        return VersionRange(text, problem="a vers: range with no constraints")
    if any(op == "!=" for op, _, _ in pieces):
        return VersionRange(text, problem="'!=' exclusions are not interpreted")
    equal = [exactly(b) for op, b, _ in pieces if op == "="]
    ordered = sorted((p for p in pieces if p[0] != "="), key=lambda p: p[1].key)
    intervals, _ = _combine(ordered)
    return VersionRange(text, tuple(equal + intervals), native=ecosystems.native_range(text))


def parse_range(text: object) -> VersionRange:
    """Read a published range expression. Never raises; unreadable text keeps a problem."""
    if not isinstance(text, str):
        return VersionRange(repr(text)[:80], problem="not text")
    return _parse_range(text)


@lru_cache(maxsize=65536)
def _parse_range(text: str) -> VersionRange:
    cleaned = normalise(text)
    if len(cleaned) > 400:
        return VersionRange(text, problem="range text too long to interpret")
    if cleaned.startswith("vers:"):
        return _parse_vers(cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    cleaned = re.sub(r"^\*\s+.*$", "*", cleaned)  # "* (end-of-life 2011)", "* running on ..."
    for _ in range(2):
        cleaned = _LEAD_NOISE.sub("", cleaned)
    if cleaned in _ALL or cleaned.startswith("all versions"):
        rest = cleaned[len("all versions") :].strip(" ,")
        if not rest or cleaned in _ALL:
            return VersionRange(text, everything=True)
        cleaned = rest
    pieces: list[tuple[str, Version, None]] = []
    intervals: list[Interval] = []
    unread: list[str] = []
    for item in re.split(r"\s*\|\|?\s*", _cut_note(cleaned)):
        if not item:
            continue
        part = _part(item)
        if part is None:
            unread.append(item.strip())
            continue
        if isinstance(part, tuple):
            pieces.append(part)
        elif isinstance(part, list):
            intervals.extend(part)
        else:
            intervals.append(part)
    combined, excluded = _combine(pieces)
    if excluded:
        return VersionRange(text, problem="'!=' exclusions are not interpreted")
    everything = any(i.lower is None and i.upper is None for i in intervals + combined)
    problem = "; ".join(f"'{item}' is not a version or range" for item in unread)
    return VersionRange(
        text, tuple(combined + intervals), everything=everything and not unread, problem=problem
    )


# --- normalised constraint dicts (CVE 5, NVD, CSAF via the importers) -----------------------

# CVE records write an unknown first version as "0", "*" or "unspecified"
_UNBOUNDED_LOW = {"0", "*", "", "-", "0.0", "0.0.0", "unspecified", "n/a", "unknown", "all"}
_ALL_VERSIONS = {"*", "", "0", "all", "all versions", "vers:all/*"}
_UNCOMPARABLE_TYPES = {"git", "commit", "hash"}
_RELEASE_TAG = re.compile(r"^(?:[a-z]+-)?v?\d+(?:\.\d+){0,3}(?:-?(?:rc|alpha|beta)\d*)?$")
_COMMIT = re.compile(r"^(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}$")


def _release_tags(bounds: list[str]) -> bool:
    """True when a "git" range is written with release tags ("v3.2.0", "3.6", "*"), as
    Zephyr's CNA does: tags are ordered like the releases they name."""
    return all(
        b.strip().casefold() in _UNBOUNDED_LOW or _RELEASE_TAG.match(b.strip().casefold())
        for b in bounds
    )


def _bound(text: Any) -> Version | None:
    return parse_version(str(text)) if text not in (None, "") else None


def _unreadable(text: str, why: str) -> VersionRange:
    return VersionRange(text, problem=why)


def _looks_like_expression(text: str) -> bool:
    lowered = text.casefold()
    return (
        any(
            mark in lowered
            for mark in (
                "|",
                "<",
                ">",
                "vers:",
                " and ",
                " through ",
                " to ",
                "prior",
                "before",
                "earlier",
                "later",
                "below",
                "all versions",
                ".x",
                "*",
                " or ",
                "(",
            )
        )
        or _listed(normalise(text)) is not None
    )


@lru_cache(maxsize=65536)
def _constraint_range(frozen: str) -> VersionRange:
    constraint: dict[str, Any] = json.loads(frozen)
    if constraint.get("expression") not in (None, ""):
        return parse_range(str(constraint["expression"]))
    version = str(constraint.get("version") or "").strip()
    version_type = str(constraint.get("version_type") or "").casefold()
    upper_keys = [
        k for k in ("less_than", "less_than_or_equal") if constraint.get(k) not in (None, "")
    ]
    lower_keys = [
        k for k in ("greater_than", "greater_than_or_equal") if constraint.get(k) not in (None, "")
    ]
    described = describe_constraint(constraint)
    bounds = [version] + [str(constraint[k]) for k in upper_keys + lower_keys]
    commits = any(_COMMIT.match(b.strip().casefold()) for b in bounds)
    if (upper_keys or lower_keys) and (
        commits or (version_type in _UNCOMPARABLE_TYPES and not _release_tags(bounds))
    ):
        return _unreadable(described, "commit ids cannot be ordered")
    if not upper_keys and not lower_keys:
        if version == "-":  # CPE "not applicable": the record names no version
            return _unreadable(version, "'-' names no version (CPE 'not applicable')")
        if version.casefold() in _ALL_VERSIONS:
            return VersionRange(described, everything=True)
        if _looks_like_expression(version):
            return parse_range(version)
        exact = parse_version(version)
        if exact is None:
            return _unreadable(version, f"'{version}' is not a version")
        return VersionRange(version, (exactly(exact),))
    lower: Version | None = None
    lower_inclusive = True
    if lower_keys:
        key = lower_keys[0]
        lower = _bound(constraint[key])
        lower_inclusive = key == "greater_than_or_equal"
        if lower is None and str(constraint[key]).strip().casefold() not in _UNBOUNDED_LOW:
            return _unreadable(described, f"'{constraint[key]}' is not a version")
    elif version.casefold() not in _UNBOUNDED_LOW:
        lower = parse_version(version)
        if lower is None:
            return _unreadable(described, f"'{version}' is not a version")
    upper: Version | None = None
    upper_inclusive = True
    if upper_keys:
        key = upper_keys[0]
        text = str(constraint[key]).strip()
        upper_inclusive = key == "less_than_or_equal"
        if text != "*":
            upper = parse_version(text)
            if upper is None:
                return _unreadable(described, f"'{text}' is not a version")
    scheme = ecosystems.scheme_of(version_type)
    native = (
        ecosystems.native_range(
            ecosystems.vers_of(
                scheme,
                lower.raw if lower else "",
                lower_inclusive,
                upper.raw if upper else "",
                upper_inclusive,
            )
        )
        if scheme
        else None
    )
    return VersionRange(
        described,
        (Interval(lower, lower_inclusive, upper, upper_inclusive),),
        everything=lower is None and upper is None,
        native=native,
    )


def constraint_range(constraint: Mapping[str, Any]) -> VersionRange:
    """The versions one normalised constraint dict covers (its status aside)."""
    try:
        frozen = json.dumps(dict(constraint), sort_keys=True, default=str)
    except (TypeError, ValueError):
        return VersionRange(str(constraint), problem="not a constraint")
    return _constraint_range(frozen)


def describe_constraint(constraint: Mapping[str, Any]) -> str:
    """The constraint as a reader would write it: "<= 9.19.2", ">= 4.0, < 6.8", "1.1.6"."""
    if constraint.get("expression") not in (None, ""):
        return str(constraint.get("raw") or constraint["expression"])
    pieces = []
    version = str(constraint.get("version") or "").strip()
    has_range = any(
        constraint.get(k) not in (None, "")
        for k in ("less_than", "less_than_or_equal", "greater_than", "greater_than_or_equal")
    )
    if version and (not has_range or version.casefold() not in _UNBOUNDED_LOW):
        pieces.append(f">= {version}" if has_range else version)
    for key, symbol in (
        ("greater_than_or_equal", ">="),
        ("greater_than", ">"),
        ("less_than", "<"),
        ("less_than_or_equal", "<="),
    ):
        if constraint.get(key) not in (None, ""):
            pieces.append(f"{symbol} {constraint[key]}")
    return ", ".join(pieces) or str(constraint.get("raw") or "all versions")
