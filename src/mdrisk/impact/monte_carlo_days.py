"""Monte Carlo days around a reference day: meals at jittered times and sizes, seeded.

Day 0 is the reference day itself; each further day moves every meal by up to
``time_jitter_min`` minutes either way and scales it by up to ``size_jitter`` either way
(uniformly), the carb entry matching the meal. Day ``d`` draws from its own generator
(``seed``, ``d``), so adding days never changes the earlier ones. With ``noise`` the CGM has
simglucose's sensor noise, seeded per patient and day; the clean and attacked runs of one
patient-day share that seed, so their difference is the attack's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdrisk.impact.attacks.base import DAY_MIN
from mdrisk.impact.experiment import DEFAULT_DAY
from mdrisk.impact.scenario import Meal, MealScenario


@dataclass(frozen=True)
class MonteCarloDays:
    """How many days each candidate is judged on, and how they vary."""

    days: int = 1
    seed: int = 0
    noise: bool = False
    time_jitter_min: float = 45.0
    size_jitter: float = 0.25
    reference: MealScenario = DEFAULT_DAY

    def __post_init__(self) -> None:
        if int(self.days) != self.days or self.days < 1:
            raise ValueError(f"Monte Carlo days must be a whole number of at least 1: {self.days}")
        if not 0 <= self.time_jitter_min < DAY_MIN / 2 or not 0 <= self.size_jitter < 1:
            raise ValueError("meal jitter must be non-negative, under 12 h and under 100 %")

    def scenarios(self) -> list[MealScenario]:
        """The days, the reference day first."""
        return [self.reference] + [self._day(d) for d in range(1, self.days)]

    def _day(self, index: int) -> MealScenario:
        rng = np.random.default_rng([self.seed, index])
        meals = []
        for meal in self.reference.meals:
            shift = rng.uniform(-self.time_jitter_min, self.time_jitter_min)
            scale = rng.uniform(1.0 - self.size_jitter, 1.0 + self.size_jitter)
            minute = int(np.clip(round(meal.time_min + shift), 0, DAY_MIN - 1))
            meals.append(Meal(minute, round(meal.carbs_g * scale, 1)))
        return MealScenario(meals=tuple(meals), name=f"Monte Carlo day {index}")

    def noise_seed(self, patient_index: int, day: int) -> int:
        """The CGM noise seed of one patient-day (the same clean and attacked)."""
        return (self.seed * 100_003 + patient_index * 1_009 + day) % 2**31

    @property
    def text(self) -> str:
        noise = "with CGM noise" if self.noise else "no CGM noise"
        if self.days == 1:
            return f"the reference day, {noise}"
        return (
            f"{self.days} days (the reference day and {self.days - 1} with meals moved up to "
            f"±{self.time_jitter_min:g} min and scaled ±{100 * self.size_jitter:g} %, seed "
            f"{self.seed}), {noise}"
        )
