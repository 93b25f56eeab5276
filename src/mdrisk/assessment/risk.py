"""What the risk stage adds to an Assessment: one ``RiskItem`` per scenario, with its scores.

Every value says where it came from: a CVSS metric names the questions and answers that set
it, a severity its source (measured, analyst, worst case), an exploitability level each step
that moved it, a residual risk the rule that lowered it.
"""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record
from mdrisk.model.absent_keys import OmitsAbsent


class RubricStep(Record):
    """One question of the medical-device rubric as it was answered for one target."""

    question: str  # "AV-1"
    text: str
    answer: str  # "yes", "no", ...
    source: str  # "model" | "analyst" | "worst_case"
    reason: str  # why the model says so, the analyst's justification, or the assumption made


class MetricDecision(Record):
    """A CVSS metric's value and the decision flow that set it."""

    metric: str  # "AV"
    name: str  # "Attack Vector"
    value: str  # "A"
    steps: list[RubricStep] = Field(default_factory=list)
    # For C, I and A: the value each data category gave ("therapy: H"); the metric is the
    # highest of them. Categories that do not apply are named with the reason.
    categories: list[str] = Field(default_factory=list)


class ContextMetric(Record):
    """A temporal, threat or environmental metric set from the device context, and why."""

    metric: str  # "CR", "MAV", "E", "MSI"
    value: str
    reason: str


class CvssResult(Record):
    """One CVSS vector, scored by the ``cvss`` package.

    ``origin``: "published" (from an advisory or CVE record; ``published_score`` is what it
    states and ``agrees`` whether our recomputation matches), "rubric" (derived for a scenario
    with the medical-device rubric; ``metrics`` hold the rationale) or "mapped" (a CVSS 4.0
    vector mapped from a 3.x one, which no one published; ``notes`` say how).
    """

    version: str  # "3.0" | "3.1" | "4.0"
    origin: str
    source: str = ""
    base_vector: str
    base_score: float
    base_severity: str
    published_score: float | None = None
    agrees: bool | None = None
    # CVSS 3.x exploitability sub-score (8.22 x AV x AC x PR x UI), one decimal.
    exploitability: float | None = None
    # With the temporal/environmental (3.x) or threat/environmental (4.0) metrics set from the
    # device context; equal to the base values when none applies.
    vector: str
    score: float
    severity: str
    score_kind: str  # "base" | "temporal" | "environmental" | "CVSS-B" | "CVSS-BT" | ...
    context: list[ContextMetric] = Field(default_factory=list)
    metrics: list[MetricDecision] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class VulnerabilityRating(Record):
    """A known vulnerability on the attack's entry element, scored in the device's context."""

    id: str
    threat: str  # TH-n
    element: str
    technology: str | None = None
    kev: bool | None = None
    epss: float | None = None
    cvss: list[CvssResult] = Field(default_factory=list)
    # Published vectors that could not be scored (CVSS 2, malformed), with the reason.
    unscored: list[str] = Field(default_factory=list)


class SeverityRating(Record):
    level: str  # negligible | minor | serious | critical | catastrophic
    source: str  # "measured" | "analyst" | "worst_case"
    basis: str


class ExploitabilityRating(Record):
    """The level used, each step that set it, and, while rubric questions are open, the
    range between their best and worst answers (``best`` .. ``worst``; equal when none is
    open). ``vector`` is the CVSS vector the level was read from."""

    level: str  # a level of the matrix, e.g. remote | unlikely | possible | likely | frequent
    steps: list[str] = Field(default_factory=list)
    best: str | None = None
    worst: str | None = None
    vector: str = ""
    unanswered: str = "worst"  # how open questions counted for the level (the policy's)


class RiskControl(Record):
    """A control in place on the device, or a mitigation from the catalogues.

    ``in_place``: a device control the model declares, or a catalogue mitigation the analyst
    marked implemented. ``credited_levels``: how far it lowered exploitability under the
    matrix's rule (0 when it does not address this attack or the cap was reached).
    """

    id: str
    name: str
    kind: str  # "device" | "mitigation" | "recommended"
    framework: str = ""  # "device model", "ATT&CK for ICS", "ATT&CK Enterprise", "ATLAS", "CAPEC"
    source: str = ""
    in_place: bool = False
    credited_levels: int = 0
    justification: str = ""
    # A recommended control: whether the policy's residual column assumes it (``applied``),
    # the severity levels it lowers there, and the model change it stands for, if any
    # ("<link>.<protection>": that protection declared on that link).
    applied: bool = False
    severity_levels: int = 0
    model_change: list[str] = Field(default_factory=list)


class ResidualRisk(Record):
    exploitability: str
    severity: str
    level: str
    acceptability: str
    rule: str
    steps: list[str] = Field(default_factory=list)


class RiskItem(Record, OmitsAbsent):
    """One risk: an attack that ends in a hazard, rated before and after its controls.

    ``source`` is "scenario" (the attack scenarios SC-n of one entry element and hazard),
    "loss_scenario" (the loss scenarios of one entry element and hazard, when no attack
    scenarios exist) or "vulnerability" (a known vulnerability on an element no scenario
    starts from).
    """

    absent_keys = ("ml_attacks",)  # only a risk an attack measured carries the key

    id: str  # R-n
    title: str
    source: str
    # The most exploitable attack scenario of the risk, and all of them (SC-n).
    scenario: str | None = None
    scenarios: list[str] = Field(default_factory=list)
    attackers: list[str] = Field(default_factory=list)  # attacker profiles of the scenarios
    loss_scenarios: list[str] = Field(default_factory=list)
    fdi_points: list[str] = Field(default_factory=list)
    threats: list[str] = Field(default_factory=list)
    hazards: list[str] = Field(default_factory=list)
    losses: list[str] = Field(default_factory=list)
    element: str
    cvss: list[CvssResult] = Field(default_factory=list)
    vulnerabilities: list[VulnerabilityRating] = Field(default_factory=list)
    severity: SeverityRating
    exploitability: ExploitabilityRating
    level: str
    acceptability: str
    controls: list[RiskControl] = Field(default_factory=list)
    residual: ResidualRisk
    # Rubric questions answered by the worst case, and any other assumption made for want
    # of an answer: what the analyst should answer to sharpen this risk.
    open_questions: list[str] = Field(default_factory=list)
    matrix: str = ""  # name of the risk matrix used
    # The attacks run on the engine's own model that measure this risk (MLA-): from its
    # entry, towards one of its hazards (``analyze --ml-attacks``).
    ml_attacks: list[str] = Field(default_factory=list)


class PolicyView(Record):
    """The risk policy the register was rated under, as the report draws it: the matrix
    (exploitability level -> one risk level per severity), each level's acceptability, and
    the rules that shape the ratings."""

    name: str
    source: str = ""  # "risk-matrix/builtin", "risk-matrix/my-policy.yaml"
    sha256: str = ""
    severities: list[str]
    exploitability: list[str]  # from the least to the most likely
    cells: dict[str, list[str]]
    acceptability: dict[str, str]  # risk level -> acceptability label
    unanswered: str = "worst"
    apply: list[str] | str = "recommended"
    max_reduction: int = 0
