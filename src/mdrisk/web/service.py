"""The workbench's operations, shared by the pages and the JSON API: create devices, check and
save models, read assessments with the workspace's decisions, set decisions and answers,
compare and export. Every finding comes from the pipeline and the stages' own loaders."""

from __future__ import annotations

import io
import re
import tempfile
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.assessment.risk import RiskItem
from mdrisk.assessment_diff import AssessmentDiff, diff_assessments
from mdrisk.assessment_file import load_assessment
from mdrisk.decisions import decided_findings, decisions_from_text, with_decisions
from mdrisk.decisions.file import DecisionEntry, parse_key
from mdrisk.errors import InputError, Problem
from mdrisk.model import DeviceModel, LoadedModel
from mdrisk.model.diagram import to_svg, too_large_to_draw
from mdrisk.model.loader import model_from_document
from mdrisk.parsing.source import parse_document
from mdrisk.web.workspace import DecisionRow, Device, ModelVersion, Workspace, decisions_yaml

MAX_MODEL_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # one document or SBOM
DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".html", ".htm")
NAME_LIMIT = 120
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class NotFound(LookupError):
    """An id that names nothing in the workspace."""


class TooLarge(ValueError):
    """An upload over its limit."""


def examples() -> list[str]:
    folder = resources.files("mdrisk") / "examples"
    return sorted(
        e.name.removesuffix(".yaml") for e in folder.iterdir() if e.name.endswith(".yaml")
    )


def example_text(name: str) -> str:
    if name not in examples():
        raise InputError("example", [Problem(f"no built-in example '{name}'", fix=_choose())])
    return (resources.files("mdrisk") / "examples" / f"{name}.yaml").read_text(encoding="utf-8")


def _choose() -> str:
    return f"choose one of {', '.join(examples())}"


def _device_name(name: str, fallback: str) -> str:
    name = " ".join(name.split())[:NAME_LIMIT]
    return name or fallback


def check_size(data: bytes | str, limit: int, what: str) -> None:
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > limit:
        raise TooLarge(
            f"{what} is {size} bytes, over the limit of {limit} bytes; give a smaller one"
        )


def check_model(text: str, file: str = "model.yaml") -> LoadedModel:
    """The model in ``text``, read with the safe loader, or InputError with located problems.
    A component's ``sbom:`` names a file on the server, which a model from the browser may
    not: its components come in through the SBOM import instead."""
    check_size(text, MAX_MODEL_BYTES, "the model")
    source = parse_document(text, file)
    model = model_from_document(source)
    named = [i for i, component in enumerate(model.components) if component.sbom]
    if named:
        raise InputError(
            file,
            [
                Problem(
                    "a model in the workbench cannot name an SBOM file",
                    field=source.render_path(("components", i, "sbom")),
                    line=source.line_of(("components", i, "sbom")),
                    fix="remove 'sbom:' and create the device from the SBOM instead",
                )
                for i in named
            ],
        )
    return LoadedModel(model=model, source=source)


def diagram_svg(text: str) -> bytes:
    """The control-structure diagram of a valid model (FDI points in red)."""
    from mdrisk.stpa.fdi import derive_fdi_points
    from mdrisk.stpa.graph import ControlStructure

    model = check_model(text).model
    too_large = too_large_to_draw(model)
    if too_large is not None:
        raise InputError("model.yaml", [Problem(too_large)])
    highlight = frozenset(p.element for p in derive_fdi_points(ControlStructure.of(model)))
    return to_svg(model, highlight)


# Creating devices.


def create_from_text(workspace: Workspace, name: str, text: str, origin: str) -> Device:
    loaded = check_model(text)
    return workspace.add_device(
        _device_name(name, loaded.model.device.name), origin, text, f"created from {origin}"
    )


def create_from_example(workspace: Workspace, example: str, name: str = "") -> Device:
    text = example_text(example)
    device = create_from_text(workspace, name, text, f"example {example}")
    _copy_model_files(workspace, device.id, check_model(text).model)
    return device


def _copy_model_files(workspace: Workspace, device_id: int, model: DeviceModel) -> None:
    """The model and evaluation files a built-in example's ML engines name, copied beside
    the device's model so that its ML attacks find them (paths relative, inside the
    examples' folder)."""
    examples_folder = resources.files("mdrisk") / "examples"
    for component in model.components:
        artifact = component.ml.artifact if component.ml is not None else None
        if artifact is None:
            continue
        named = [artifact.file] + ([artifact.evaluation.file] if artifact.evaluation else [])
        for relative in named:
            parts = Path(relative).parts
            if Path(relative).is_absolute() or ".." in parts:
                continue
            source = examples_folder.joinpath(*parts)
            if source.is_file():
                target = workspace.device_folder(device_id).joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read_bytes())


def _safe_file_name(name: str, index: int, suffixes: tuple[str, ...]) -> str:
    stem = _UNSAFE_NAME.sub("_", Path(name).name)[:80].strip("._") or f"upload-{index}"
    suffix = Path(stem).suffix.casefold()
    if suffix not in suffixes:
        raise InputError(
            name or "upload",
            [Problem("not a kind of file this form takes", fix=f"give {', '.join(suffixes)}")],
        )
    return f"{index}-{stem}"


def create_from_sbom(workspace: Workspace, file_name: str, data: bytes, name: str = "") -> Device:
    """A draft model from an SBOM (``mdrisk model from-sbom``)."""
    from mdrisk.intake.sbom_draft import draft_from_sbom
    from mdrisk.sbom import read_sbom

    check_size(data, MAX_UPLOAD_BYTES, "the SBOM")
    shown = _UNSAFE_NAME.sub("_", Path(file_name).name)[:80] or "sbom"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sbom"
        path.write_bytes(data)
        parsed = read_sbom(path)
    draft = draft_from_sbom(parsed, shown, name=name or None)
    text = draft.text
    return create_from_text(workspace, name, text, f"SBOM {shown}")


def create_from_documents(
    workspace: Workspace, documents: list[tuple[str, bytes]], name: str = ""
) -> Device:
    """A draft model from device documents (``mdrisk extract``)."""
    from mdrisk.intake.draft import draft_model
    from mdrisk.intake.extract import extract_files

    if not documents:
        raise InputError("documents", [Problem("no document given", fix="choose one or more")])
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, (file_name, data) in enumerate(documents, 1):
            check_size(data, MAX_UPLOAD_BYTES, file_name or "a document")
            path = Path(folder) / _safe_file_name(file_name, index, DOCUMENT_SUFFIXES)
            path.write_bytes(data)
            paths.append(path)
        reading = extract_files(paths, bundled.technology_lexicon())
    draft = draft_model(reading, bundled.technology_lexicon(), name=name or None)
    return create_from_text(workspace, name, draft.text, f"{len(documents)} document(s)")


# Devices, versions, assessments by id.


def device(workspace: Workspace, device_id: int) -> Device:
    found = workspace.device(device_id)
    if found is None:
        raise NotFound(f"no device {device_id}")
    return found


def latest_model(workspace: Workspace, device_id: int) -> ModelVersion:
    device(workspace, device_id)
    version = workspace.latest_model(device_id)
    if version is None:
        raise NotFound(f"device {device_id} has no model")
    return version


def save_model(workspace: Workspace, device_id: int, text: str, note: str) -> ModelVersion:
    """A new model version when ``text`` is a valid model; InputError (nothing saved) if not."""
    device(workspace, device_id)
    check_model(text)
    return workspace.add_model_version(device_id, text, note[:200] or "edited in the workbench")


class AssessmentCache:
    """Assessments read back from their files, kept in memory (a register page is read many
    times), each with the device's current decisions applied."""

    def __init__(self, workspace: Workspace, size: int = 8) -> None:
        self.workspace = workspace
        self.size = size
        self._read: OrderedDict[int, Assessment] = OrderedDict()
        self._decided: OrderedDict[tuple[int, str], Assessment] = OrderedDict()
        self._lock = threading.Lock()

    def raw(self, assessment_id: int) -> Assessment:
        with self._lock:
            if assessment_id in self._read:
                self._read.move_to_end(assessment_id)
                return self._read[assessment_id]
        if self.workspace.assessment(assessment_id) is None:
            raise NotFound(f"no assessment {assessment_id}")
        assessment = load_assessment(self.workspace.assessment_file(assessment_id))
        with self._lock:
            self._read[assessment_id] = assessment
            while len(self._read) > self.size:
                self._read.popitem(last=False)
        return assessment

    def decided(self, assessment_id: int) -> Assessment:
        """The assessment with the device's decisions as they stand now (the ones it was
        run with when the device has none)."""
        row = self.workspace.assessment(assessment_id)
        if row is None:
            raise NotFound(f"no assessment {assessment_id}")
        rows = self.workspace.decisions(row.device_id)
        assessment = self.raw(assessment_id)
        if not rows:
            return assessment
        text = decisions_yaml(rows)
        key = (assessment_id, text)
        with self._lock:
            if key in self._decided:
                self._decided.move_to_end(key)
                return self._decided[key]
        decided = with_decisions(assessment, decisions_from_text(text, "workspace decisions"))
        with self._lock:
            self._decided[key] = decided
            while len(self._decided) > self.size:
                self._decided.popitem(last=False)
        return decided


# The register and one risk.


@dataclass(frozen=True)
class RegisterFilters:
    level: str = ""
    hazard: str = ""
    element: str = ""
    status: str = ""  # a decision status, or "undecided"

    def keeps(self, risk: RiskItem, status: str) -> bool:
        return (
            (not self.level or risk.level == self.level)
            and (not self.hazard or self.hazard in risk.hazards)
            and (not self.element or risk.element == self.element)
            and (not self.status or status == self.status)
        )


@dataclass(frozen=True)
class RegisterRow:
    risk: RiskItem
    status: str  # the decision's status, "undecided" without one


@dataclass
class Register:
    rows: list[RegisterRow]
    total: int
    levels: list[str] = field(default_factory=list)
    hazards: list[str] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)


def risk_status(assessment: Assessment, risk_id: str) -> str:
    decision = decided_findings(assessment).get(risk_id)
    return decision.status if decision is not None else "undecided"


def register(assessment: Assessment, filters: RegisterFilters) -> Register:
    decided = decided_findings(assessment)
    statuses = {
        risk.id: decided[risk.id].status if risk.id in decided else "undecided"
        for risk in assessment.risks
    }
    rows = [
        RegisterRow(risk, statuses[risk.id])
        for risk in assessment.risks
        if filters.keeps(risk, statuses[risk.id])
    ]
    levels = list(assessment.risk_policy.cells) if assessment.risk_policy else []
    seen_levels = {r.level for r in assessment.risks}
    return Register(
        rows=rows,
        total=len(assessment.risks),
        levels=[lv for lv in levels if lv in seen_levels] or sorted(seen_levels),
        hazards=sorted({h for r in assessment.risks for h in r.hazards}),
        elements=sorted({r.element for r in assessment.risks}),
        statuses=sorted(set(statuses.values())),
    )


def risk_of(assessment: Assessment, risk_id: str) -> RiskItem:
    for risk in assessment.risks:
        if risk.id == risk_id:
            return risk
    raise NotFound(f"no risk {risk_id} in this assessment")


@dataclass(frozen=True)
class OpenQuestion:
    target: str  # the element the risk enters at (the answers file's targets key)
    question: str
    text: str
    answers: tuple[str, ...]
    risks: tuple[str, ...]


def open_questions(assessment: Assessment) -> list[OpenQuestion]:
    """The rubric questions the worst case answered, per target element, with the answers
    the rubric allows: what the analyst can answer to sharpen the risks."""
    rubric = bundled.rubric().rubric
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for risk in assessment.risks:
        for cvss in risk.cvss:
            if cvss.origin != "rubric":
                continue
            for metric in cvss.metrics:
                for step in metric.steps:
                    if step.source == "worst_case" and step.question in rubric.questions:
                        text, risks = found.setdefault(
                            (risk.element, step.question), (step.text, [])
                        )
                        if risk.id not in risks:
                            risks.append(risk.id)
    return [
        OpenQuestion(target, q_id, text, tuple(rubric.questions[q_id].answers), tuple(risks))
        for (target, q_id), (text, risks) in sorted(found.items())
    ]


# Decisions and answers.


def set_decision(
    workspace: Workspace,
    device_id: int,
    key: str,
    status: str,
    justification: str,
    owner: str,
    date: str,
    vex_justification: str | None = None,
) -> DecisionRow:
    """Record a decision after checking it as the decisions file would be checked; InputError
    (nothing recorded) when it would not pass."""
    device(workspace, device_id)
    parsed = parse_key(key)
    if parsed is None:
        raise InputError(
            "decision",
            [Problem(f"'{key}' names no finding", fix="use a risk id such as R-f25cc5")],
        )
    justification = justification.strip()
    data = {
        "status": status,
        "justification": justification or None,
        "owner": owner.strip(),
        "date": date,
        "vex_justification": vex_justification or None,
    }
    from pydantic import ValidationError

    try:
        DecisionEntry.model_validate(data)
    except ValidationError as error:
        raise InputError(
            "decision",
            [
                Problem(
                    str(e["msg"]).removeprefix("Value error, "),
                    field=".".join(str(p) for p in e["loc"]),
                )
                for e in error.errors(include_url=False)
            ],
        ) from None
    row = DecisionRow(key, status, justification, owner.strip(), date, vex_justification or None)
    # The file as it would be written must read back as the CLI reads it.
    decisions_from_text(
        decisions_yaml([*(d for d in workspace.decisions(device_id) if d.key != key), row]),
        "decisions.yaml",
    )
    workspace.set_decision(device_id, row, justification or f"set to {status}")
    return row


def set_answer(
    workspace: Workspace, device_id: int, target: str, question: str, answer: str, why: str
) -> str:
    """Add one rubric answer (for every risk when ``target`` is empty, else for the risks
    entering at ``target``) to the device's answers file; returns the new file's text.
    InputError (nothing written) when the answers file would not pass the rubric's check."""
    from mdrisk.risk.answers import answers_from_text

    device(workspace, device_id)
    rubric = bundled.rubric().rubric
    current = workspace.answers_text(device_id)
    data = yaml.safe_load(current) if current.strip() else None
    if not isinstance(data, dict):
        data = {"schema_version": 1}
    entry = {"answer": answer, "justification": why.strip()}
    if target:
        data.setdefault("targets", {}).setdefault(target, {})[question] = entry
    else:
        data.setdefault("answers", {})[question] = entry
    header = "# Written by 'mdrisk serve' from the analyst's answers in the workbench.\n"
    text = header + yaml.safe_dump(data, sort_keys=True, allow_unicode=True)
    answers_from_text(text, "answers.yaml", rubric)
    workspace.set_answers(device_id, text)
    return text


# Compare and export.


def titles(assessment: Assessment) -> dict[str, str]:
    """A short name of each finding a diff may list, by its id."""
    names = {risk.id: risk.title for risk in assessment.risks}
    names |= {ls.id: ls.text for ls in assessment.loss_scenarios}
    names |= {sc.id: sc.title for sc in assessment.scenarios}
    for threat in assessment.threats:
        for vulnerability in (*threat.vulnerabilities, *threat.possible_vulnerabilities):
            names[f"{vulnerability.id}@{threat.id}"] = (
                f"{threat.technology or '(element)'} in {threat.element}"
            )
    return names


def compare(cache: AssessmentCache, old_id: int, new_id: int) -> tuple[AssessmentDiff, dict]:
    before, after = cache.raw(old_id), cache.raw(new_id)
    return diff_assessments(before, after), titles(before) | titles(after)


EXPORT_FORMATS = ("html", "sarif", "vex", "csv", "markdown", "pdf", "json")
# PDF is asked for, not given by default: it takes about a minute for the glucose device.
DEFAULT_EXPORT = ("html", "sarif", "vex", "csv", "markdown")


def export_package(assessment: Assessment, formats: tuple[str, ...]) -> tuple[bytes, list[str]]:
    """The evidence package (what ``mdrisk report`` writes) as a zip file, and its notes (a
    PDF left out when no engine is installed)."""
    from mdrisk.report.package import render_package

    unknown = [name for name in formats if name not in EXPORT_FORMATS]
    if unknown or not formats:
        raise InputError(
            "formats",
            [
                Problem(
                    f"unknown format {', '.join(unknown)}", fix=f"use {', '.join(EXPORT_FORMATS)}"
                )
            ],
        )
    chosen = ("json", *(name for name in formats if name != "json"))
    package = render_package(assessment, chosen, pdf_optional=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(package.files):
            archive.writestr(name, package.files[name])
        if package.notes:
            archive.writestr("NOTES.txt", "\n".join(package.notes) + "\n")
    return buffer.getvalue(), package.notes
