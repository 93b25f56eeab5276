"""Score extraction against annotated documents: precision and recall of (name, version).

An annotation file (YAML) lists what a document truly mentions; see
tests/corpus/documents/README.md for how ours were written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mdrisk.errors import InputError, Problem
from mdrisk.parsing.source import parse_document, read_text


class AnnotatedTechnology(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    version: str | None = None


class Annotation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    document: str = Field(min_length=1)
    style: str = ""
    technologies: list[AnnotatedTechnology]
    not_findings: list[str] = Field(default_factory=list)


Pair = tuple[str, str | None]


def normalise(pair: Pair) -> Pair:
    name, version = pair
    return name.casefold(), ("".join(version.split()).casefold() if version else None)


def load_annotation(path: Path) -> Annotation:
    source = parse_document(read_text(path), str(path))
    try:
        return Annotation.model_validate(source.data)
    except ValidationError as error:
        raise InputError(
            str(path),
            [
                Problem(
                    item["msg"],
                    field=source.render_path(tuple(item["loc"])),
                    line=source.line_of(tuple(item["loc"])),
                )
                for item in error.errors(include_url=False)
            ],
        ) from None


def annotated_corpus(folder: Path) -> list[tuple[Path, Annotation]]:
    """(document, annotation) for every annotation in ``folder``/annotations."""
    pairs = []
    for path in sorted((folder / "annotations").glob("*.yaml")):
        annotation = load_annotation(path)
        pairs.append((folder / annotation.document, annotation))
    return pairs


@dataclass(frozen=True)
class Score:
    document: str
    expected: frozenset[Pair]
    found: frozenset[Pair]

    @property
    def true_positives(self) -> frozenset[Pair]:
        return self.expected & self.found

    @property
    def false_positives(self) -> frozenset[Pair]:
        return self.found - self.expected

    @property
    def false_negatives(self) -> frozenset[Pair]:
        return self.expected - self.found

    @property
    def precision(self) -> float:
        return len(self.true_positives) / len(self.found) if self.found else 1.0

    @property
    def recall(self) -> float:
        return len(self.true_positives) / len(self.expected) if self.expected else 1.0


def score(document: str, annotation: Annotation, found: set[Pair]) -> Score:
    expected = frozenset(normalise((t.name, t.version)) for t in annotation.technologies)
    return Score(document, expected, frozenset(normalise(pair) for pair in found))


def overall(scores: list[Score]) -> tuple[float, float, int, int, int]:
    """Micro-averaged precision and recall, and the true/false positive and false negative
    counts, over all documents."""
    tp = sum(len(s.true_positives) for s in scores)
    fp = sum(len(s.false_positives) for s in scores)
    fn = sum(len(s.false_negatives) for s in scores)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn
