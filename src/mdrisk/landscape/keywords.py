"""Keyword rules with negation: does a report or recall involve software, cybersecurity or
the ML function, and what kind of product and technology does an advisory name.

The rules are data (``mdrisk/data/landscape-keywords.yaml``); this module loads them (an
InputError names file, line and field of a bad rule) and applies them.

How a text is classified
------------------------
1. Every term of every category is searched (case-insensitively, except ``exact_case``
   terms such as ``\\bAI\\b``).
2. The text is cut into clauses: at sentence punctuation (``. ; : ! ?`` followed by a space
   or the end, so "v2.1" stays whole), at clause-break words ("but", "however", "although",
   ...), and at a comma followed by a word that starts a new clause ("the", "it", "this",
   ...). A comma inside a list keeps the clause whole, so "no software, firmware or hardware
   fault" negates all three.
3. An occurrence is *negated* when, inside its own clause,
   - a ``before`` cue ("no", "not", "n't", "without", "ruled out", "unrelated to", ...)
     stands at most ``window`` words before it: "No software malfunction was found",
     "The event was not related to cybersecurity";
   - or an ``after`` phrase ("was ruled out", "not involved", "performed as intended", ...)
     follows at most ``window`` words after it: "Software was ruled out as a cause".
   A cue inside a ``pseudo`` phrase does not negate: "a software fault could not be ruled
   out" and "not only the software" still count.
4. The text is in a category when at least one occurrence of one of its terms is not
   negated. Every occurrence is kept as a ``Hit`` (term, place, negated, cue), so a
   classification can always be explained.

Known limits: double negation beyond the pseudo phrases, negation that spans sentences
("Was software involved? No."), and terms that mean something else in a given report are
not understood; the evidence column of the output lets a reader check each call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from mdrisk.errors import InputError, Problem
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import StrictModel, validated

BUILTIN_LABEL = "mdrisk/data/landscape-keywords.yaml"
_SENTENCE_END = re.compile(r"[.;:!?](?=\s|$)|\n\s*\n")
_WORD = re.compile(r"[\w'’-]+")


def _compiles(patterns: list[str], flags: int) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern, flags)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a regular expression ({exc})") from None
    return patterns


class Category(StrictModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    label: Annotated[str, Field(min_length=1)]
    description: str = ""
    terms: list[str] = Field(min_length=1)
    exact_case: list[str] = Field(default_factory=list)

    @field_validator("terms", "exact_case")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        return _compiles(patterns, re.IGNORECASE)

    @cached_property
    def compiled(self) -> tuple[re.Pattern[str], ...]:
        return tuple(
            [re.compile(term, re.IGNORECASE) for term in self.terms]
            + [re.compile(term) for term in self.exact_case]
        )


class Negation(StrictModel):
    window: Annotated[int, Field(ge=1, le=20)] = 6
    before: list[str] = Field(min_length=1)
    after: list[str] = Field(default_factory=list)
    pseudo: list[str] = Field(default_factory=list)
    clause_breaks: list[str] = Field(default_factory=list)
    comma_starts: list[str] = Field(default_factory=list)

    @cached_property
    def before_cues(self) -> re.Pattern[str]:
        return _phrases(self.before)

    @cached_property
    def after_cues(self) -> re.Pattern[str] | None:
        return _phrases(self.after) if self.after else None

    @cached_property
    def pseudo_cues(self) -> re.Pattern[str] | None:
        return _phrases(self.pseudo) if self.pseudo else None

    @cached_property
    def boundaries(self) -> re.Pattern[str]:
        alternatives = [_SENTENCE_END.pattern]
        if self.clause_breaks:
            alternatives.append(_phrases(self.clause_breaks).pattern)
        if self.comma_starts:
            words = "|".join(re.escape(word) for word in self.comma_starts)
            alternatives.append(rf",(?=\s*(?:{words})\b)")
        return re.compile(
            "|".join(f"(?:{alternative})" for alternative in alternatives), re.IGNORECASE
        )


class TextRule(StrictModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    label: Annotated[str, Field(min_length=1)]
    patterns: list[str] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        return _compiles(patterns, re.IGNORECASE)

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.patterns), re.IGNORECASE)


class KeywordRules(StrictModel):
    version: Literal[1]
    categories: list[Category] = Field(min_length=1)
    negation: Negation
    device_classes: list[TextRule] = Field(default_factory=list)
    platforms: list[TextRule] = Field(default_factory=list)


def _phrases(phrases: list[str]) -> re.Pattern[str]:
    """One pattern for cue phrases: whole words, any run of spaces between them; a cue that
    starts with an apostrophe ("n't") attaches to the word before it."""
    parts = []
    for phrase in sorted(phrases, key=len, reverse=True):
        body = r"\s+".join(re.escape(word) for word in phrase.split())
        body = body.replace("'", "['’]")
        start = "" if phrase.startswith(("n't", "'")) else r"(?<![\w'’])"
        parts.append(f"{start}{body}(?![\\w])")
    return re.compile("|".join(parts), re.IGNORECASE)


# --- loading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedRules:
    rules: KeywordRules
    source: str
    sha256: str


def rules_from_text(text: str, file: str) -> KeywordRules:
    return rules_from_document(parse_document(text, file))


def rules_from_document(source: SourceDocument) -> KeywordRules:
    """The checked rules of a parsed document; InputError naming line and field."""
    file = source.file
    rules = validated(
        KeywordRules, source, "the rules must be a mapping with version, categories and negation"
    )
    problems = []
    for section in ("categories", "device_classes", "platforms"):
        seen: set[str] = set()
        for index, rule in enumerate(getattr(rules, section)):
            if rule.id in seen:
                path = (section, index, "id")
                problems.append(
                    Problem(
                        f"'{rule.id}' is defined twice",
                        field=source.render_path(path),
                        line=source.line_of(path),
                        fix="give each rule its own id",
                    )
                )
            seen.add(rule.id)
    if problems:
        raise InputError(file, problems)
    return rules


def load_keyword_rules(path: Path | str) -> LoadedRules:
    """The user's rules at ``path`` (the built-in ones come from ``mdrisk.bundled``)."""
    return loaded_rules(parse_document(read_text(Path(path)), str(path)))


def loaded_rules(source: SourceDocument) -> LoadedRules:
    return LoadedRules(rules_from_document(source), source.file, source.sha256)


# --- classifying --------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    category: str
    term: str  # the text that matched
    start: int
    end: int
    negated: bool
    cue: str = ""  # the negation cue, when negated


@dataclass(frozen=True)
class Classification:
    categories: tuple[str, ...]  # in rule order
    hits: tuple[Hit, ...]

    def evidence(self, text: str, category: str, width: int = 60) -> str:
        """The words around the first occurrence that put ``text`` in ``category``."""
        for hit in self.hits:
            if hit.category == category and not hit.negated:
                start = max(0, hit.start - width)
                end = min(len(text), hit.end + width)
                if start:  # begin and end on whole words
                    start = next(
                        (i + 1 for i in range(start, hit.start) if text[i].isspace()), start
                    )
                if end < len(text):
                    end = next((i for i in range(end, hit.end, -1) if text[i].isspace()), end)
                snippet = " ".join(text[start:end].split())
                return ("…" if start else "") + snippet + ("…" if end < len(text) else "")
        return ""


class Classifier:
    def __init__(self, rules: KeywordRules) -> None:
        self.rules = rules
        self.negation = rules.negation

    def classify(self, text: str) -> Classification:
        if not text.strip():
            return Classification((), ())
        breaks = [(m.start(), m.end()) for m in self.negation.boundaries.finditer(text)]
        hits: list[Hit] = []
        for category in self.rules.categories:
            spans: list[tuple[int, int]] = []
            for pattern in category.compiled:
                for match in pattern.finditer(text):
                    if match.end() > match.start() and not any(
                        s <= match.start() < e for s, e in spans
                    ):
                        spans.append((match.start(), match.end()))
            for start, end in sorted(spans):
                cue = self._negated_by(text, start, end, breaks)
                hits.append(
                    Hit(category.id, text[start:end], start, end, cue is not None, cue or "")
                )
        found = {hit.category for hit in hits if not hit.negated}
        return Classification(
            tuple(c.id for c in self.rules.categories if c.id in found), tuple(hits)
        )

    def _negated_by(
        self, text: str, start: int, end: int, breaks: list[tuple[int, int]]
    ) -> str | None:
        clause_start = max((e for s, e in breaks if e <= start), default=0)
        clause_end = min((s for s, e in breaks if s >= end), default=len(text))
        pseudo = (
            []
            if self.negation.pseudo_cues is None
            else [
                (m.start(), m.end())
                for m in self.negation.pseudo_cues.finditer(text, clause_start, clause_end)
            ]
        )
        window = self.negation.window

        def real(match: re.Match[str]) -> bool:
            return not any(s <= match.start() and match.end() <= e for s, e in pseudo)

        words = list(_WORD.finditer(text, clause_start, start))
        scope_start = words[-window].start() if len(words) > window else clause_start
        for match in self.negation.before_cues.finditer(text, scope_start, start):
            if real(match):
                return match.group(0)
        if self.negation.after_cues is not None:
            after = list(_WORD.finditer(text, end, clause_end))
            scope_end = after[window - 1].end() if len(after) >= window else clause_end
            for match in self.negation.after_cues.finditer(text, end, scope_end):
                if real(match):
                    return match.group(0)
        return None

    def label(self, category_id: str) -> str:
        return next((c.label for c in self.rules.categories if c.id == category_id), category_id)


def matching_rules(rules: list[TextRule], text: str) -> list[str]:
    """Ids of the rules with a pattern found in ``text``, in rule order."""
    return [rule.id for rule in rules if rule.compiled.search(text)]
