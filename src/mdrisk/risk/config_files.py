"""Reading the risk stage's YAML files (rubric, matrix, answers) with located errors.

Each file is parsed with the device model's reader (line of every value, no anchors, size
limit) and validated by a pydantic schema; every problem names the file, the field path and
its line, and says what to do. Built-in files are read once by ``mdrisk.bundled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdrisk.errors import Problem
from mdrisk.model.loader import schema_fix
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import Schema, validated


@dataclass(frozen=True)
class ConfigSource:
    """Where a configuration came from: a label for provenance and its text's hash."""

    label: str
    sha256: str


def read_document(path: Path | str) -> SourceDocument:
    """The user's file at ``path`` (built-in files come from ``mdrisk.bundled``)."""
    return parse_document(read_text(Path(path)), str(path))


def validate(schema: type[Schema], source: SourceDocument, what: str) -> Schema:
    """The document as ``schema``, or InputError naming every located problem."""
    return validated(
        schema,
        source,
        f"the {what} must be a mapping of keys to values",
        fix="start the file with the keys shown in the documentation",
        more_fixes=schema_fix,
    )


def problem(source: SourceDocument, path: tuple[str | int, ...], message: str, fix: str) -> Problem:
    return Problem(message, field=source.render_path(path), line=source.line_of(path), fix=fix)


def yes_no(value: Any) -> Any:
    """YAML 1.1 reads a bare yes/no/on/off as a boolean; answers are words."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value
