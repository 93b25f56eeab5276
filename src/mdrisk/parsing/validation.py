"""Turn a pydantic validation error into located problems, for every YAML data file.

In: the error pydantic raised and the source document it validated. Out: one Problem per
error, naming the field as the file spells it, its line, and a fix. ``more_fixes`` lets a file
format add its own advice for error types the common ones do not cover.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from mdrisk.errors import Problem
from mdrisk.parsing.source import SourceDocument

ExtraFix = Callable[[dict[str, Any]], str]


def located_problem(
    error: dict[str, Any], source: SourceDocument, more_fixes: ExtraFix | None = None
) -> Problem:
    loc = tuple(
        part
        for part in error["loc"]
        if not (isinstance(part, str) and part.startswith(("function-", "list[")))
    )
    message = error["msg"].removeprefix("Value error, ")
    fix = ""
    if error["type"] == "extra_forbidden":
        message, fix = f"unknown field '{loc[-1]}'", "remove it or check its spelling"
    elif error["type"] == "missing":
        message, fix = f"required field '{loc[-1]}' is missing", f"add '{loc[-1]}'"
    elif more_fixes is not None:
        fix = more_fixes(error)
    return Problem(message, field=source.render_path(loc), line=source.line_of(loc), fix=fix)


def located_problems(
    exc: ValidationError, source: SourceDocument, more_fixes: ExtraFix | None = None
) -> list[Problem]:
    return [located_problem(error, source, more_fixes) for error in exc.errors(include_url=False)]
