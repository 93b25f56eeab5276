"""What every ``mdrisk`` subcommand shares: consoles, exit codes, error handling, progress."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mdrisk.errors import InputError
from mdrisk.report.pdf import PdfEngineMissing

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


def _fail(message: str, status: int) -> None:
    err_console.print(message, markup=False)
    sys.exit(status)


def guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn known errors into messages and exit codes instead of tracebacks."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except InputError as error:
            _fail(f"error: {len(error.problems)} problem(s) in the input\n{error}", EXIT_BAD_INPUT)
        except PdfEngineMissing as error:
            _fail(f"error: {error}", EXIT_FAILED)
        except OSError as error:
            _fail(f"error: {error.filename or ''}: {error.strerror}", EXIT_FAILED)
        except Exception as error:  # the last line of defence: no traceback for a user
            if os.environ.get("MDRISK_DEBUG"):
                raise
            _fail(
                f"internal error: {type(error).__name__}: {error} "
                "(set MDRISK_DEBUG=1 for the traceback and report it)",
                EXIT_FAILED,
            )

    return wrapper


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
