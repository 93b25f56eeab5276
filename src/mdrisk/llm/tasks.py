"""What the LLM may be asked to write, one output schema per task.

Each task has a pydantic model that the parsed answer must satisfy, and a JSON schema sent to
the endpoint so that servers with constrained decoding (llama.cpp grammars, vLLM, OpenAI
structured outputs) can only produce answers of that shape. The schema lists the ids the
answer may cite as an enumeration: the endpoint's grammar then keeps a well-behaved model
inside the facts, and the validator (``validate``) checks again whatever the endpoint did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mdrisk.llm.client import OutputSchema

NARRATIVE_MIN, NARRATIVE_MAX = 40, 1500
MAX_CITED = 12


# Prose: starts with a capital letter, no markup, code, quotes or line breaks. Sent in the
# schema too, where a grammar keeps a small model from filling the field with brackets.
PROSE_PATTERN = r"^[A-Z][^\"\\<>{}\[\]\n\r\t]*$"
_WORD = re.compile(r"[A-Za-z]{2,}")
MIN_WORDS = 8


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _prose(text: str) -> str:
    if not re.fullmatch(PROSE_PATTERN, text):
        raise ValueError(
            "must be plain sentences: start with a capital letter, no quotes, "
            "brackets, markup or line breaks"
        )
    if len(_WORD.findall(text)) < MIN_WORDS:
        raise ValueError(f"must be sentences of at least {MIN_WORDS} words")
    return text


class ScenarioNarrative(_Answer):
    scenario_id: str
    narrative: Annotated[str, Field(min_length=NARRATIVE_MIN, max_length=NARRATIVE_MAX)]
    cited_ids: Annotated[list[str], Field(min_length=1, max_length=MAX_CITED)]

    _narrative_is_prose = field_validator("narrative")(_prose)


class ReviewQuestion(_Answer):
    element_ids: Annotated[list[str], Field(min_length=1, max_length=6)]
    question: Annotated[str, Field(min_length=10, max_length=400)]


class ModelDraftReview(_Answer):
    summary: Annotated[str, Field(min_length=20, max_length=800)]
    questions: Annotated[list[ReviewQuestion], Field(min_length=1, max_length=8)]


@dataclass(frozen=True)
class Task:
    """A kind of text the LLM drafts: what to ask, and the shape the answer must have."""

    name: str
    answer_model: type[_Answer]
    instructions: str
    # The answer's shape in a line, for endpoints that cannot be given the schema itself.
    shape: str

    def output_schema(self, subject: str, citable_ids: Sequence[str]) -> OutputSchema:
        return OutputSchema(self.name, _SCHEMAS[self.name](subject, list(citable_ids)))

    def cited_ids(self, answer: BaseModel) -> list[str]:
        if isinstance(answer, ScenarioNarrative):
            return list(answer.cited_ids)
        if isinstance(answer, ModelDraftReview):
            return [i for question in answer.questions for i in question.element_ids]
        raise TypeError(f"not an answer of task {self.name}")

    def free_text(self, answer: BaseModel) -> list[str]:
        """The prose of an answer, where ids must not be invented either."""
        if isinstance(answer, ScenarioNarrative):
            return [answer.narrative]
        if isinstance(answer, ModelDraftReview):
            return [answer.summary, *(question.question for question in answer.questions)]
        raise TypeError(f"not an answer of task {self.name}")

    def answered_subject(self, answer: BaseModel) -> str | None:
        return answer.scenario_id if isinstance(answer, ScenarioNarrative) else None


def _ids(citable: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": citable} if citable else {"type": "string"}


def _narrative_schema(subject: str, citable: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "scenario_id": {"type": "string", "enum": [subject]},
            "narrative": {"type": "string", "minLength": NARRATIVE_MIN, "pattern": PROSE_PATTERN},
            "cited_ids": {
                "type": "array",
                "items": _ids(citable),
                "minItems": 1,
                "maxItems": MAX_CITED,
            },
        },
        "required": ["scenario_id", "narrative", "cited_ids"],
        "additionalProperties": False,
    }


def _review_schema(subject: str, citable: list[str]) -> dict[str, Any]:
    question = {
        "type": "object",
        "properties": {
            "element_ids": {"type": "array", "items": _ids(citable), "minItems": 1, "maxItems": 6},
            "question": {"type": "string", "minLength": 10},
        },
        "required": ["element_ids", "question"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "minLength": 20},
            "questions": {"type": "array", "items": question, "minItems": 1, "maxItems": 8},
        },
        "required": ["summary", "questions"],
        "additionalProperties": False,
    }


# Lengths are capped by pydantic, not in the schema: a maximum length becomes thousands of
# nested grammar rules in llama.cpp, and max_tokens bounds the answer anyway.
_SCHEMAS = {"scenario_narrative": _narrative_schema, "model_draft_review": _review_schema}

SCENARIO_NARRATIVE = Task(
    name="scenario_narrative",
    answer_model=ScenarioNarrative,
    instructions=(
        "Write a short narrative (three to six sentences) for a security analyst that explains "
        "scenario {subject}: where the attacker acts and how false data reaches the ML "
        "engine, what the engine then gets wrong, which unsafe control action follows, and "
        "which hazard and loss it leads to. Use only the facts. Put every id you rely on in "
        "cited_ids. Do not invent vulnerabilities, techniques, components or ids."
    ),
    shape='{"scenario_id": "{subject}", "narrative": "...", "cited_ids": ["...", "..."]}',
)

MODEL_DRAFT_REVIEW = Task(
    name="model_draft_review",
    answer_model=ModelDraftReview,
    instructions=(
        "Review this device model as a premarket cybersecurity reviewer would. Ask at most "
        "eight questions the analyst should answer to confirm the model is complete and "
        "correct: missing links or feedback, unprotected channels that reach an ML engine, "
        "technologies without versions. Each question lists the ids of the elements it is "
        "about in element_ids. Start with a one-sentence summary."
    ),
    shape='{"summary": "...", "questions": [{"element_ids": ["..."], "question": "..."}]}',
)

TASKS: dict[str, Task] = {task.name: task for task in (SCENARIO_NARRATIVE, MODEL_DRAFT_REVIEW)}
