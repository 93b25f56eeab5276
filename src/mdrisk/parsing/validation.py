"""Validate a parsed data file against its pydantic schema, with located problems.

In: a :class:`SourceDocument` and the schema (a :class:`StrictModel`). Out: the validated
object, or an InputError with one Problem per error naming the field as the file spells it,
its line, and a fix. ``more_fixes`` lets a file format add advice for error types the common
ones do not cover; a validator may state its own fix as a message ending ``(fix: ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from mdrisk.errors import InputError, Problem
from mdrisk.parsing.source import SourceDocument

ExtraFix = Callable[[ErrorDetails], str]


class StrictModel(BaseModel):
    """Base of every data-file schema: unknown fields are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)


Schema = TypeVar("Schema", bound=BaseModel)

# Parts of a pydantic location that name a validator or a union branch, not a field.
_NOT_FIELDS = ("function-", "list[", "tagged-union")


def source_path(error: ErrorDetails) -> tuple[str | int, ...]:
    """The error's location as a path into the file (validator and union names left out)."""
    return tuple(
        part
        for part in error["loc"]
        if not (isinstance(part, str) and part.startswith(_NOT_FIELDS))
    )


def located_problem(
    error: ErrorDetails, source: SourceDocument, more_fixes: ExtraFix | None = None
) -> Problem:
    loc = source_path(error)
    message = error["msg"].removeprefix("Value error, ")
    fix = ""
    if error["type"] == "extra_forbidden":
        message, fix = f"unknown field '{loc[-1]}'", "remove it or check its spelling"
    elif error["type"] == "missing":
        message, fix = f"required field '{loc[-1]}' is missing", f"add '{loc[-1]}'"
    elif message.endswith(")") and " (fix: " in message:
        message, fix = message[:-1].split(" (fix: ", 1)
    elif more_fixes is not None:
        fix = more_fixes(error)
    return Problem(message, field=source.render_path(loc), line=source.line_of(loc), fix=fix)


def located_problems(
    exc: ValidationError, source: SourceDocument, more_fixes: ExtraFix | None = None
) -> list[Problem]:
    return [located_problem(error, source, more_fixes) for error in exc.errors(include_url=False)]


def validated(
    schema: type[Schema],
    source: SourceDocument,
    not_mapping: str,
    fix: str = "",
    more_fixes: ExtraFix | None = None,
) -> Schema:
    """``source.data`` as ``schema``; InputError with every located problem. ``not_mapping``
    (and ``fix``) is what to say when the file is not a mapping at all."""
    if not isinstance(source.data, dict):
        raise InputError(source.file, [Problem(not_mapping, line=source.line_of(()) or 1, fix=fix)])
    try:
        return schema.model_validate(source.data)
    except ValidationError as exc:
        raise InputError(source.file, located_problems(exc, source, more_fixes)) from None
