"""What a worst-case attacker may do, as a box of continuous variables an optimiser searches.

A :class:`WorstCaseBudget` names the signals attacked together and, per signal, the largest
magnitude; the attack's duration range and the window its onset must fall in are shared.
Text form (``--budget``; any subset, the rest keep their defaults)::

    cgm=60,carbs=40,duration=30min-4h,onset=00:00-24:00,objective=below54

A signal name as a key gives that signal's largest magnitude (in its unit: mg/dL, g, U...).

Each attacked signal adds its own variables to the search vector (:class:`SearchSpace`):

* a **level** signal (``cgm``, ``iob``, ``basal``, ...): signed magnitude in
  ``[-max, +max]``, onset, duration, and ramp share in ``[0, 0.5]``. The offset rises linearly
  over ``ramp share x duration`` minutes, holds, and falls back (a ``ramp`` attack); a ramp
  time under one minute is a step (a ``bias`` attack);
* an **event** signal (``carbs``, ``bolus``, ``pump_bolus``): the amount of one spoofed entry
  in ``[0, max]`` and its time (a ``spoof`` attack).

Onset and duration are whole minutes, magnitudes and ramp times are kept to 0.01, so a
decoded vector is exactly the attack that is simulated and reported.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from mdrisk.impact.attacks.base import DAY_MIN
from mdrisk.impact.attacks.spec import AttackPlan, AttackSpec, SpecError
from mdrisk.impact.fdi_signals import ALL_SIGNALS, EVENT_SIGNALS, LEVEL_SIGNALS
from mdrisk.impact.search import OBJECTIVES, Candidate

# Largest magnitude per signal when the budget names none: a CGM or forecast error well inside
# what the stealth limits let through, a mid-size meal, one unit of insulin.
DEFAULT_MAX: dict[str, float] = {
    "cgm": 60.0,
    "forecast": 60.0,
    "carbs": 40.0,
    "iob": 3.0,
    "bolus": 1.0,
    "pump_bolus": 1.0,
    "basal": 0.02,
    "pump_basal": 0.02,
    "delivered_insulin": 0.02,
}
MAX_RAMP_SHARE = 0.5  # a ramp in and out over the whole window: a triangle
LEVEL_VARIABLES = ("magnitude", "onset", "duration", "ramp_share")
EVENT_VARIABLES = ("amount", "onset")


class BudgetError(ValueError):
    """A budget that cannot bound a search (negative, not finite, or inverted)."""


@dataclass(frozen=True)
class WorstCaseBudget:
    """Signals attacked together, the largest magnitude of each, when and how long."""

    signals: tuple[str, ...] = ("cgm",)
    max_magnitude: tuple[float, ...] = (60.0,)
    min_duration_min: int = 30
    max_duration_min: int = 240
    earliest_onset_min: int = 0
    latest_onset_min: int = DAY_MIN
    objective: str = "below54"

    def __post_init__(self) -> None:
        if not self.signals:
            raise BudgetError("the budget attacks no signal")
        if len(self.signals) != len(self.max_magnitude):
            raise BudgetError("one largest magnitude per signal")
        if len(set(self.signals)) != len(self.signals):
            raise BudgetError(f"a signal is listed twice: {', '.join(self.signals)}")
        for signal, magnitude in zip(self.signals, self.max_magnitude, strict=True):
            if signal not in ALL_SIGNALS:
                raise BudgetError(f"unknown signal {signal!r}; signals: {', '.join(ALL_SIGNALS)}")
            if not math.isfinite(magnitude) or magnitude <= 0:
                raise BudgetError(
                    f"the largest {signal} magnitude must be a positive number, not {magnitude}"
                )
        for name in ("min_duration_min", "max_duration_min"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0 or value > DAY_MIN:
                raise BudgetError(f"{name} must be between 1 minute and 24 h, not {value}")
        if self.min_duration_min > self.max_duration_min:
            raise BudgetError(
                f"the duration range is inverted: {self.min_duration_min} min is longer than "
                f"{self.max_duration_min} min"
            )
        for name in ("earliest_onset_min", "latest_onset_min"):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 <= value <= DAY_MIN:
                raise BudgetError(f"{name} must be a time of day (0-1440 min), not {value}")
        if self.latest_onset_min <= self.earliest_onset_min:
            raise BudgetError(
                f"the onset window is inverted or empty: it ends at "
                f"{_clock(self.latest_onset_min)}, not after it starts at "
                f"{_clock(self.earliest_onset_min)}"
            )
        if self.objective not in OBJECTIVES:
            raise BudgetError(
                f"unknown objective {self.objective!r}; objectives: {', '.join(OBJECTIVES)}"
            )

    @classmethod
    def for_signals(cls, signals: tuple[str, ...], **settings: object) -> WorstCaseBudget:
        """Every signal at its default largest magnitude."""
        unknown = [s for s in signals if s not in DEFAULT_MAX]
        if unknown:
            raise BudgetError(
                f"unknown signal(s) {', '.join(unknown)}; signals: {', '.join(DEFAULT_MAX)}"
            )
        return cls(signals, tuple(DEFAULT_MAX[s] for s in signals), **settings)  # type: ignore[arg-type]

    def magnitude(self, signal: str) -> float:
        return self.max_magnitude[self.signals.index(signal)]

    @property
    def text(self) -> str:
        limits = ",".join(
            f"{s}={m:g}" for s, m in zip(self.signals, self.max_magnitude, strict=True)
        )
        return (
            f"{limits},duration={self.min_duration_min}min-{self.max_duration_min}min,"
            f"onset={_clock(self.earliest_onset_min)}-{_clock(self.latest_onset_min)},"
            f"objective={self.objective}"
        )


def _clock(minutes: float) -> str:
    whole = int(round(minutes))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _duration(text: str, value: str, at: int) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(min|m|h)?", value.strip())
    if not match:
        raise SpecError(text, at, f"{value!r} is not a duration", "write e.g. 30min or 4h")
    minutes = float(match.group(1)) * (60.0 if match.group(2) == "h" else 1.0)
    if minutes != int(minutes):
        raise SpecError(text, at, f"{value!r} is not a whole number of minutes")
    return int(minutes)


def _time_of_day(text: str, value: str, at: int) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match.group(2)) > 59 or int(match.group(1)) * 60 > DAY_MIN:
        raise SpecError(text, at, f"{value!r} is not a time of day", "write HH:MM, e.g. 06:00")
    return min(int(match.group(1)) * 60 + int(match.group(2)), DAY_MIN)


def _range(text: str, value: str, at: int, what: str) -> tuple[str, str]:
    low, dash, high = value.partition("-")
    if not dash:
        raise SpecError(text, at, f"{what} needs a range FROM-TO", f"write e.g. {what}=30min-4h")
    return low, high


def parse_worst_case_budget(text: str, signals: tuple[str, ...] = ("cgm",)) -> WorstCaseBudget:
    """A budget for ``signals`` from ``key=value`` pairs; :class:`SpecError` where it is wrong
    (including a negative, non-finite or inverted bound)."""
    magnitudes = {s: DEFAULT_MAX.get(s, float("nan")) for s in signals}
    unknown = [s for s in signals if s not in DEFAULT_MAX]
    if unknown:
        raise SpecError(
            ",".join(signals),
            0,
            f"unknown signal(s) {', '.join(unknown)}",
            f"signals: {', '.join(DEFAULT_MAX)}",
        )
    settings: dict[str, object] = {}
    at = 0
    for part in [] if text.strip() in ("", "default") else text.split(","):
        key, equals, value = part.partition("=")
        key = key.strip()
        value_at = at + part.find("=") + 1
        if not equals:
            raise SpecError(text, at, f"{part.strip()!r} is not key=value")
        if key in ALL_SIGNALS:
            if key not in magnitudes:
                raise SpecError(
                    text, at, f"{key} is not an attacked signal", f"add it to --signals: {key}"
                )
            try:
                magnitude = float(value.strip().lstrip("+"))
            except ValueError:
                magnitude = float("nan")
            if not math.isfinite(magnitude) or magnitude <= 0:
                raise SpecError(
                    text,
                    value_at,
                    f"the largest {key} magnitude {value.strip()!r} is not a positive number",
                    f"write e.g. {key}={DEFAULT_MAX[key]:g}",
                )
            magnitudes[key] = magnitude
        elif key == "duration":
            low, high = _range(text, value, value_at, "duration")
            settings["min_duration_min"] = _duration(text, low, value_at)
            settings["max_duration_min"] = _duration(text, high, value_at + len(low) + 1)
        elif key == "onset":
            low, high = _range(text, value, value_at, "onset")
            settings["earliest_onset_min"] = _time_of_day(text, low, value_at)
            settings["latest_onset_min"] = _time_of_day(text, high, value_at + len(low) + 1)
        elif key == "objective":
            settings["objective"] = value.strip()
        else:
            raise SpecError(
                text,
                at,
                f"{key!r} is not a budget setting",
                "keys: a signal name (its largest magnitude), duration, onset, objective",
            )
        at += len(part) + 1
    try:
        return WorstCaseBudget(
            signals=tuple(signals),
            max_magnitude=tuple(magnitudes[s] for s in signals),
            **settings,  # type: ignore[arg-type]
        )
    except BudgetError as error:
        raise SpecError(text, 0, str(error)) from None


@dataclass(frozen=True)
class SignalAttack:
    """One signal's part of a decoded candidate."""

    signal: str
    magnitude: float
    onset_min: int
    duration_min: int = 0  # events: 0
    ramp_min: float = 0.0  # 0: a step (bias)

    @property
    def spec(self) -> AttackSpec:
        if self.signal in EVENT_SIGNALS:
            return AttackSpec("spoof", self.signal, (("value", self.magnitude),), self.onset_min)
        end = (self.onset_min + self.duration_min) % DAY_MIN
        if self.ramp_min <= 0:
            return AttackSpec(
                "bias", self.signal, (("offset", self.magnitude),), self.onset_min, end
            )
        return AttackSpec(
            "ramp",
            self.signal,
            (("peak", self.magnitude), ("ramp_min", self.ramp_min)),
            self.onset_min,
            end,
        )

    @property
    def active(self) -> bool:
        return self.magnitude != 0


@dataclass(frozen=True)
class SearchSpace:
    """The budget as a box: :attr:`bounds` per variable, :meth:`decode` of a vector."""

    budget: WorstCaseBudget
    names: tuple[str, ...] = field(init=False)
    bounds: tuple[tuple[float, float], ...] = field(init=False)

    def __post_init__(self) -> None:
        b = self.budget
        names: list[str] = []
        bounds: list[tuple[float, float]] = []
        onset = (float(b.earliest_onset_min), float(b.latest_onset_min) - 1.0)
        if onset[1] < onset[0]:
            onset = (onset[0], onset[0])
        for signal, top in zip(b.signals, b.max_magnitude, strict=True):
            if signal in EVENT_SIGNALS:
                names += [f"{signal}.{v}" for v in EVENT_VARIABLES]
                bounds += [(0.0, top), onset]
            else:
                names += [f"{signal}.{v}" for v in LEVEL_VARIABLES]
                bounds += [
                    (-top, top),
                    onset,
                    (float(b.min_duration_min), float(b.max_duration_min)),
                    (0.0, MAX_RAMP_SHARE),
                ]
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "bounds", tuple(bounds))

    @property
    def size(self) -> int:
        return len(self.bounds)

    @property
    def magnitude_columns(self) -> np.ndarray:
        """Indices of the magnitude (level) and amount (event) variables."""
        return np.array(
            [i for i, n in enumerate(self.names) if n.endswith((".magnitude", ".amount"))]
        )

    @property
    def lower(self) -> np.ndarray:
        return np.array([low for low, _ in self.bounds])

    @property
    def upper(self) -> np.ndarray:
        return np.array([high for _, high in self.bounds])

    def decode(self, vector: np.ndarray) -> tuple[SignalAttack, ...]:
        """The attack a vector stands for (clipped into the box, rounded as documented)."""
        x = np.clip(np.asarray(vector, dtype=float), self.lower, self.upper)
        parts, at = [], 0
        for signal in self.budget.signals:
            if signal in EVENT_SIGNALS:
                parts.append(SignalAttack(signal, round(float(x[at]), 2), int(round(x[at + 1]))))
                at += len(EVENT_VARIABLES)
                continue
            duration = int(round(x[at + 2]))
            ramp = round(float(x[at + 3]) * duration, 2)
            parts.append(
                SignalAttack(
                    signal,
                    round(float(x[at]), 2),
                    int(round(x[at + 1])),
                    duration,
                    ramp if ramp >= 1.0 else 0.0,
                )
            )
            at += len(LEVEL_VARIABLES)
        return tuple(parts)

    def plan(self, vector: np.ndarray, name: str = "") -> AttackPlan:
        """The attack specs of a vector (signals with magnitude 0 left out)."""
        specs = tuple(p.spec for p in self.decode(vector) if p.active)
        return AttackPlan(specs, name=name)

    def encode(self, candidate: Candidate) -> np.ndarray | None:
        """A one-signal grid candidate (:mod:`mdrisk.impact.search`) as a vector, the other
        signals off; ``None`` if it lies outside the box."""
        if candidate.signal not in self.budget.signals or candidate.signal not in LEVEL_SIGNALS:
            return None
        vector = np.zeros(self.size)
        at = 0
        for signal in self.budget.signals:
            width = len(EVENT_VARIABLES if signal in EVENT_SIGNALS else LEVEL_VARIABLES)
            vector[at + 1] = self.budget.earliest_onset_min
            if width == len(LEVEL_VARIABLES):
                vector[at + 2] = self.budget.min_duration_min
            if signal == candidate.signal:
                ramp = candidate.ramp_min or 0.0
                vector[at : at + 4] = (
                    candidate.offset,
                    candidate.start_min,
                    candidate.duration_min,
                    ramp / candidate.duration_min,
                )
            at += width
        inside = np.all(vector >= self.lower - 1e-9) and np.all(vector <= self.upper + 1e-9)
        return vector if inside else None


__all__ = [
    "DEFAULT_MAX",
    "BudgetError",
    "SearchSpace",
    "SignalAttack",
    "WorstCaseBudget",
    "parse_worst_case_budget",
]
