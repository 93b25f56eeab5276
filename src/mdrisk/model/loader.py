"""Load a device model from YAML or JSON, or refuse it with located, actionable problems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from mdrisk.errors import InputError, Problem
from mdrisk.model.integrity import structural_problems
from mdrisk.model.sbom import with_sbom_technologies
from mdrisk.model.schema import ComponentKind, DeviceModel, LinkKind
from mdrisk.parsing.source import SourceDocument, parse_document, read_text
from mdrisk.parsing.validation import located_problem, source_path

_ENUM_CHOICES = {
    "kind": f"{', '.join(k.value for k in ComponentKind)} (components) or "
    f"{', '.join(k.value for k in LinkKind)} (links)",
}


@dataclass(frozen=True)
class LoadedModel:
    """A valid device model and the source it came from (for line numbers downstream)."""

    model: DeviceModel
    source: SourceDocument


def schema_fix(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return f"add '{error['loc'][-1]}'"
    if kind == "extra_forbidden":
        return "remove it or check its spelling"
    if kind in ("enum", "literal_error"):
        expected = error.get("ctx", {}).get("expected")
        return f"use one of {expected}" if expected else "use an allowed value"
    field = str(error["loc"][-1]) if error["loc"] else ""
    if kind == "string_pattern_mismatch":
        if field in ("id", "name", "signal", "from", "to") or isinstance(error["loc"][-1], int):
            return "ids start with a letter and use letters, digits, '_', '-' or '.'"
        if field == "cpe":
            return "write a CPE 2.3 name such as cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*"
        if field == "purl":
            return "write a package URL such as pkg:pypi/numpy@1.26.4"
        pattern = error.get("ctx", {}).get("pattern", "")
        return f"match {pattern}" if pattern else ""
    if kind in ("string_type", "str_type"):
        return "write text (quote it if YAML reads it as something else)"
    if kind in ("list_type", "tuple_type"):
        return "write a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "write a mapping of keys to values"
    if kind == "too_short":
        return "give at least one"
    ctx = error.get("ctx", {})
    if field == "range" or error["loc"][-2:-1] == ("range",):
        return "write the range as [minimum, maximum]"
    if kind == "too_long":
        return f"give at most {ctx.get('max_length')} items"
    if kind in ("bool_type", "bool_parsing"):
        return "write true or false"
    if kind in ("int_type", "int_parsing", "int_from_float", "float_type", "float_parsing"):
        return "write a plain number"
    if kind in ("less_than_equal", "less_than"):
        return f"use a value of at most {ctx.get('le', ctx.get('lt'))}"
    if kind == "greater_than":
        return f"use a value above {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"use a value of at least {ctx.get('ge')}"
    if kind == "string_too_short":
        return "write some text"
    if kind == "string_too_long":
        return f"shorten it to {ctx.get('max_length')} characters or fewer"
    if kind == "string_unicode":
        return "write the characters themselves; a lone \\uD800-\\uDFFF escape is not text"
    return ""


def schema_problems(exc: ValidationError, source: SourceDocument) -> list[Problem]:
    """The located problems of a device model (or a file validated like one)."""
    problems = []
    for error in exc.errors(include_url=False):
        problem = located_problem(error, source, schema_fix)
        loc = tuple(source_path(error))
        if (
            error["type"] not in ("extra_forbidden", "missing")
            and loc
            and loc[-1] == "version"
            and isinstance(error["input"], (int, float))
            and not isinstance(error["input"], bool)
        ):
            # YAML turned 1.10 into 1.1 (or 010 into 8): quote what the analyst wrote.
            written = source.numbers.get(loc, str(error["input"]))
            problem = Problem(
                f"version {written} was read as the number {error['input']!r}",
                field=problem.field,
                line=problem.line,
                fix=f'quote it: version: "{written}"',
            )
        problems.append(problem)
    return problems


def model_from_document(source: SourceDocument) -> DeviceModel:
    """Validate parsed data against the schema and the structural rules."""
    if not isinstance(source.data, dict):
        raise InputError(
            source.file,
            [
                Problem(
                    "the top level must be a mapping with device, components, links, losses, hazards",
                    line=source.line_of(()) or 1,
                    fix="start the file with 'device:'",
                )
            ],
        )
    try:
        model = DeviceModel.model_validate(source.data)
    except ValidationError as exc:
        raise InputError(source.file, schema_problems(exc, source)) from None
    located = structural_problems(model)
    if located:
        raise InputError(
            source.file,
            [
                Problem(
                    problem.message,
                    field=source.render_path(path),
                    line=source.line_of(path),
                    fix=problem.fix,
                )
                for problem, path in located
            ],
        )
    return model


def load_model(path: Path | str) -> LoadedModel:
    """Read and validate a device model file, with the technologies of the SBOMs its
    components name. Raises InputError naming file, line and field."""
    path = Path(path)
    text = read_text(path)
    source = parse_document(text, str(path))
    model = with_sbom_technologies(model_from_document(source), source, path.parent)
    return LoadedModel(model=model, source=source)


def load_model_text(text: str, file: str = "<model>", base: Path | None = None) -> LoadedModel:
    """``base``: the folder a component's ``sbom:`` is relative to (default: the current)."""
    source = parse_document(text, file)
    model = with_sbom_technologies(model_from_document(source), source, base or Path())
    return LoadedModel(model=model, source=source)
