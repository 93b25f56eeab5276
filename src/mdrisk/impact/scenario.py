"""Meal scenarios: what a patient eats, and what the controller is told about it.

A :class:`MealScenario` is simglucose's ``CustomScenario``: a list of (time, grams). At each
listed minute the meal is *announced to the patient*, who then eats it at 5 g/min (see
:mod:`mdrisk.impact.uva_padova`). By default the controller is told the same carbohydrate at
the same minute (the carb entry a basal-bolus user types); ``announced`` sets different
entries, for a missed or misreported meal. False carb entries injected by an attacker go
through the ``carbs`` signal tap instead (:mod:`mdrisk.impact.taps`).

Times: :meth:`MealScenario.from_hours` reads hours after the start as simglucose does
(``round(hours * 60)`` minutes); the fields hold whole minutes. Two meals at the same minute
are added together (simglucose would keep only the first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, order=True)
class Meal:
    """A meal: ``carbs_g`` grams of carbohydrate at ``time_min`` minutes after the start."""

    time_min: int
    carbs_g: float

    def __post_init__(self) -> None:
        if int(self.time_min) != self.time_min or self.time_min < 0:
            raise ValueError(f"meal time must be a whole, non-negative minute: {self.time_min}")
        if not np.isfinite(self.carbs_g) or self.carbs_g < 0:
            raise ValueError(
                f"meal carbohydrate must be a finite, non-negative gram count: {self.carbs_g}"
            )


def _merged(meals: Iterable[Meal | tuple[float, float]]) -> tuple[Meal, ...]:
    by_minute: dict[int, float] = {}
    for meal in meals:
        item = meal if isinstance(meal, Meal) else Meal(int(meal[0]), float(meal[1]))
        by_minute[item.time_min] = by_minute.get(item.time_min, 0.0) + item.carbs_g
    return tuple(Meal(t, g) for t, g in sorted(by_minute.items()) if g > 0)


@dataclass(frozen=True)
class MealScenario:
    """Meals eaten (``meals``) and carb entries given to the controller (``announced``).

    ``announced=None`` means the controller is told exactly the meals eaten.
    """

    meals: tuple[Meal, ...] = ()
    announced: tuple[Meal, ...] | None = None
    name: str = ""
    _entries: tuple[Meal, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "meals", _merged(self.meals))
        if self.announced is not None:
            object.__setattr__(self, "announced", _merged(self.announced))
        object.__setattr__(
            self, "_entries", self.meals if self.announced is None else self.announced
        )

    @classmethod
    def from_minutes(
        cls,
        meals: Iterable[tuple[int, float]],
        *,
        announced: Iterable[tuple[int, float]] | None = None,
        name: str = "",
    ) -> MealScenario:
        """From ``(minute, grams)`` pairs."""
        return cls(
            meals=tuple(Meal(int(t), float(g)) for t, g in meals),
            announced=None
            if announced is None
            else tuple(Meal(int(t), float(g)) for t, g in announced),
            name=name,
        )

    @classmethod
    def from_hours(
        cls,
        meals: Iterable[tuple[float, float]],
        *,
        announced: Iterable[tuple[float, float]] | None = None,
        name: str = "",
    ) -> MealScenario:
        """From ``(hours after start, grams)`` pairs, as simglucose's ``CustomScenario``."""

        def minutes(pairs: Iterable[tuple[float, float]]) -> tuple[Meal, ...]:
            return tuple(Meal(round(float(h) * 60.0), float(g)) for h, g in pairs)

        return cls(
            meals=minutes(meals),
            announced=None if announced is None else minutes(announced),
            name=name,
        )

    @property
    def carb_entries(self) -> tuple[Meal, ...]:
        """What the controller is told: ``announced``, or the meals eaten."""
        return self._entries

    def total_carbs_g(self) -> float:
        return float(sum(m.carbs_g for m in self.meals))


@dataclass(frozen=True)
class MealSchedule:
    """Meals of a whole batch, by minute: ``{minute: grams per row}`` for eating and entries.

    Only minutes with a meal in some row are stored, so memory grows with the number of
    distinct meal times, not with the run length.
    """

    eaten: dict[int, np.ndarray]
    entered: dict[int, np.ndarray]

    @classmethod
    def for_batch(cls, scenarios: Sequence[MealScenario], size: int) -> MealSchedule:
        """One scenario per row (``len(scenarios) == size``), or one scenario for every row."""
        if len(scenarios) == 1 and size != 1:
            scenarios = list(scenarios) * size
        if len(scenarios) != size:
            raise ValueError(
                f"{len(scenarios)} scenarios for a batch of {size} rows: give one per row or one"
            )
        eaten: dict[int, np.ndarray] = {}
        entered: dict[int, np.ndarray] = {}
        for row, scenario in enumerate(scenarios):
            for meal in scenario.meals:
                eaten.setdefault(meal.time_min, np.zeros(size))[row] += meal.carbs_g
            for meal in scenario.carb_entries:
                entered.setdefault(meal.time_min, np.zeros(size))[row] += meal.carbs_g
        return cls(eaten=eaten, entered=entered)
