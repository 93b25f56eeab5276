"""Measured patient harm of loss scenarios, from the glucose simulator (mdrisk.impact)."""

from __future__ import annotations

from pydantic import Field

from mdrisk.assessment.base import Record


class ImpactPatient(Record):
    """One virtual patient's clean and attacked day (mdrisk.impact): selected harm metrics,
    ISO 14971 severity of each run, the severity the attack induced (None: no worse in class
    than the clean day) and the stealth alarms the attacked run raised."""

    patient: str
    clean: dict[str, float]
    attacked: dict[str, float]
    clean_severity: str
    attacked_severity: str
    induced_severity: str | None = None
    new_criteria: list[str] = Field(default_factory=list)
    stealthy: bool
    alarms: list[str] = Field(default_factory=list)


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
    patients_harmed: int = 0  # patients with an attack-induced severity
    worst_induced_severity: str | None = None
    stealthy_patients: int = 0
