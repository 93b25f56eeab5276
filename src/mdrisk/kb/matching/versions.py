"""One version as real records write it, and how two versions compare.

In: text such as "2.3.6", "v4.0-rc1", "2023.3_Build_9342", "4.0.1 build 120", "1.8.4 Service
Pack 01", "10.0.1a", "0.13c", "BT03", "B.06.18", "R4.1L1", "2019-07-15", "20190715",
"April 1, 2018", "5.x", "12.2.x.x". Out: a ``Version`` or None when the text is not a version
("n/a", "Accu-Chek Inform II"). Parsing never raises. ``compare`` is a total preorder on every
parsed version; ``compare_to_bound`` is what range checks use (builds refine a release, a
wildcard bound covers every version under its prefix, a calendar date never compares with a
version number).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

# A segment compares as a tuple: (1, number, letter suffix) for "13c", (0, 0, word) for "bt".
# Words sort before numbers, so "1.0a" < "1.0.1" and every pair of segments is comparable.
Segment = tuple[int, int, str]
ZERO: Segment = (1, 0, "")

MAX_VERSION_CHARS = 80
_BIG = 10**12

_PRE_RANKS = {
    "dev": 0,
    "snapshot": 0,
    "alpha": 1,
    "beta": 2,
    "milestone": 3,
    "pre": 4,
    "preview": 4,
    "cr": 5,
    "rc": 5,
}
_POST_MARKERS = (
    "service pack",
    "servicepack",
    "sp",
    "hotfix",
    "hf",
    "patch",
    "update",
    "sr",
    "mr",
    "post",
    "fix",
    "p",
    "u",
    "r",
)
_NOT_VERSIONS = {
    "all",
    "any",
    "none",
    "n/a",
    "na",
    "tbd",
    "unknown",
    "unspecified",
    "latest",
    "current",
    "various",
    "see",
    "other",
    "default",
    "null",
    "nil",
    "-",
    "*",
}
_JOINING_WORDS = {
    "and",
    "or",
    "to",
    "thru",
    "through",
    "until",
    "from",
    "between",
    "with",
    "on",
    "for",
    "prior",
    "before",
    "earlier",
    "later",
    "than",
    "up",
    "below",
    "above",
    "not",
    "including",
    "versions",
    "all",
}
_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

_LEADING_WORDS = re.compile(
    r"^(?:version|versions|ver\.?|v\.|rev\.?|revision|release|rel\.|firmware|fw|software|sw)"
    r"\s*[:#]?\s*(?=[0-9a-z])"
)
_BUILD_IN_BRACKETS = re.compile(r"\s*\(\s*(?:build|bld)\.?\s*([0-9A-Za-z.]+)\s*\)", re.IGNORECASE)
_LEADING_LETTER = re.compile(r"^[vr](?=\d)")
_NUMERIC_DATE = re.compile(r"^((?:19|20)\d\d)([-/.])(\d{1,2})\2(\d{1,2})$")
_COMPACT_DATE = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)$")
_CALENDAR = re.compile(
    r"^(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?[\s-]+)?(?P<month>[a-z]{3})[a-z]*\.?[\s-]*"
    r"(?:(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+)?(?P<year>(?:19|20)\d\d)$"
)
_BUILD = re.compile(
    r"(?:\s*[-.]?\s*\b(?:build|bld)\b\s*[.#:]?\s*|\+)"
    r"(?P<build>[0-9a-z][0-9a-z.]*)$"
)
_BUILD_DASH = re.compile(r"^(?P<release>[0-9a-z.]*\d[0-9a-z.]*\.[0-9a-z.]*\d)-(?P<build>\d+)$")
_PRE = re.compile(
    r"(?:(?<=\d)|[\s._-]+)"
    r"(?P<word>alpha|beta|rc|preview|pre|dev|snapshot|milestone|cr)"
    r"[\s._-]*(?P<number>\d*)$"
)
_POST = re.compile(
    r"(?:(?<=\d)|[\s._-]+)(?P<word>service\s*pack|sp|hotfix|hf|patch|update|sr|mr|post|fix"
    r"|p(?=\d)|u(?=\d)|r(?=\d))[\s._-]*(?P<number>\d*)$"
)
_WILDCARD = re.compile(r"(?:[.\s-](?:x|\*))+$|(?<=\d)x$")
_ALLOWED = re.compile(r"^[0-9a-z][0-9a-z.\s/-]*$")
_RUNS = re.compile(r"\d+|[a-z]+")


@dataclass(frozen=True)
class Version:
    """A parsed version. ``parts`` is the release as written (segments, trailing zeros kept);
    ``wildcard`` means the text ended in ".x"/".*" and stands for every version under
    ``parts``; ``calendar`` means a date written with a month name (a shipping date, not a
    software version)."""

    raw: str
    parts: tuple[Segment, ...]
    pre: tuple[int, int] | None = None
    post: tuple[Segment, ...] = ()
    build: tuple[Segment, ...] = ()
    wildcard: bool = False
    calendar: bool = False

    @cached_property
    def release_key(self) -> tuple[Segment, ...]:
        parts = list(self.parts)
        while parts and parts[-1] == ZERO:
            parts.pop()
        return tuple(parts)

    @cached_property
    def pre_key(self) -> tuple[int, int, int]:
        return (1, 0, 0) if self.pre is None else (0, *self.pre)

    @cached_property
    def key(self) -> tuple:
        return (int(self.calendar), self.release_key, self.pre_key, self.post, self.build)

    def __str__(self) -> str:
        return self.raw


def _segments(text: str) -> tuple[Segment, ...] | None:
    """Release text -> segments; None when it reads as words rather than a version."""
    segments: list[Segment] = []
    words = 0
    for piece in re.split(r"[.\s/-]+", text):
        if not piece:
            continue
        runs = _RUNS.findall(piece)
        index = 0
        while index < len(runs):
            run = runs[index]
            if run.isdigit():
                suffix = ""
                if (
                    index + 1 == len(runs) - 1
                    and not runs[index + 1].isdigit()
                    and len(runs[index + 1]) <= 2
                ):
                    suffix = runs[index + 1]
                    index += 1
                segments.append((1, min(int(run), _BIG), suffix))
            else:
                if run in _JOINING_WORDS:
                    return None
                if len(run) > 3:
                    words += 1
                segments.append((0, 0, run))
            index += 1
    if not segments or len(segments) > 16 or words > 1:
        return None
    has_digit = any(rank == 1 for rank, _, _ in segments)
    if not has_digit and (sum(len(word) for _, _, word in segments) > 4 or len(segments) > 2):
        return None
    return tuple(segments)


def _calendar(text: str) -> Version | None:
    found = _CALENDAR.match(text)
    if not found or found.group("month")[:3] not in _MONTHS:
        return None
    day = int(found.group("d1") or found.group("d2") or 0)
    parts = (
        (1, int(found.group("year")), ""),
        (1, _MONTHS[found.group("month")[:3]], ""),
        (1, day, ""),
    )
    return Version(text, parts, calendar=True)


def _numeric_date(raw: str, text: str) -> Version | None:
    found = _NUMERIC_DATE.match(text) or _COMPACT_DATE.match(text)
    if not found:
        return None
    groups = [g for g in found.groups() if g not in ("-", "/", ".")]
    year, month, day = (int(g) for g in groups)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return Version(raw, ((1, year, ""), (1, month, ""), (1, day, "")))


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().casefold().replace("_", " ")
    text = re.sub(r"\s+", " ", text)
    while len(text) >= 2 and text[0] in "(['\"" and text[-1] in ")]'\"":
        text = text[1:-1].strip()
    return text


def parse_version(text: object) -> Version | None:
    """A version, or None when ``text`` is not one. Never raises."""
    if not isinstance(text, str) or len(text) > MAX_VERSION_CHARS:
        return None
    return _parse(text)


@lru_cache(maxsize=65536)
def _parse(text: str) -> Version | None:
    raw = text.strip()
    text = normalise(_BUILD_IN_BRACKETS.sub(r" build \1", text))
    if not text or text in _NOT_VERSIONS:
        return None
    calendar = _calendar(text)
    if calendar is not None:
        return calendar
    if re.match(r"[a-z]{3,}", text) and text[:3] in _MONTHS:
        return None  # a month without a year ("< august 28")
    for _ in range(3):
        stripped = _LEADING_WORDS.sub("", text)
        if stripped == text:
            break
        text = stripped
    text = _LEADING_LETTER.sub("", text)
    dated = _numeric_date(raw, text)
    if dated is not None:
        return dated

    build: tuple[Segment, ...] = ()
    found = _BUILD.search(text)
    if found and found.start() > 0:
        build = _segments(found.group("build")) or ()
        text = text[: found.start()].strip(" .-")
    else:
        dashed = _BUILD_DASH.match(text)
        if dashed:
            build = _segments(dashed.group("build")) or ()
            text = dashed.group("release")

    pre: tuple[int, int] | None = None
    post: list[Segment] = []
    for _ in range(3):
        found_pre = _PRE.search(text)
        if found_pre and found_pre.start() > 0 and pre is None:
            number = found_pre.group("number")
            pre = (_PRE_RANKS[found_pre.group("word")], min(int(number), _BIG) if number else 0)
            text = text[: found_pre.start()].strip(" .-")
            continue
        found_post = _POST.search(text)
        if found_post and found_post.start() > 0:
            word = re.sub(r"\s+", "", found_post.group("word"))
            word = "sp" if word == "servicepack" else word
            number = found_post.group("number")
            post = [(0, 0, word), (1, min(int(number), _BIG) if number else 0, "")] + post
            text = text[: found_post.start()].strip(" .-")
            continue
        break

    wildcard = False
    found_wild = _WILDCARD.search(text)
    if found_wild and found_wild.start() > 0:
        wildcard = True
        text = text[: found_wild.start()].strip(" .-")
    if not text or not _ALLOWED.match(text):
        return None
    parts = _segments(text)
    if parts is None:
        return None
    return Version(raw, parts, pre, tuple(post), build, wildcard)


def compare(a: Version, b: Version) -> int:
    """-1, 0 or 1. A total preorder on all parsed versions (wildcards compare as their prefix,
    a calendar date sorts after every version number)."""
    left, right = a.key, b.key
    return (left > right) - (left < right)


def compare_text(a: str, b: str) -> int | None:
    """Compare two version texts; None when either is not a version."""
    left, right = parse_version(a), parse_version(b)
    if left is None or right is None:
        return None
    return compare(left, right)


def _padded(parts: tuple[Segment, ...], length: int) -> tuple[Segment, ...]:
    return (parts + (ZERO,) * length)[:length]


def compare_to_bound(version: Version, bound: Version) -> int | None:
    """How ``version`` stands against a range bound: -1, 0, 1, or None when they cannot be
    compared (a calendar date against a version number).

    A wildcard bound ("12.2.x.x") compares only the prefix it names; a build number counts
    only when both sides give one (so "4.0.1 build 120" is 4.0.1 for the bound "<= 4.0.1").
    """
    if version.calendar != bound.calendar:
        return None
    left: tuple[object, ...]
    right: tuple[object, ...]
    if bound.wildcard:
        size = len(bound.parts)
        if _padded(version.parts, size) == _padded(bound.parts, size):
            return 0  # under the prefix: "12.2.7" is within "12.2.x"
        left, right = version.release_key, bound.release_key
    elif version.build and bound.build:
        left, right = version.key, bound.key
    else:
        left = (version.release_key, version.pre_key, version.post)
        right = (bound.release_key, bound.pre_key, bound.post)
    return (left > right) - (left < right)


def wildcard_ends(version: Version) -> tuple[Version, Version]:
    """The lowest and (nearly) highest versions a wildcard like "5.x" stands for."""
    low = Version(version.raw, version.parts, calendar=version.calendar)
    high = Version(version.raw, version.parts + ((1, _BIG, ""),), calendar=version.calendar)
    return low, high


def looks_like_version(token: str) -> bool:
    """True for tokens an analyst writes as a version ("2.9", "v10.0.1a", "R4.3", "9.19.2")."""
    return bool(
        re.fullmatch(
            r"(?:v|r|ver\.?|version)?\s*\d+(?:[._-]\d+)+[a-z]?\d*"
            r"(?:[-_.]?(?:rc|beta|alpha|sp|build|b)\d*)?",
            token.casefold(),
        )
    )
