"""Monte Carlo days: the reference day's meals with their times and sizes varied.

Each meal of the reference day moves by a normally distributed shift (standard deviation
``time_sd_min``, cut at twice that, kept within the day) and its carbohydrate is scaled by a
factor drawn uniformly from ``[1 - size_spread, 1 + size_spread]``; the carb entry is what
was eaten (the person counts correctly). Every day is drawn from its own random stream, keyed
by the seed, a purpose word, the patient's name and the day's number, so a patient's days are
the same whichever other patients or days are simulated with them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from mdrisk.impact.scenario import Meal, MealScenario

DAY_MIN = 1440


@dataclass(frozen=True)
class MealVariability:
    """How far a Monte Carlo day strays from the reference day."""

    time_sd_min: float = 30.0
    size_spread: float = 0.3

    def describe(self) -> str:
        return (
            f"meal times shifted by N(0, {self.time_sd_min:g} min) (cut at "
            f"{2 * self.time_sd_min:g} min), sizes scaled by U({1 - self.size_spread:g}, "
            f"{1 + self.size_spread:g})"
        )


def day_seed(seed: int, purpose: str, patient: str, day: int) -> int:
    """A 32-bit seed for one patient-day, independent of the batch it is simulated in."""
    return zlib.crc32(f"{seed}:{purpose}:{patient}:{day}".encode()) & 0xFFFFFFFF


def random_day(
    reference: MealScenario, random: np.random.Generator, variability: MealVariability
) -> MealScenario:
    """One day of ``reference``'s meals, moved and resized."""
    meals = []
    cut = 2.0 * variability.time_sd_min
    for meal in reference.meals:
        shift = float(np.clip(random.normal(0.0, variability.time_sd_min), -cut, cut))
        minute = int(np.clip(round(meal.time_min + shift), 0, DAY_MIN - 1))
        spread = variability.size_spread
        grams = meal.carbs_g * float(random.uniform(1.0 - spread, 1.0 + spread))
        meals.append(Meal(minute, round(grams, 1)))
    return MealScenario(meals=tuple(meals), name=f"{reference.name or 'day'} (varied)")


def patient_days(
    reference: MealScenario,
    patient: str,
    days: int,
    *,
    seed: int,
    purpose: str,
    variability: MealVariability = MealVariability(),
) -> list[MealScenario]:
    """``days`` Monte Carlo days of one patient."""
    return [
        random_day(
            reference,
            np.random.default_rng(day_seed(seed, purpose, patient, day)),
            variability,
        )
        for day in range(days)
    ]
