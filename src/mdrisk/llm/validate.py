"""Judging an answer: JSON of the task's shape, about the subject asked, citing only facts.

An answer is rejected, with every reason listed, when it is not one JSON object, when it does
not satisfy the task's pydantic model, when it is about another subject, or when it cites an
id that is not among the facts it was given: in its citation fields or in its prose (anything
shaped like a CVE, CWE, CAPEC, ATT&CK, ATLAS, technology-pack or assessment id). The reasons
are written to be fed back to the model on a retry and to be shown to the analyst.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from mdrisk.llm.bounded_json import TooDeep, loads_bounded
from mdrisk.llm.prompts import GroundedPrompt

# Ids a model could invent in prose: knowledge-base and assessment id shapes.
ID_SHAPED = re.compile(
    r"(?<![\w.-])(?:CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3}|CWE-\d+|CAPEC-\d+"
    r"|AML\.[A-Z]{1,3}\d{4}(?:\.\d{3})?|T\d{4}(?:\.\d{3})?|M\d{4}|TP-[A-Z0-9]+(?:-[A-Z0-9]+)*"
    r"|(?:LS|FDI|UCA|CA|CHK|TH|SC|H|L|R)-\d+)(?![\w-])",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)


@dataclass(frozen=True)
class Verdict:
    """``answer`` is set only when the answer is accepted."""

    answer: BaseModel | None
    problems: tuple[str, ...]
    unknown_ids: tuple[str, ...]
    cited_ids: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        return self.answer is not None


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def parse_json_object(content: str) -> dict[str, Any]:
    """The one JSON object in ``content`` (a Markdown code fence around it is tolerated).

    Raises ValueError with a reason fit to feed back to the model.
    """
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        # strict=False: llama.cpp grammars let raw control characters into strings; the
        # fields are validated for what they hold next, so tolerating them costs nothing.
        value = loads_bounded(text, object_pairs_hook=_no_duplicates, strict=False)
    except TooDeep as deep:
        raise ValueError(f"the answer is {deep}; answer with one flat JSON object") from None
    except _DuplicateKey as duplicate:
        raise ValueError(f"the JSON object has the key '{duplicate}' twice") from None
    except json.JSONDecodeError as error:
        raise ValueError(
            f"the answer is not valid JSON ({error.msg} at line {error.lineno} "
            f"column {error.colno}); answer with one JSON object only"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"the answer is JSON but a {type(value).__name__}, not an object")
    return value


def judge(prompt: GroundedPrompt, content: str) -> Verdict:
    """Accept or reject the model's ``content`` as an answer to ``prompt``."""
    try:
        data = parse_json_object(content)
    except ValueError as error:
        return Verdict(None, (str(error),), (), ())
    try:
        answer = prompt.task.answer_model.model_validate(data)
    except ValidationError as error:
        return Verdict(None, tuple(_schema_problems(error)), (), ())
    task = prompt.task
    problems: list[str] = []
    subject = task.answered_subject(answer)
    if subject is not None and subject != prompt.subject:
        problems.append(
            f"the answer is about '{subject}' but the question was about '{prompt.subject}'"
        )
    allowed = set(prompt.allowed_ids)
    cited = tuple(dict.fromkeys(task.cited_ids(answer)))
    unknown = [i for i in cited if i not in allowed]
    if unknown:
        problems.append(f"cites ids that are not among the facts: {', '.join(unknown)}")
    allowed_folded = {i.casefold() for i in allowed}
    in_prose = [m.group(0) for text in task.free_text(answer) for m in ID_SHAPED.finditer(text)]
    invented = [i for i in dict.fromkeys(in_prose) if i.casefold() not in allowed_folded]
    if invented:
        problems.append(
            f"the text mentions ids that are not among the facts: {', '.join(invented)}"
        )
    unknown_ids = tuple(dict.fromkeys(unknown + invented))
    if problems:
        return Verdict(None, tuple(problems), unknown_ids, cited)
    return Verdict(answer, (), (), cited)


def _schema_problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "the answer"
        problems.append(f"{where}: {item['msg']}")
    return problems
