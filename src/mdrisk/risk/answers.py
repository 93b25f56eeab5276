"""The analyst's answers file: rubric answers, severities and implemented mitigations.

    schema_version: 1
    answers:                 # for every target
      C-PHI-2: {answer: no, justification: Each sensor, pump and phone serves one patient.}
    targets:                 # for the risks entering at one element (or of one threat TH-n)
      cloud_platform:
        C-PHI-2: {answer: yes, justification: The cloud holds every user's data.}
    severity:                # where neither the impact stage nor the model's losses say
      bg_meter: {level: serious, justification: A false meter reading can set a dose.}
    mitigations:             # catalogue mitigations in place (credited in the residual risk)
      M0802: {implemented: true, justification: Pump commands carry an authenticated MAC.}

Every answer needs a justification. Question ids and answers are checked against the rubric
when the file is read; target, severity and mitigation keys against the assessment when it
is scored (:func:`check_keys`), so a misspelt id is an error rather than a silent no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from mdrisk.errors import InputError, Problem
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import StrictModel
from mdrisk.risk.config_files import ConfigSource, problem, validate, yes_no
from mdrisk.risk.rubric import QUESTION_ID, AnalystLookup, GivenAnswer, Rubric

Text = Annotated[str, Field(min_length=1, max_length=4000)]
QuestionId = Annotated[str, Field(pattern=QUESTION_ID)]
Key = Annotated[str, Field(min_length=1, max_length=200)]


class AnswerEntry(StrictModel):
    answer: Annotated[str, Field(min_length=1, max_length=80)]
    justification: Text


class SeverityEntry(StrictModel):
    level: Literal["negligible", "minor", "serious", "critical", "catastrophic"]
    justification: Text


class MitigationEntry(StrictModel):
    implemented: bool
    justification: Text


class AnswersFile(StrictModel):
    schema_version: Literal[1] = 1
    answers: dict[QuestionId, AnswerEntry] = Field(default_factory=dict)
    targets: dict[Key, dict[QuestionId, AnswerEntry]] = Field(default_factory=dict)
    severity: dict[Key, SeverityEntry] = Field(default_factory=dict)
    mitigations: dict[Key, MitigationEntry] = Field(default_factory=dict)


@dataclass(frozen=True)
class LoadedAnswers:
    answers: AnswersFile
    file: str
    source: ConfigSource
    document: SourceDocument | None = None

    def lookup(self, keys: Iterable[str]) -> AnalystLookup:
        """The analyst lookup for a target addressed by ``keys`` (most specific first)."""
        keys = list(keys)

        def analyst(question_id: str) -> tuple[GivenAnswer | None, GivenAnswer | None]:
            specific = None
            for key in keys:
                entry = self.answers.targets.get(key, {}).get(question_id)
                if entry is not None:
                    specific = GivenAnswer(
                        entry.answer,
                        entry.justification,
                        f"{self.file}: targets.{key}.{question_id}",
                    )
                    break
            general_entry = self.answers.answers.get(question_id)
            general = (
                None
                if general_entry is None
                else GivenAnswer(
                    general_entry.answer,
                    general_entry.justification,
                    f"{self.file}: answers.{question_id}",
                )
            )
            return specific, general

        return analyst

    def severity_for(self, keys: Iterable[str]) -> tuple[str, SeverityEntry] | None:
        for key in keys:
            if key in self.answers.severity:
                return key, self.answers.severity[key]
        return None

    def implemented(self, mitigation: str) -> MitigationEntry | None:
        entry = self.answers.mitigations.get(mitigation)
        return entry if entry is not None and entry.implemented else None


NO_ANSWERS = LoadedAnswers(AnswersFile(), "(no answers file)", ConfigSource("answers/none", ""))


def _normalised(data: object) -> object:
    if not isinstance(data, dict):
        return data
    entries = []
    if isinstance(data.get("answers"), dict):
        entries += data["answers"].values()
    if isinstance(data.get("targets"), dict):
        for per_target in data["targets"].values():
            if isinstance(per_target, dict):
                entries += per_target.values()
    for entry in entries:
        if isinstance(entry, dict) and "answer" in entry:
            entry["answer"] = yes_no(entry["answer"])
    return data


def _rubric_problems(answers: AnswersFile, rubric: Rubric, source: SourceDocument) -> list[Problem]:
    problems = []
    places: list[tuple[tuple[str | int, ...], str, AnswerEntry]] = [
        (("answers", q_id), q_id, entry) for q_id, entry in answers.answers.items()
    ]
    places += [
        (("targets", key, q_id), q_id, entry)
        for key, given in answers.targets.items()
        for q_id, entry in given.items()
    ]
    for path, q_id, entry in places:
        question = rubric.questions.get(q_id)
        if question is None:
            problems.append(
                problem(
                    source,
                    path,
                    f"no rubric question '{q_id}'",
                    "use a question id of the rubric (AV-1, I-TX-2, ...)",
                )
            )
        elif entry.answer not in question.answers:
            problems.append(
                problem(
                    source,
                    path + ("answer",),
                    f"'{entry.answer}' is not an answer to {q_id}",
                    f"answer one of {', '.join(question.answers)}",
                )
            )
    return problems


def answers_from_text(text: str, file: str, rubric: Rubric) -> LoadedAnswers:
    source = parse_document(text, file)
    _normalised(source.data)
    answers = validate(AnswersFile, source, "answers file")
    problems = _rubric_problems(answers, rubric, source)
    if problems:
        raise InputError(file, problems)
    return LoadedAnswers(
        answers, file, ConfigSource(f"answers/{Path(file).name}", source.sha256), source
    )


def load_answers(path: Path | str, rubric: Rubric) -> LoadedAnswers:
    """Read and check an answers file against the rubric."""
    return answers_from_text(read_text(Path(path)), str(path), rubric)


def check_keys(loaded: LoadedAnswers, known_targets: set[str], known_mitigations: set[str]) -> None:
    """Refuse target, severity and mitigation keys that name nothing in the assessment."""
    if loaded.document is None:
        return
    problems = []
    sections = ["targets", "severity"]
    if known_mitigations:
        # Without --kb no risk has catalogue mitigations, so there is nothing to check them
        # against (and nothing they could lower).
        sections.append("mitigations")
    for section in sections:
        known = known_mitigations if section == "mitigations" else known_targets
        for key in getattr(loaded.answers, section):
            if key in known:
                continue
            if section == "mitigations":
                message = f"no risk lists the mitigation '{key}'"
                fix = "use a mitigation id listed among the risks' controls"
            else:
                message = f"no risk entering at '{key}', and no threat with that id"
                fix = "key it by the element a risk enters at (its 'element') or a threat id"
            problems.append(problem(loaded.document, (section, key), message, fix))
    if problems:
        raise InputError(loaded.file, problems)
