"""Decide whether a mention says the device uses a technology, in the manner of NegEx: cue
words with a scope of a few words, inside one clause of the sentence.

A mention is set aside when it is negated ("does not use Wi-Fi"), hypothetical ("future
versions may support NFC"), about another device ("the predicate device used Wi-Fi"), in a
question, or in a block that addresses a reader or tool instead of describing the device.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from mdrisk.intake.lexicon import Cue, Cues, CueSet
from mdrisk.intake.mentions import Mention

_WORD = re.compile(r"[\w][\w.+/'\u2019-]*")
_LIST_FILLER = re.compile(
    r"^(?:\s|\b(?:and|or|nor|a|an|the|its|their|any|also|even)\b)*", re.IGNORECASE
)
# After ", and" a new clause starts when a subject or a verb follows, not another list item.
_NEW_CLAUSE_AFTER_AND = re.compile(
    r",\s+and\s+(?=(?:it|they|there|this|these|that|we|you|he|she|then|so)\b"
    r"|(?:\w+\s+){0,2}(?:is|are|was|were|has|have|had|can|cannot|will|does|do|did|must|should"
    r"|may|uses?|sends?|transmits?|runs?|connects?|communicates?|stores?|supports?|receives?"
    r"|provides?|offers?|includes?|requires?|needs?|works?|reads?|writes?|shows?|displays?"
    r"|uploads?|downloads?|forwards?|returns?|gets?|keeps?)\b)",
    re.IGNORECASE,
)


class Status(StrEnum):
    finding = "finding"
    negated = "negated"
    hypothetical = "hypothetical"
    other_device = "other_device"
    question = "question"
    instruction = "instruction"


@dataclass(frozen=True)
class Verdict:
    status: Status
    cue: str = ""


def _words(text: str) -> int:
    return len(_WORD.findall(text))


@dataclass(frozen=True)
class CueEngine:
    cues: Cues

    @cached_property
    def _breaks(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.cues.clause_breaks), re.IGNORECASE)

    @cached_property
    def _directives(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, re.IGNORECASE | re.MULTILINE) for p in self.cues.directives)

    @cached_property
    def _compiled(
        self,
    ) -> dict[
        str,
        tuple[
            list[tuple[Cue, re.Pattern[str]]],
            list[tuple[Cue, re.Pattern[str]]],
            list[re.Pattern[str]],
        ],
    ]:
        def one(cue_set: CueSet) -> tuple:
            return (
                [(c, re.compile(c.cue, re.IGNORECASE)) for c in cue_set.before],
                [(c, re.compile(c.cue, re.IGNORECASE)) for c in cue_set.after],
                [re.compile(p, re.IGNORECASE) for p in cue_set.clause],
            )

        return {
            "negated": one(self.cues.negation),
            "hypothetical": one(self.cues.hypothetical),
            "other_device": one(self.cues.other_device),
        }

    @cached_property
    def _other_end(self) -> re.Pattern[str] | None:
        patterns = self.cues.other_device_end
        return (
            re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None
        )

    @cached_property
    def _other_except(self) -> re.Pattern[str] | None:
        patterns = self.cues.other_device_except
        return (
            re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None
        )

    def directive(self, sentence: str) -> str | None:
        """The text of the first directive found in the sentence, if any."""
        for pattern in self._directives:
            match = pattern.search(sentence)
            if match:
                return match.group(0).strip()
        return None

    def clauses(self, text: str) -> list[tuple[int, int]]:
        cuts = sorted(
            {
                0,
                len(text),
                *(m.start() for m in self._breaks.finditer(text)),
                *(m.start() + 1 for m in _NEW_CLAUSE_AFTER_AND.finditer(text)),
            }
        )
        return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]

    def _comma_allows(self, gap: str, gap_start: int, starts: set[int], comma: str) -> bool:
        if comma == "pass" or "," not in gap:
            return True
        if comma == "stop":
            return False
        for match in re.finditer(",", gap):
            rest = gap[match.end() :]
            skipped = _LIST_FILLER.match(rest)
            position = gap_start + match.end() + (skipped.end() if skipped else 0)
            if position not in starts:
                return False
        return True

    def _check(self, which: str, sentence: _Sentence, mention: Mention) -> str | None:
        before, after, anywhere = self._compiled[which]
        text = sentence.text
        segment_start, segment_end = sentence.clause_of(mention.start)
        found = sentence.anywhere(which, anywhere, (segment_start, segment_end))
        if found is not None:
            return found
        for cue, pattern in before:
            # A cue counts only within its window of words, so only that stretch is searched:
            # a sentence of many mentions costs each mention a few words, not the sentence.
            search_from = max(segment_start, sentence.words_before(mention.start, cue.window))
            for match in pattern.finditer(text, search_from, mention.start):
                gap = text[match.end() : mention.start]
                if which == "other_device":
                    if self._other_end is not None and self._other_end.search(gap):
                        continue
                    if sentence.other_except(self._other_except, (segment_start, segment_end)):
                        continue
                if _words(gap) <= cue.window and self._comma_allows(
                    gap, match.end(), sentence.starts, cue.comma
                ):
                    return match.group(0)
        for cue, pattern in after:
            search_to = min(segment_end, sentence.words_after(mention.end, cue.window))
            for match in pattern.finditer(text, mention.end, search_to):
                gap = text[mention.end : match.start()]
                if _words(gap) <= cue.window and self._comma_allows(
                    gap, mention.end, sentence.starts, cue.comma
                ):
                    return match.group(0)
        return None

    def judge(self, text: str, mentions: list[Mention]) -> list[Verdict]:
        """A verdict for each mention of one sentence (directives are judged per block)."""
        if text.rstrip().endswith("?"):
            return [Verdict(Status.question, "?") for _ in mentions]
        sentence = _Sentence(text, self.clauses(text), {mention.start for mention in mentions})
        verdicts = []
        for mention in mentions:
            for which in ("other_device", "negated", "hypothetical"):
                cue = self._check(which, sentence, mention)
                if cue is not None:
                    verdicts.append(Verdict(Status(which), cue.strip()))
                    break
            else:
                verdicts.append(Verdict(Status.finding))
        return verdicts


# Words a cue pattern may span beyond its window (multi-word cues such as "may also be
# added"), so that the bounded search finds every match the window allows.
_CUE_SPAN = 12


class _Sentence:
    """One sentence prepared for judging its mentions: its clauses, where its words start,
    and what holds for a whole clause, each computed once however many mentions it has."""

    def __init__(self, text: str, clauses: list[tuple[int, int]], starts: set[int]) -> None:
        self.text = text
        self.starts = starts
        self._clauses = clauses
        self._clause_starts = [a for a, _ in clauses]
        self._word_starts = [match.start() for match in _WORD.finditer(text)]
        self._anywhere: dict[tuple[str, tuple[int, int]], str | None] = {}
        self._except: dict[tuple[int, int], bool] = {}

    def clause_of(self, position: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._clause_starts, position) - 1
        if index >= 0:
            a, b = self._clauses[index]
            if a <= position < b:
                return a, b
        return 0, len(self.text)

    def words_before(self, position: int, window: int) -> int:
        """Where the word ``window`` words (and a cue's length) before ``position`` starts."""
        index = bisect.bisect_left(self._word_starts, position) - window - _CUE_SPAN
        return self._word_starts[index] if index > 0 else 0

    def words_after(self, position: int, window: int) -> int:
        """Where the word ``window`` words (and a cue's length) after ``position`` starts."""
        index = bisect.bisect_left(self._word_starts, position) + window + _CUE_SPAN
        return self._word_starts[index] if index < len(self._word_starts) else len(self.text)

    def anywhere(
        self, which: str, patterns: list[re.Pattern[str]], clause: tuple[int, int]
    ) -> str | None:
        key = (which, clause)
        if key not in self._anywhere:
            segment = self.text[clause[0] : clause[1]]
            self._anywhere[key] = next(
                (match.group(0) for p in patterns if (match := p.search(segment))), None
            )
        return self._anywhere[key]

    def other_except(self, pattern: re.Pattern[str] | None, clause: tuple[int, int]) -> bool:
        if pattern is None:
            return False
        if clause not in self._except:
            self._except[clause] = pattern.search(self.text, clause[0], clause[1]) is not None
        return self._except[clause]
