"""Find the technologies a sentence names, with the versions written after them."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from mdrisk.intake.lexicon import Lexicon, Matcher, TechnologyEntry


@dataclass(frozen=True)
class Mention:
    """A technology named at ``start:end`` of a sentence, with the version(s) written there."""

    entry: TechnologyEntry
    start: int
    end: int  # end of the name and of any version after it
    name_end: int
    surface: str
    versions: tuple[str, ...]


def _versions(matcher: Matcher, text: str, match: re.Match[str]) -> tuple[tuple[str, ...], int]:
    """Versions in the match itself or right after it, and where they end."""
    inside = match.groupdict().get("version")
    if inside:
        return (inside,), match.end()
    if matcher.version_first is None:
        return (), match.end()
    if matcher.unversioned is not None and matcher.unversioned.fullmatch(match.group(0)):
        return (), match.end()
    found = matcher.version_first.match(text, match.end())
    if found is None:
        return (), match.end()
    versions = [found.group("version")]
    end = found.end()
    while matcher.version_more is not None:
        more = matcher.version_more.match(text, end)
        if more is None:
            break
        versions.append(more.group("version"))
        end = more.end()
    return tuple(versions), end


class TooManyMentions(Exception):
    """More candidate mentions than the caller allows: generated or repeated text."""


def _candidates(lexicon: Lexicon, text: str, limit: int | None) -> list[Mention]:
    found = []
    for matcher in lexicon.matchers:
        for pattern in matcher.recognisers:
            for match in pattern.finditer(text):
                if match.end() == match.start():
                    continue
                versions, end = _versions(matcher, text, match)
                versions = tuple(
                    dict.fromkeys(
                        lexicon.normalise_version(matcher.entry, version) for version in versions
                    )
                )
                found.append(
                    Mention(
                        matcher.entry, match.start(), end, match.end(), match.group(0), versions
                    )
                )
                if limit is not None and len(found) > limit:
                    raise TooManyMentions(len(found))
    return found


def find_mentions(lexicon: Lexicon, text: str, limit: int | None = None) -> list[Mention]:
    """Non-overlapping mentions, the longest name winning where names overlap
    ("TensorFlow Lite" over "TensorFlow", "Bluetooth Low Energy" over "Bluetooth").
    TooManyMentions when there are more than ``limit`` candidates."""
    candidates = _candidates(lexicon, text, limit)
    candidates.sort(key=lambda m: (-(m.name_end - m.start), m.start, m.entry.id))
    # Names taken so far, kept in text order: they never overlap, so a candidate need only be
    # compared with its neighbours (a sentence of thousands of mentions stays near-linear).
    taken: list[Mention] = []
    taken_starts: list[int] = []
    for mention in candidates:
        index = bisect.bisect_left(taken_starts, mention.start)
        if index > 0 and taken[index - 1].name_end > mention.start:
            continue
        if index < len(taken) and taken[index].start < mention.name_end:
            continue
        taken.insert(index, mention)
        taken_starts.insert(index, mention.start)
    return sorted(taken, key=lambda m: (m.start, m.entry.id))
