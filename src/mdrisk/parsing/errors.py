"""The located refusal every reader raises for a file it cannot accept."""

from __future__ import annotations

from pathlib import Path

from mdrisk.errors import InputError, Problem


def refuse(
    path: Path | str, message: str, record: str = "", fix: str = "", line: int | None = None
) -> InputError:
    """The error a reader raises: file, record (as the field), message, fix."""
    return InputError(str(path), [Problem(message, field=record, line=line, fix=fix)])
