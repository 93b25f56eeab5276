"""The days a worst-case candidate is judged on: the reference day, then Monte Carlo days.

Day 0 is the reference day itself (so one day means exactly the day the grid search uses);
each further day is one of the patient's Monte Carlo days (:mod:`mdrisk.impact.monte_carlo`:
meal times and sizes varied around the reference day, drawn from a stream keyed by the seed,
the patient and the day, so a patient's days never depend on who else is in the batch). With
``noise`` the CGM has simglucose's sensor noise, seeded per patient-day the same way; the
clean and attacked runs of a patient-day share that seed, so their difference is the attack's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mdrisk.impact.experiment import DEFAULT_DAY
from mdrisk.impact.monte_carlo import MealVariability, day_seed, patient_days
from mdrisk.impact.scenario import MealScenario

PURPOSE = "worst-case"


@dataclass(frozen=True)
class MonteCarloDays:
    """How many days each candidate is judged on, and how they vary."""

    days: int = 1
    seed: int = 0
    noise: bool = False
    variability: MealVariability = field(default_factory=MealVariability)
    reference: MealScenario = DEFAULT_DAY

    def __post_init__(self) -> None:
        if int(self.days) != self.days or self.days < 1:
            raise ValueError(f"Monte Carlo days must be a whole number of at least 1: {self.days}")

    def scenarios(self, patient: str) -> list[MealScenario]:
        """The patient's days, the reference day first."""
        varied = patient_days(
            self.reference,
            patient,
            self.days,
            seed=self.seed,
            purpose=PURPOSE,
            variability=self.variability,
        )
        return [self.reference, *varied[1:]]

    def noise_seed(self, patient: str, day: int) -> int:
        """The CGM noise seed of one patient-day (the same clean and attacked)."""
        return day_seed(self.seed, f"{PURPOSE} noise", patient, day) % 2**31

    @property
    def text(self) -> str:
        noise = "with CGM noise" if self.noise else "no CGM noise"
        if self.days == 1:
            return f"the reference day, {noise}"
        return (
            f"{self.days} days per patient: the reference day and {self.days - 1} Monte Carlo "
            f"days ({self.variability.describe()}; seed {self.seed}), {noise}"
        )
