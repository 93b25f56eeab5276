"""Reading the risk stage's YAML files (rubric, matrix, answers) with located errors.

Each file is parsed with the device model's reader (line of every value, no anchors, size
limit) and validated by a pydantic schema; every problem names the file, the field path and
its line, and says what to do. Built-in files are package resources read the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mdrisk.errors import InputError, Problem
from mdrisk.model.loader import _schema_problems
from mdrisk.parsing.source import SourceDocument, parse_document, read_text

Schema = TypeVar("Schema", bound=BaseModel)


@dataclass(frozen=True)
class ConfigSource:
    """Where a configuration came from: a label for provenance and its text's hash."""

    label: str
    sha256: str


def read_document(path: Path | str | None, resource: str) -> SourceDocument:
    """The file at ``path``, else the built-in ``mdrisk/data/<resource>``."""
    if path is None:
        text = resources.files("mdrisk").joinpath("data", resource).read_text("utf-8")
        document = parse_document(text, f"<built-in {resource}>")
    else:
        document = parse_document(read_text(Path(path)), str(path))
    if not document.sha256:
        document.sha256 = hashlib.sha256(str(document.data).encode()).hexdigest()
    return document


def validate(schema: type[Schema], source: SourceDocument, what: str) -> Schema:
    """The document as ``schema``, or InputError naming every located problem."""
    if not isinstance(source.data, dict):
        raise InputError(
            source.file,
            [
                Problem(
                    f"the {what} must be a mapping of keys to values",
                    line=source.line_of(()) or 1,
                    fix="start the file with the keys shown in the documentation",
                )
            ],
        )
    try:
        return schema.model_validate(source.data)
    except ValidationError as exc:
        raise InputError(source.file, _schema_problems(exc, source)) from None


def problem(source: SourceDocument, path: tuple[str | int, ...], message: str, fix: str) -> Problem:
    return Problem(message, field=source.render_path(path), line=source.line_of(path), fix=fix)


def yes_no(value: Any) -> Any:
    """YAML 1.1 reads a bare yes/no/on/off as a boolean; answers are words."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value
