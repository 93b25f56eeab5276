"""The risk matrix: severity x exploitability -> risk level -> acceptability, and its rules.

``matrix_from_document`` checks ``data/risk-matrix.yaml`` (read by ``mdrisk.bundled``) or a
user's file of the same shape (``load_matrix``):
every exploitability level has a row of five cells, every cell names a risk level, every
risk level an acceptability, and the matrix is monotone (a less exploitable or less severe
cell is never rated higher), so lowering exploitability can only lower a risk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from mdrisk.errors import InputError, Problem
from mdrisk.parsing.source import SourceDocument, parse_document
from mdrisk.parsing.validation import StrictModel
from mdrisk.risk.config_files import ConfigSource, problem, read_document, validate

SEVERITIES = ("negligible", "minor", "serious", "critical", "catastrophic")
ACCEPTABILITY = ("acceptable", "alarp", "unacceptable")
Acceptability = Literal["acceptable", "alarp", "unacceptable"]
LevelId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class ExploitabilityLevel(StrictModel):
    id: LevelId
    label: Annotated[str, Field(min_length=1, max_length=80)]


class CvssThreshold(StrictModel):
    min: Annotated[float, Field(ge=0, le=10)]
    level: LevelId


class EpssStep(StrictModel):
    min: Annotated[float, Field(ge=0, le=1)]
    raise_: Annotated[int, Field(ge=0, le=10, alias="raise")]


class KevStep(StrictModel):
    raise_: Annotated[int, Field(ge=0, le=10, alias="raise")]


class PathRule(StrictModel):
    free_hops: Annotated[int, Field(ge=0, le=100)]
    hops_per_level: Annotated[int, Field(ge=1, le=100)]


class AttackerRule(StrictModel):
    min_reach: Annotated[float, Field(ge=0, le=1)]
    lowers: Annotated[int, Field(ge=0, le=10)]


class Exploitability(StrictModel):
    levels: list[ExploitabilityLevel] = Field(min_length=2, max_length=10)
    cvss: list[CvssThreshold] = Field(min_length=1)
    kev: KevStep
    epss: list[EpssStep] = Field(default_factory=list)
    path: PathRule
    attacker: AttackerRule | None = None
    # Rate with the CVSS environmental attack vector (MAV) of the best placed attacker that
    # reaches the entry, where it is narrower than the rubric's base vector: a channel on a
    # hospital network is routable (AV:N) but only someone on that network reaches it.
    deployment_vector: bool = False


class RiskLevel(StrictModel):
    id: LevelId
    acceptability: Acceptability


class DeviceControlRule(StrictModel):
    control: Literal["authentication", "encryption", "integrity", "replay_protection"]
    lowers: Annotated[int, Field(ge=0, le=10)]
    against: list[
        Literal[
            "false_values",
            "replay",
            "model_tampering",
            "disclosure",
            "training_poisoning",
            "denial_of_service",
        ]
    ] = Field(min_length=1)
    requires: list[Literal["authentication", "encryption", "integrity", "replay_protection"]] = (
        Field(default_factory=list)
    )


class MitigationRule(StrictModel):
    lowers: Annotated[int, Field(ge=0, le=10)]


class ResidualRule(StrictModel):
    rule: Annotated[str, Field(min_length=1, max_length=4000)]
    device_controls: list[DeviceControlRule] = Field(default_factory=list)
    implemented_mitigation: MitigationRule
    max_reduction: Annotated[int, Field(ge=0, le=10)]


AttackKind = Literal[
    "false_values",
    "replay",
    "model_tampering",
    "disclosure",
    "training_poisoning",
    "denial_of_service",
]
# Where a recommended control fits: the attack path fact that makes it worth recommending
# (mdrisk.risk.recommend says how each is read from the model).
Placement = Literal[
    "unauthenticated_link",
    "unencrypted_link",
    "data_store",
    "unprotected_replay",
    "unchecked_integrity",
    "human_entry",
    "component_entry",
    "unsigned_model",
    "training_data",
    "known_vulnerability",
    "receiver_limits",
    "declared_detector",
]


class RecommendedControl(StrictModel):
    """A control the policy recommends where its ``where`` fact holds on a risk's path."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
    title: Annotated[str, Field(min_length=1, max_length=200)]  # "{element}" is filled in
    where: Placement
    against: list[AttackKind] = Field(min_length=1)
    lowers: Annotated[int, Field(ge=0, le=10)]
    # Severity levels it lowers: only for a control that detects or stops the harm, and only
    # with a reason (a measured result or a stated design argument).
    severity_lowers: Annotated[int, Field(ge=0, le=4)] = 0
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class MeasuredHarmRule(StrictModel):
    # When the simulator stands for a risk's scenario and no patient was harmed: keep the
    # analyst's severity ("analyst") or take the measured one ("measured").
    when_no_harm: Literal["analyst", "measured"] = "analyst"


class RiskMatrix(StrictModel):
    """The manufacturer's risk policy: the matrix, acceptability, how open rubric questions
    count, and how controls lower exploitability (and, where they stop harm, severity)."""

    schema_version: Literal[1]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    severity: list[str] = Field(min_length=5, max_length=5)
    exploitability: Exploitability
    risk_levels: list[RiskLevel] = Field(min_length=1, max_length=10)
    acceptability_labels: dict[Acceptability, Annotated[str, Field(min_length=1, max_length=80)]]
    matrix: dict[LevelId, list[LevelId]]
    residual: ResidualRule
    # How a rubric question nobody answered counts for the level: its worst case or its best;
    # the other end is always shown as the range.
    unanswered: Literal["worst", "best"] = "worst"
    measured_harm: MeasuredHarmRule = Field(default_factory=MeasuredHarmRule)
    recommended_controls: list[RecommendedControl] = Field(default_factory=list)
    # Which recommended controls the residual column assumes in place: every one recommended,
    # none, or the listed control ids (``authenticate_link``: wherever it is recommended;
    # ``authenticate_link@meter_to_app``: there only).
    apply: Literal["recommended", "none"] | list[str] = "recommended"

    @property
    def exploitability_levels(self) -> list[str]:
        return [level.id for level in self.exploitability.levels]

    def level_of(self, severity: str, exploitability: str) -> str:
        return self.matrix[exploitability][SEVERITIES.index(severity)]

    def acceptability_of(self, level: str) -> Acceptability:
        return next(r.acceptability for r in self.risk_levels if r.id == level)

    def label_of(self, acceptability: Acceptability) -> str:
        return self.acceptability_labels.get(acceptability, acceptability)

    def exploitability_from_cvss(self, exploitability: float) -> str:
        for row in sorted(self.exploitability.cvss, key=lambda r: -r.min):
            if exploitability >= row.min:
                return row.level
        return self.exploitability_levels[0]


@dataclass(frozen=True)
class LoadedMatrix:
    matrix: RiskMatrix
    source: ConfigSource


def _cross_problems(matrix: RiskMatrix, source: SourceDocument) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: tuple[str | int, ...], message: str, fix: str) -> None:
        problems.append(problem(source, path, message, fix))

    if tuple(matrix.severity) != SEVERITIES:
        add(
            ("severity",),
            f"severity must be {', '.join(SEVERITIES)}",
            "keep the five ISO 14971 severity classes in this order",
        )
    levels = matrix.exploitability_levels
    if len(set(levels)) != len(levels):
        add(
            ("exploitability", "levels"),
            "an exploitability level is listed twice",
            "give each level its own id",
        )
    for index, threshold in enumerate(matrix.exploitability.cvss):
        if threshold.level not in levels:
            add(
                ("exploitability", "cvss", index, "level"),
                f"no exploitability level '{threshold.level}'",
                f"use one of {', '.join(levels)}",
            )
    if not any(row.min == 0 for row in matrix.exploitability.cvss):
        add(
            ("exploitability", "cvss"),
            "no row starts at 0, so a low score has no level",
            "add a row with min: 0",
        )
    risk_ids = [r.id for r in matrix.risk_levels]
    if len(set(risk_ids)) != len(risk_ids):
        add(("risk_levels",), "a risk level is listed twice", "give each level its own id")
    ranks = [ACCEPTABILITY.index(r.acceptability) for r in matrix.risk_levels]
    if ranks != sorted(ranks):
        add(
            ("risk_levels",),
            "a higher risk level has a more acceptable class",
            "list risk levels from the lowest to the highest",
        )
    for name in sorted(set(matrix.matrix) - set(levels)):
        add(
            ("matrix", name), f"no exploitability level '{name}'", f"use one of {', '.join(levels)}"
        )
    for name in levels:
        row = matrix.matrix.get(name)
        if row is None:
            add(
                ("matrix",),
                f"no row for exploitability level '{name}'",
                f"add '{name}: [five risk levels, negligible .. catastrophic]'",
            )
            continue
        if len(row) != len(SEVERITIES):
            add(
                ("matrix", name),
                f"{len(row)} cells; one per severity is needed",
                "give five risk levels, negligible .. catastrophic",
            )
        for index, cell in enumerate(row):
            if cell not in risk_ids:
                add(
                    ("matrix", name, index),
                    f"no risk level '{cell}'",
                    f"use one of {', '.join(risk_ids)}",
                )
    if problems:
        return problems
    rank = {level: i for i, level in enumerate(risk_ids)}
    for e_index, name in enumerate(levels):
        row_ranks = [rank[c] for c in matrix.matrix[name]]
        if row_ranks != sorted(row_ranks):
            add(
                ("matrix", name),
                "a more severe cell is rated lower than a less severe one",
                "make each row rise (or stay) from negligible to catastrophic",
            )
        if e_index:
            below = [rank[c] for c in matrix.matrix[levels[e_index - 1]]]
            if any(a < b for a, b in zip(row_ranks, below, strict=True)):
                add(
                    ("matrix", name),
                    f"rated lower than the less exploitable row '{levels[e_index - 1]}'",
                    "make each column rise (or stay) with exploitability",
                )
    control_ids = [c.id for c in matrix.recommended_controls]
    if len(set(control_ids)) != len(control_ids):
        add(("recommended_controls",), "a control id is listed twice", "give each its own id")
    if isinstance(matrix.apply, list):
        for index, name in enumerate(matrix.apply):
            if name.split("@", 1)[0] not in control_ids:
                add(
                    ("apply", index),
                    f"no recommended control '{name}'",
                    f"use one of {', '.join(control_ids) or '(none defined)'}",
                )
    for index, rule in enumerate(matrix.residual.device_controls):
        if rule.control in rule.requires:
            add(
                ("residual", "device_controls", index, "requires"),
                "a control cannot require itself",
                "remove it from requires",
            )
    return problems


def matrix_from_text(text: str, file: str) -> RiskMatrix:
    return matrix_from_document(parse_document(text, file))


def matrix_from_document(source: SourceDocument) -> RiskMatrix:
    matrix = validate(RiskMatrix, source, "risk matrix")
    problems = _cross_problems(matrix, source)
    if problems:
        raise InputError(source.file, problems)
    return matrix


def load_matrix(path: Path | str) -> LoadedMatrix:
    """The user's matrix at ``path`` (the built-in one comes from ``mdrisk.bundled``)."""
    return loaded_matrix(read_document(path), Path(path).name)


def loaded_matrix(source: SourceDocument, name: str) -> LoadedMatrix:
    """The matrix of a parsed document; ``name`` labels it in the provenance."""
    return LoadedMatrix(
        matrix_from_document(source), ConfigSource(f"risk-matrix/{name}", source.sha256)
    )


def applies(apply: str | list[str], control: str, instance: str) -> bool:
    """Whether the policy's ``apply`` assumes the recommended ``control`` (its id) in place at
    ``instance`` (``control@element``)."""
    if apply == "recommended":
        return True
    return isinstance(apply, list) and (control in apply or instance in apply)


def heat_map_cells(matrix: RiskMatrix) -> dict[tuple[str, str], str]:
    """(severity, exploitability) -> risk level, for drawing the matrix."""
    return {(s, e): matrix.level_of(s, e) for s in SEVERITIES for e in matrix.exploitability_levels}


def shift(levels: Sequence[str], level: str, by: int) -> str:
    """``level`` moved ``by`` steps along ``levels``, kept inside them."""
    index = min(max(levels.index(level) + by, 0), len(levels) - 1)
    return levels[index]
