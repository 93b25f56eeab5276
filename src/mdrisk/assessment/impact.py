"""Measured patient harm of loss scenarios, from the glucose simulator (mdrisk.impact)."""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record


class Spread(Record):
    """A harm metric over many runs: the median, the 95th percentile and the worst value, each
    taken in the harmful direction (for the lowest glucose, the 5th percentile and the
    minimum)."""

    median: float
    p95: float
    worst: float


class ImpactPopulation(Record):
    """The distribution of an attack's harm over a group of virtual patients ("all", or a
    cohort: "adult", "adolescent", "child") and all their Monte Carlo days."""

    group: str
    patients: int
    patients_harmed: int  # harm induced on at least one day
    patient_days: int
    patient_days_harmed: int
    worst_induced_severity: str | None = None
    attacked: dict[str, Spread] = Field(default_factory=dict)  # over the patient-days
    delta: dict[str, Spread] = Field(default_factory=dict)  # attacked minus clean, same day


class ImpactPatient(Record):
    """One virtual patient's clean and attacked days (mdrisk.impact): selected harm metrics,
    ISO 14971 severity of each run, the severity the attack induced (None: no worse in class
    than the clean day) and the stealth alarms the attacked run raised.

    Over several Monte Carlo days (``days`` > 1): ``clean`` and ``attacked`` are the means
    over the days, ``clean_worst`` and ``attacked_worst`` the worst day of each harm metric;
    severities, the induced severity and new criteria are the worst (union) over the days;
    ``harmed_days`` counts the days with an induced severity; ``stealthy`` holds when no day
    raised an alarm, ``stealthy_days`` counts the days without one, ``alarms`` are every
    day's."""

    patient: str
    clean: dict[str, float]
    attacked: dict[str, float]
    clean_severity: str
    attacked_severity: str
    induced_severity: str | None = None
    new_criteria: list[str] = Field(default_factory=list)
    stealthy: bool
    alarms: list[str] = Field(default_factory=list)
    cohort: str = ""
    days: int = 1
    harmed_days: int = 0
    harmed_share: float = 0.0
    stealthy_days: int | None = None  # None in records written before Monte Carlo days
    clean_worst: dict[str, float] = Field(default_factory=dict)
    attacked_worst: dict[str, float] = Field(default_factory=dict)


class ImpactFinding(Record):
    """Measured harm (status "simulated") of the loss scenarios it lists, under one attack,
    or why they cannot be simulated (status "not_simulated", with the reason)."""

    id: str
    status: str  # "simulated" | "not_simulated"
    loss_scenarios: list[str]
    fdi_points: list[str] = Field(default_factory=list)
    reason: str = ""
    ml_input: str | None = None
    forecast_error: str | None = None  # how the ML output errs: too_high, too_low, ...
    attack: str | None = None  # attack spec (mdrisk simulate glucose --attack)
    signal: str | None = None
    controller: str | None = None
    meals: str | None = None
    patients: list[ImpactPatient] = Field(default_factory=list)
    patients_harmed: int = 0  # patients with an attack-induced severity (on any day)
    worst_induced_severity: str | None = None
    stealthy_patients: int = 0
    days: int = 1  # Monte Carlo days per patient (1: the reference day)
    patient_days_harmed: int = 0
    population: list[ImpactPopulation] = Field(default_factory=list)  # "all", then cohorts
