"""What the ML-attack harness adds (``analyze --ml-attacks``, ``mdrisk attack``): each attack
run on the device's own model from one false-data injection point, under the constraints
STPA gives the attacker there, with what it achieved and how it was run."""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record


class FeatureBound(Record):
    """The values an attacker can give one feature without a declared check firing."""

    feature: str
    signal: str
    low: float
    high: float


class RateBound(Record):
    """Consecutive readings of a series (features by lag) may differ by at most
    ``max_per_min`` per minute between them."""

    signal: str
    max_per_min: float
    features: list[str]  # oldest first
    detector: str


class AttackConstraints(Record):
    """The attacker's capability at one entry point: what every produced example honours."""

    controlled_features: list[str]
    bounds: list[FeatureBound]
    rate_limits: list[RateBound] = Field(default_factory=list)
    # Declared detectors turned into bounds, and those that have no such form (named so a
    # reader knows the attack was not checked against them).
    detectors: list[str] = Field(default_factory=list)
    detectors_not_translated: list[str] = Field(default_factory=list)
    query_budget: int
    protections: list[str] = Field(default_factory=list)


class MLAttack(Record):
    id: str  # MLA- digest of attack, engine, element and target
    attack: str  # evasion | label_flipping | backdoor | model_substitution | extraction | membership_inference
    method: str  # the ART class (or the procedure) that ran it
    atlas: list[str]  # MITRE ATLAS techniques, most specific first
    ml_engine: str
    element: str  # the entry point (link or component)
    fdi_points: list[str]
    # The attack scenarios (SC-) this attack measures: same engine, entry and category.
    scenarios: list[str] = Field(default_factory=list)
    target: str  # what the attacker wants, e.g. "malignant -> benign"
    hazards: list[str] = Field(default_factory=list)
    constraints: AttackConstraints | None = None
    status: str  # "run" | "not_applicable" | "blocked"
    reason: str = ""
    examples: int = 0
    successes: int = 0
    success_rate: float | None = None
    # Produced examples that broke a constraint (counted as failures).
    violations: int = 0
    # Median over successes: largest change in units of the feature's standard deviation
    # in the evaluation data, and number of features changed.
    perturbation: float | None = None
    perturbation_unit: str = "sd"  # or the signal's unit ("mg/dL") for a series attacked as is
    features_changed: float | None = None
    queries: int = 0  # model queries (rows predicted, gradients counted as one each)
    clean_accuracy: float | None = None  # on held-out data, before the attack
    attacked_accuracy: float | None = None  # on held-out data, after it
    library: str
    seed: int
    # For an attack run in the closed loop: per cohort ("all", "adult"...) the patient-days,
    # the mean minutes below 54 mg/dL and LBGI attacked and clean, the patients harmed.
    harm: dict[str, dict[str, float]] = Field(default_factory=dict)
