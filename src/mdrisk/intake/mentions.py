"""Find the technologies a sentence names, with the versions written after them."""

from __future__ import annotations

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


def _candidates(lexicon: Lexicon, text: str) -> list[Mention]:
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
    return found


def find_mentions(lexicon: Lexicon, text: str) -> list[Mention]:
    """Non-overlapping mentions, the longest name winning where names overlap
    ("TensorFlow Lite" over "TensorFlow", "Bluetooth Low Energy" over "Bluetooth")."""
    candidates = _candidates(lexicon, text)
    candidates.sort(key=lambda m: (-(m.name_end - m.start), m.start, m.entry.id))
    taken: list[Mention] = []
    for mention in candidates:
        if all(
            mention.name_end <= other.start or mention.start >= other.name_end for other in taken
        ):
            taken.append(mention)
    return sorted(taken, key=lambda m: (m.start, m.entry.id))
