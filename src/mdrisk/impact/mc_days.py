"""Monte Carlo days: random meal times and sizes around a reference day.

Harm measured on one fixed day says little about a population living different days. Each
random day takes every meal of the reference day, moves it by a Gaussian shift of
``time_sd_min`` (at most ``time_limit_min`` either way, within the day) and scales its
carbohydrate by ``1 + carbs_cv * z`` (kept within ``carbs_range`` of the reference). Day ``d``
is drawn from its own stream seeded by ``(seed, d)``: the same seed gives the same days, and
a day does not change when more days are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdrisk.impact.scenario import Meal, MealScenario

DAY_MIN = 1440


@dataclass(frozen=True)
class DayVariation:
    """How far random days stray from the reference day."""

    time_sd_min: float = 30.0
    time_limit_min: float = 60.0
    carbs_cv: float = 0.2
    carbs_range: tuple[float, float] = (0.5, 1.5)  # of the reference meal's carbohydrate

    def __post_init__(self) -> None:
        low, high = self.carbs_range
        if self.time_sd_min < 0 or self.time_limit_min < 0 or self.carbs_cv < 0:
            raise ValueError("day variation: spreads and limits must not be negative")
        if not 0 <= low <= 1 <= high:
            raise ValueError(f"day variation: carbs_range must hold 1, not {self.carbs_range}")


def random_day(
    reference: MealScenario, seed: int, day: int, variation: DayVariation = DayVariation()
) -> MealScenario:
    """Random day number ``day`` (from 0) around ``reference`` (a one-day scenario)."""
    random = np.random.default_rng([int(seed), int(day)])
    meals = []
    for meal in reference.meals:
        shift, scale = random.standard_normal(2)
        limit = variation.time_limit_min
        minutes = meal.time_min + float(np.clip(shift * variation.time_sd_min, -limit, limit))
        low, high = variation.carbs_range
        factor = float(np.clip(1.0 + variation.carbs_cv * scale, low, high))
        meals.append(
            Meal(int(np.clip(round(minutes), 0, DAY_MIN - 1)), round(meal.carbs_g * factor, 1))
        )
    return MealScenario(meals=tuple(meals), name=f"{reference.name} (random day {day + 1})")


def random_days(
    reference: MealScenario, days: int, seed: int, variation: DayVariation = DayVariation()
) -> list[MealScenario]:
    """``days`` random days around ``reference``."""
    if days < 1:
        raise ValueError(f"the number of random days must be at least 1, not {days}")
    return [random_day(reference, seed, day, variation) for day in range(days)]
