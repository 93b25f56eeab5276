"""What every ``mdrisk`` subcommand shares: consoles, exit codes, error handling, progress,
model and format arguments, and writing a rendered package."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, cast

import click
from rich.console import Console

from mdrisk.errors import InputError, Problem

if TYPE_CHECKING:
    from rich.progress import TaskID

    from mdrisk.assessment import Assessment
    from mdrisk.decisions import LoadedDecisions

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

# What the glucose simulator needs (the ``sim`` extra).
SIM_MODULES = ("simglucose", "sklearn", "numpy")

# The knowledge-base option of the commands that analyse a model (``kb`` has its own).
store_option = click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Knowledge-base file for --kb (implies --kb; default: $MDRISK_HOME/kb.sqlite or "
    "~/.local/share/mdrisk/kb.sqlite, else the public-data snapshot bundled with mdrisk).",
)


def risk_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--answers`` and ``--policy``, the same on every command that rates risks."""
    function = click.option(
        "--policy",
        "policy_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="The manufacturer's risk policy (YAML): matrix, acceptability, how open rubric "
        "questions count, recommended controls and which of them the residual assumes "
        "[default: the built-in policy, data/risk-matrix.yaml].",
    )(function)
    return click.option(
        "--answers",
        "answers_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="The analyst's answers (YAML): rubric answers with justifications, "
        "severities, implemented mitigations.",
    )(function)


_LLM_OPTIONS = ("llm_base_url", "llm_model", "llm_kind", "llm_timeout", "llm_retries")


def llm_endpoint_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The LLM endpoint the prompt-injection probes run through: ``enrich``'s endpoint
    options under an ``--llm-`` prefix, over the same ``MDRISK_LLM_*`` variables. The command
    receives them as one ``llm_options`` mapping (see :func:`llm_endpoint_of`)."""
    from mdrisk.llm.config import ENDPOINT_KINDS

    options = [
        click.option(
            "--llm-base-url",
            default=None,
            metavar="URL",
            help="OpenAI-compatible endpoint of the device's language model, for the "
            "prompt-injection probes [env MDRISK_LLM_BASE_URL; none: not run]. The API key "
            "is read from MDRISK_LLM_API_KEY only.",
        ),
        click.option("--llm-model", default=None, help="Model name [env MDRISK_LLM_MODEL]."),
        click.option(
            "--llm-kind",
            type=click.Choice(ENDPOINT_KINDS),
            default=None,
            help="Endpoint kind [env MDRISK_LLM_KIND; default generic].",
        ),
        click.option(
            "--llm-timeout",
            type=click.FloatRange(0.1, 3600),
            default=None,
            help="Seconds to wait for one answer [env MDRISK_LLM_TIMEOUT; default 120].",
        ),
        click.option(
            "--llm-retries",
            type=click.IntRange(0, 10),
            default=None,
            help="Extra tries after a connection failure, 429 or 5xx "
            "[env MDRISK_LLM_RETRIES; default 2].",
        ),
    ]

    @functools.wraps(function)
    def gathered(*args: Any, **kwargs: Any) -> Any:
        kwargs["llm_options"] = {name: kwargs.pop(name) for name in _LLM_OPTIONS}
        return function(*args, **kwargs)

    wrapped: Callable[..., Any] = gathered
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


def llm_endpoint_of(llm_options: dict[str, Any]) -> Any:
    """The endpoint (``EndpointConfig``) from the ``--llm-`` options over the environment,
    or None when neither names one; a malformed value is a usage error."""
    from mdrisk.llm.config import endpoint_from
    from mdrisk.llm.errors import EndpointNotConfigured, LLMConfigError

    overrides = {name.removeprefix("llm_"): value for name, value in llm_options.items()}
    try:
        return endpoint_from(overrides)
    except EndpointNotConfigured:
        return None
    except LLMConfigError as error:
        raise click.UsageError(str(error)) from None


def risk_inputs_of(answers_file: Path | None, policy_file: Path | None) -> Any:
    """The risk stage's inputs with the user's answers and policy (None: the built-ins)."""
    if answers_file is None and policy_file is None:
        return None
    from mdrisk import bundled
    from mdrisk.risk.answers import load_answers
    from mdrisk.risk.matrix import load_matrix

    rubric = bundled.rubric()
    return bundled.risk_inputs(
        rubric,
        matrix=load_matrix(policy_file) if policy_file else None,
        answers=load_answers(answers_file, rubric.rubric) if answers_file else None,
    )


# A campaign's measured harm (``mdrisk campaign run --out DIR``) in place of the impact
# stage's findings on the classes it covers.
campaign_option = click.option(
    "--campaign",
    "campaign_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="A campaign's folder ('mdrisk campaign run --out'): its harm over patients and Monte "
    "Carlo days is the measured severity of the loss-scenario classes it covers (it must have "
    "been run on this model).",
)


# The analyst's decisions file, applied by every command that writes findings.
decisions_option = click.option(
    "--decisions",
    "decisions_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The analyst's decisions (YAML): a status (open, mitigated, accepted, not_affected, "
    "false_positive), justification, owner and date per finding id (R-, LS-, SC-, TH-, CVE). "
    "Decisions whose finding is gone are reported as stale.",
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


def _fail(message: str, status: int) -> None:
    err_console.print(message, markup=False)
    sys.exit(status)


def _could_not_finish(error: Exception) -> bool:
    """A PDF engine the run needs is not installed, or another process kept the knowledge
    base locked: the tool could not finish, through no fault of the input. (Imported here, on
    the error path, so that starting a command does not load the report writers.)"""
    from mdrisk.kb.store_errors import StoreBusy
    from mdrisk.report.interface import PdfEngineMissing

    return isinstance(error, (PdfEngineMissing, StoreBusy))


def _bad_store(error: Exception) -> str | None:
    """What to say when there is no knowledge base where ``--store`` points, or the file is
    not a usable one (SQLite itself is used only by the knowledge base: a page found damaged
    while reading a store too large for the check on opening ends up here)."""
    import sqlite3

    from mdrisk.kb.store_errors import StoreError

    if isinstance(error, StoreError):
        return str(error)
    if isinstance(error, sqlite3.DatabaseError):
        return (
            f"the knowledge base could not be read ({error}); rebuild it: move the file "
            "aside, then run 'mdrisk kb import FILES...' or 'mdrisk kb sync'"
        )
    return None


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
        except OSError as error:
            _fail(f"error: {error.filename or ''}: {error.strerror}", EXIT_FAILED)
        except Exception as error:  # the last line of defence: no traceback for a user
            if _could_not_finish(error):
                _fail(f"error: {error}", EXIT_FAILED)
            store_problem = _bad_store(error)
            if store_problem:
                _fail(f"error: {store_problem}", EXIT_BAD_INPUT)
            if os.environ.get("MDRISK_DEBUG"):
                raise
            _fail(
                f"internal error: {type(error).__name__}: {error} "
                "(set MDRISK_DEBUG=1 for the traceback and report it)",
                EXIT_FAILED,
            )

    return wrapper


class ProgressBar(Protocol):
    """What the commands use of rich's ``Progress``."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None: ...

    def add_task(
        self,
        description: str,
        start: bool = True,
        total: float | None = 100.0,
        completed: int = 0,
        visible: bool = True,
        **fields: Any,
    ) -> TaskID: ...

    def update(
        self,
        task_id: TaskID,
        *,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        visible: bool | None = None,
        refresh: bool = False,
        **fields: Any,
    ) -> None: ...

    def stop(self) -> None: ...


class _NoProgress:
    """The progress bar where stderr is not a terminal: rich would draw nothing there
    either, and rich.progress (15 ms of imports) is not loaded."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        return None

    def add_task(
        self,
        description: str,
        start: bool = True,
        total: float | None = 100.0,
        completed: int = 0,
        visible: bool = True,
        **fields: Any,
    ) -> TaskID:
        return cast("TaskID", 0)

    def update(
        self,
        task_id: TaskID,
        *,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        visible: bool | None = None,
        refresh: bool = False,
        **fields: Any,
    ) -> None:
        return None

    def stop(self) -> None:
        return None


def progress_bar() -> ProgressBar:
    if not err_console.is_terminal:
        return _NoProgress()
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def example_path(name: str) -> Path:
    """A built-in reference device model, by name (``bgms``) or file name."""
    stem = name.removesuffix(".yaml")
    resource = resources.files("mdrisk") / "examples" / f"{stem}.yaml"
    with resources.as_file(resource) as path:
        if not path.is_file():
            raise click.BadParameter(f"no built-in example '{name}'; see 'mdrisk examples'")
        return path


def model_path(model: str) -> Path:
    """A model file, or the name of a built-in example (``bgms``)."""
    path = Path(model)
    if path.exists() or path.suffix in (".yaml", ".yml", ".json"):
        return path
    return example_path(model)


def parse_formats(values: Iterable[str]) -> tuple[str, ...]:
    """Format names from repeated and comma-separated ``--format`` options."""
    from mdrisk.report.package import UnknownFormat, resolve_formats

    try:
        return resolve_formats(values)
    except UnknownFormat as unknown:
        raise click.BadParameter(str(unknown), param_hint="--format") from None


def missing_sim_modules() -> list[str]:
    return [name for name in SIM_MODULES if importlib.util.find_spec(name) is None]


def require_sim_extra() -> None:
    """Stop with the fix when the simulator's dependencies are missing."""
    missing = missing_sim_modules()
    if missing:
        raise click.ClickException(
            f"the glucose simulator needs {', '.join(missing)} (fix: pip install 'mdrisk[sim]')"
        )


ML_MODULES = ("art", "skops", "onnxruntime", "sklearn")


def require_ml_extra() -> None:
    """Stop with the fix when the ML-attack libraries are missing."""
    missing = [name for name in ML_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise click.ClickException(
            f"the ML attacks need {', '.join(missing)} (fix: pip install 'mdrisk[ml]')"
        )


def write_files(out_dir: Path, files: dict[str, bytes]) -> None:
    """The folder of a rendered package, replaced as a whole or not at all (see
    ``replace_folder``); InputError (exit 2) naming the folder when mdrisk will not replace it.
    """
    from mdrisk.atomic import OutputFolderError, replace_folder

    try:
        replace_folder(out_dir, files)
    except OutputFolderError as error:
        raise InputError(str(out_dir), [Problem(str(error))]) from None
    except NotADirectoryError:
        raise InputError(
            str(out_dir), [Problem("is a file, not a folder", fix="name a folder for the output")]
        ) from None


def print_notes(notes: Iterable[str]) -> None:
    for note in notes:
        err_console.print(f"note: {note}", markup=False)


def read_decisions(decisions_file: Path | None) -> LoadedDecisions | None:
    """The decisions file, read and checked before any analysis (InputError: exit 2)."""
    if decisions_file is None:
        return None
    from mdrisk.decisions import load_decisions

    return load_decisions(decisions_file)


def apply_decisions(assessment: Assessment, loaded: LoadedDecisions | None) -> Assessment:
    """The assessment with the decisions applied (unchanged without any); a warning on
    stderr for each decision whose finding this assessment does not have."""
    if loaded is None:
        return assessment
    from mdrisk.decisions import stale_decisions, with_decisions
    from mdrisk.decisions.apply import stale_message

    decided = with_decisions(assessment, loaded)
    stale = stale_decisions(decided)
    total = len(decided.decisions.entries) if decided.decisions else 0
    err_console.print(
        f"note: decisions: {total} from {loaded.file}, {total - len(stale)} applied, "
        f"{len(stale)} stale",
        markup=False,
    )
    for entry in stale:
        err_console.print(
            f"warning: {loaded.file}: decisions.{entry.key}: stale decision "
            f"({entry.status}, {entry.date}): {stale_message(entry, decided)}; review it",
            markup=False,
        )
    return decided
