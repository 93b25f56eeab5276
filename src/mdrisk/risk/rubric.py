"""The medical-device CVSS rubric as data, and the engine that walks it for one target.

``rubric_from_document`` checks ``data/medical-cvss-rubric.yaml`` (read by ``mdrisk.bundled``)
or a user's file of the same shape (``load_rubric``): every flow reaches a metric value, no question loops, every model rule exists.
``evaluate`` walks each metric's flows for one target. Each question is answered, in order,
by the analyst for this target, by the device model (the question's ``derive`` rule), by the
analyst for every target, or else by its stated worst case, which is then listed as open.
Out: the CVSS 3.x vector, one :class:`MetricDecision` per metric with the steps that set it,
the CVSS 4.0 metrics the answers chose, and the open questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from mdrisk.assessment.risk import ContextMetric, MetricDecision, RubricStep
from mdrisk.errors import InputError, Problem
from mdrisk.parsing.source import SourceDocument, parse_document
from mdrisk.parsing.validation import StrictModel
from mdrisk.risk.config_files import ConfigSource, problem, read_document, validate, yes_no
from mdrisk.risk.derive import RULES, Facts

QUESTION_ID = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
METRIC_VALUES = {
    "AV": {"N", "A", "L", "P"},
    "AC": {"L", "H"},
    "PR": {"N", "L", "H"},
    "UI": {"N", "R"},
    "S": {"U", "C"},
    "C": {"N", "L", "H"},
    "I": {"N", "L", "H"},
    "A": {"N", "L", "H"},
}
METRIC_ORDER = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
# CVSS 4.0 metrics an answer may set, with their allowed values.
CVSS4_VALUES = {
    "AC": {"L", "H"},
    "AT": {"N", "P"},
    "UI": {"N", "P", "A"},
    "MSI": {"N", "L", "H", "S"},
    "MSA": {"N", "L", "H", "S"},
    "MVI": {"N", "L", "H"},
    "MVA": {"N", "L", "H"},
    "MVC": {"N", "L", "H"},
}
QuestionId = Annotated[str, Field(pattern=QUESTION_ID)]


class Outcome(StrictModel):
    value: str | None = None
    next: QuestionId | None = None
    cvss4: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of(self) -> Outcome:
        if (self.value is None) == (self.next is None):
            raise ValueError(
                "an answer leads to a metric value or to the next question "
                "(fix: give exactly one of value: and next:)"
            )
        return self


class Question(StrictModel):
    text: Annotated[str, Field(min_length=1)]
    guidance: str = ""
    rubric_ref: str | None = None
    derive: str | None = None
    worst_case: Annotated[str, Field(min_length=1)]
    answers: dict[Annotated[str, Field(min_length=1)], Outcome] = Field(min_length=2)


class Flow(StrictModel):
    category: Annotated[str, Field(min_length=1)]
    start: QuestionId
    applies_when: list[str] = Field(default_factory=list)


class Metric(StrictModel):
    metric: Literal["AV", "AC", "PR", "UI", "S", "C", "I", "A"]
    name: Annotated[str, Field(min_length=1)]
    order: list[str] = Field(min_length=2)
    flows: list[Flow] = Field(min_length=1)


class Rubric(StrictModel):
    schema_version: Literal[1]
    name: Annotated[str, Field(min_length=1)]
    cvss_version: Literal["3.0", "3.1"]
    based_on: str = ""
    metrics: list[Metric] = Field(min_length=8, max_length=8)
    questions: dict[QuestionId, Question] = Field(min_length=1)

    def metric(self, abbreviation: str) -> Metric:
        return next(m for m in self.metrics if m.metric == abbreviation)


@dataclass(frozen=True)
class LoadedRubric:
    rubric: Rubric
    source: ConfigSource


def _word(key: Any) -> Any:
    # The line-keeping reader turns a boolean key into the text "True" or "False".
    return {"True": "yes", "False": "no"}.get(key, key) if isinstance(key, str) else yes_no(key)


def _normalised(data: Any) -> Any:
    """Answer keys and worst cases written as bare yes/no (read as booleans) made words."""
    questions = data.get("questions") if isinstance(data, dict) else None
    if isinstance(questions, dict):
        for question in questions.values():
            if not isinstance(question, dict):
                continue
            question["worst_case"] = yes_no(question.get("worst_case"))
            answers = question.get("answers")
            if isinstance(answers, dict):
                question["answers"] = {_word(key): value for key, value in answers.items()}
    return data


def _cross_problems(rubric: Rubric, source: SourceDocument) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: tuple[str | int, ...], message: str, fix: str) -> None:
        problems.append(problem(source, path, message, fix))

    seen = [m.metric for m in rubric.metrics]
    if tuple(seen) != METRIC_ORDER:
        add(
            ("metrics",),
            f"the metrics must be {', '.join(METRIC_ORDER)} in that order, found {', '.join(seen)}",
            "list each CVSS 3.x base metric once, in vector order",
        )
    owner: dict[str, str] = {}
    for m_index, metric in enumerate(rubric.metrics):
        allowed = METRIC_VALUES[metric.metric]
        if set(metric.order) != allowed or len(metric.order) != len(allowed):
            add(
                ("metrics", m_index, "order"),
                f"order must list each of {', '.join(sorted(allowed))} once",
                "list the metric's values from the least to the most severe",
            )
        for f_index, flow in enumerate(metric.flows):
            where: tuple[str | int, ...] = ("metrics", m_index, "flows", f_index, "start")
            if flow.start not in rubric.questions:
                add(where, f"no question '{flow.start}'", "name a question under questions:")
                continue
            _walk(rubric, metric.metric, flow.start, allowed, owner, where, add, [])
    for q_id, question in rubric.questions.items():
        where = ("questions", q_id)
        if q_id not in owner:
            add(
                where,
                "no flow reaches this question",
                "start a flow at it, lead an answer to it, or remove it",
            )
        if question.worst_case not in question.answers:
            add(
                where + ("worst_case",),
                f"'{question.worst_case}' is not one of its answers "
                f"({', '.join(question.answers)})",
                "name one of the question's answers",
            )
        if question.derive is not None and question.derive not in RULES:
            add(
                where + ("derive",),
                f"no model rule '{question.derive}'",
                f"use one of {', '.join(sorted(RULES))} or remove derive:",
            )
        for answer, outcome in question.answers.items():
            for key, value in outcome.cvss4.items():
                if key not in CVSS4_VALUES or value not in CVSS4_VALUES[key]:
                    add(
                        where + ("answers", answer, "cvss4", key),
                        f"'{key}:{value}' is not a CVSS 4.0 metric an answer may set",
                        f"use one of {', '.join(sorted(CVSS4_VALUES))} with a valid value",
                    )
    return problems


def _walk(
    rubric: Rubric,
    metric: str,
    q_id: str,
    allowed: set[str],
    owner: dict[str, str],
    where: tuple[str | int, ...],
    add: Callable[..., None],
    trail: list[str],
) -> None:
    if q_id in trail:
        add(
            where,
            f"the questions loop: {' -> '.join(trail + [q_id])}",
            "make every chain of answers end in a value",
        )
        return
    if owner.setdefault(q_id, metric) != metric:
        add(
            ("questions", q_id),
            f"the question is used by both {owner[q_id]} and {metric}",
            "give each metric its own questions",
        )
        return
    question = rubric.questions[q_id]
    for answer, outcome in question.answers.items():
        here = ("questions", q_id, "answers", answer)
        if outcome.value is not None and outcome.value not in allowed:
            add(
                here + ("value",),
                f"'{outcome.value}' is not a value of {metric}",
                f"use one of {', '.join(sorted(allowed))}",
            )
        if outcome.next is not None:
            if outcome.next not in rubric.questions:
                add(
                    here + ("next",),
                    f"no question '{outcome.next}'",
                    "name a question under questions:",
                )
            else:
                _walk(
                    rubric,
                    metric,
                    outcome.next,
                    allowed,
                    owner,
                    here + ("next",),
                    add,
                    trail + [q_id],
                )


def rubric_from_text(text: str, file: str) -> Rubric:
    return rubric_from_document(parse_document(text, file))


def rubric_from_document(source: SourceDocument) -> Rubric:
    if isinstance(source.data, dict):
        _normalised(source.data)
    rubric = validate(Rubric, source, "rubric")
    problems = _cross_problems(rubric, source)
    if problems:
        raise InputError(source.file, problems)
    return rubric


def load_rubric(path: Path | str) -> LoadedRubric:
    """The user's rubric at ``path`` (the built-in one comes from ``mdrisk.bundled``)."""
    return loaded_rubric(read_document(path), Path(path).name)


def loaded_rubric(source: SourceDocument, name: str) -> LoadedRubric:
    """The rubric of a parsed document; ``name`` labels it in the provenance."""
    return LoadedRubric(rubric_from_document(source), ConfigSource(f"rubric/{name}", source.sha256))


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GivenAnswer:
    answer: str
    justification: str
    where: str  # "answers file, targets.cgm_to_app" or "answers file, answers"


# (question id, target) -> the analyst's answer for this target, and for every target.
AnalystLookup = Callable[[str], tuple[GivenAnswer | None, GivenAnswer | None]]


@dataclass
class RubricResult:
    vector: str
    decisions: list[MetricDecision]
    cvss4_base: dict[str, str] = field(default_factory=dict)
    cvss4_context: list[ContextMetric] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)


# How a question nobody answered is taken: at its stated worst case, or at the answer that
# leads to the least severe value of its metric (the other end of the range).
Unanswered = Literal["worst", "best"]


def _answer(
    question_id: str, question: Question, facts: Facts, analyst: AnalystLookup
) -> RubricStep:
    specific, general = analyst(question_id)
    derived = RULES[question.derive](facts) if question.derive else None
    text = " ".join(question.text.split())
    if specific is not None:
        reason = specific.justification
        if derived is not None and derived[0] != specific.answer:
            reason += f" (overrides the model's '{derived[0]}': {derived[1]})"
        return RubricStep(
            question=question_id,
            text=text,
            answer=specific.answer,
            source="analyst",
            reason=f"{reason} [{specific.where}]",
        )
    if derived is not None:
        return RubricStep(
            question=question_id, text=text, answer=derived[0], source="model", reason=derived[1]
        )
    if general is not None:
        return RubricStep(
            question=question_id,
            text=text,
            answer=general.answer,
            source="analyst",
            reason=f"{general.justification} [{general.where}]",
        )
    return RubricStep(
        question=question_id,
        text=text,
        answer=question.worst_case,
        source="worst_case",
        reason="not answered by the model or the analyst: worst case assumed",
    )


def _least_severe(
    rubric: Rubric, order: list[str], q_id: str, facts: Facts, analyst: AnalystLookup
) -> str:
    """The answer to an unanswered question that ends its flow at the least severe value."""
    question = rubric.questions[q_id]

    def value_of(q: str, answer: str, seen: frozenset[str]) -> int:
        outcome = rubric.questions[q].answers[answer]
        if outcome.value is not None:
            return order.index(outcome.value)
        nxt = outcome.next
        if nxt is None or nxt in seen:  # a checked rubric has no loops; be safe anyway
            return len(order)
        step = _answer(nxt, rubric.questions[nxt], facts, analyst)
        if step.source == "worst_case":
            return min(value_of(nxt, a, seen | {nxt}) for a in rubric.questions[nxt].answers)
        return value_of(nxt, step.answer, seen | {nxt})

    return min(question.answers, key=lambda a: (value_of(q_id, a, frozenset({q_id})), a))


def _walk_flow(
    rubric: Rubric,
    flow: Flow,
    facts: Facts,
    analyst: AnalystLookup,
    result: RubricResult,
    order: list[str],
    unanswered: Unanswered,
) -> tuple[str, list[RubricStep]]:
    steps: list[RubricStep] = []
    q_id: str | None = flow.start
    while q_id is not None:
        question = rubric.questions[q_id]
        step = _answer(q_id, question, facts, analyst)
        if step.source == "worst_case" and unanswered == "best":
            best = _least_severe(rubric, order, q_id, facts, analyst)
            step = step.model_copy(
                update={
                    "answer": best,
                    "source": "best_case",
                    "reason": "not answered by the model or the analyst: best case assumed "
                    "(the other end of the range)",
                }
            )
        steps.append(step)
        if step.source == "worst_case":
            result.open_questions.append(
                f"{q_id}: {step.text} (worst case '{step.answer}' assumed)"
            )
        elif step.source == "best_case":
            result.open_questions.append(f"{q_id}: {step.text} (best case '{step.answer}')")
        outcome = question.answers[step.answer]
        for key, value in sorted(outcome.cvss4.items()):
            if key in ("AC", "AT", "UI"):
                result.cvss4_base[key] = value
            elif key not in {c.metric for c in result.cvss4_context}:
                result.cvss4_context.append(
                    ContextMetric(
                        metric=key,
                        value=value,
                        reason=f"{q_id} answered '{step.answer}' ({step.source}): {step.text}",
                    )
                )
        if outcome.value is not None:
            return outcome.value, steps
        q_id = outcome.next
    raise AssertionError("a checked rubric always ends in a value")  # pragma: no cover


def evaluate(
    loaded: Rubric, facts: Facts, analyst: AnalystLookup, unanswered: Unanswered = "worst"
) -> RubricResult:
    """Walk every metric's flows for one target; questions nobody answered are taken at
    ``unanswered`` (their worst case, or the answer leading to the least severe value)."""
    result = RubricResult(vector="", decisions=[])
    values: list[str] = []
    data_use = facts.device.data_use
    for metric in loaded.metrics:
        best: str | None = None
        steps: list[RubricStep] = []
        categories: list[str] = []
        many = len(metric.flows) > 1
        for flow in metric.flows:
            if flow.applies_when and not data_use & {w.lower() for w in flow.applies_when}:
                if many:
                    categories.append(
                        f"{flow.category}: not assessed (device.data_use lists "
                        f"none of {', '.join(flow.applies_when)})"
                    )
                continue
            value, walked = _walk_flow(
                loaded, flow, facts, analyst, result, metric.order, unanswered
            )
            steps += walked
            if many:
                categories.append(f"{flow.category}: {value}")
            if best is None or metric.order.index(value) > metric.order.index(best):
                best = value
        if best is None:
            best = metric.order[-1]
            categories.append(f"no category applies to this device: worst case {best}")
            result.open_questions.append(
                f"{metric.metric}: device.data_use names none of the kinds of data this "
                f"metric asks about (worst case {best} assumed)"
            )
        values.append(f"{metric.metric}:{best}")
        result.decisions.append(
            MetricDecision(
                metric=metric.metric,
                name=metric.name,
                value=best,
                steps=steps,
                categories=categories,
            )
        )
    result.vector = f"CVSS:{loaded.cvss_version}/" + "/".join(values)
    return result
