"""The base of every false-data injection model, its time window, and the registry by name.

An attack family is one file in this folder with one subclass of :class:`Attack` that sets

* ``family``: the name used in attack specs (``bias`` in ``bias:+60@cgm,08:00-14:00``);
* ``targets``: the signals it may be aimed at (from :data:`mdrisk.impact.fdi_signals.ALL_SIGNALS`);
* ``summary``: one line on what it does, for ``--help`` and reports;
* :meth:`Attack.parse_param` and :meth:`Attack.format_param`: its parameter text;
* :meth:`Attack.transform`: what it does to the signal while its window is open.

Defining the class registers it (:data:`ATTACKS`); the parser, the CLI and the search find it
by name. Parameters are floats or arrays with one value per batch row, so one attack object can
hold many candidate attacks side by side (the worst-case search does that).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mdrisk.impact.fdi_signals import ALL_SIGNALS

DAY_MIN = 1440

ATTACKS: dict[str, type[Attack]] = {}


class ParamError(ValueError):
    """A parameter text a family cannot read: ``offset`` is where in that text it went wrong."""

    def __init__(self, message: str, offset: int = 0, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.fix = fix


@dataclass(frozen=True, eq=False)
class Window:
    """When an attack acts: from ``start`` to ``end`` (minutes of the day, end excluded),
    every simulated day. ``end <= start`` wraps over midnight; ``start == 0, end == 1440`` is
    the whole day. Either may be an array (one window per batch row).
    """

    start: Any = 0
    end: Any = DAY_MIN

    @property
    def length(self) -> np.ndarray:
        span = (np.asarray(self.end, float) - np.asarray(self.start, float)) % DAY_MIN
        return np.where(span == 0, float(DAY_MIN), span)

    def elapsed(self, t: float) -> np.ndarray:
        """Minutes since the window (last) opened, at ``t`` minutes after the start of the run."""
        return (t % DAY_MIN - np.asarray(self.start, float)) % DAY_MIN

    def active(self, t: float) -> np.ndarray:
        return self.elapsed(t) < self.length

    def day(self, t: float) -> np.ndarray:
        """Which opening of the window ``t`` falls in (0 for the first day's)."""
        return np.floor((t - self.elapsed(t)) / DAY_MIN + 1e-9)

    @staticmethod
    def clock(minutes: float) -> str:
        minutes = int(round(float(minutes)))
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def describe(self) -> str:
        start, end = np.asarray(self.start), np.asarray(self.end)
        if start.ndim or end.ndim:
            return "per-row windows"
        if float(self.length) == DAY_MIN:
            return "all day"
        return f"{self.clock(float(start))}-{self.clock(float(end))}"


@dataclass(frozen=True)
class AttackContext:
    """What an attack knows about the run it is in: batch size and control period."""

    size: int
    sample_time_min: int


class Attack(ABC):
    """One false-data injection model aimed at one signal, acting within a window."""

    family: ClassVar[str] = ""
    targets: ClassVar[tuple[str, ...]] = ALL_SIGNALS
    summary: ClassVar[str] = ""
    param_required: ClassVar[bool] = True
    param_example: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.family:
            ATTACKS[cls.family] = cls

    def __init__(self, signal: str, window: Window | None = None, **params: Any) -> None:
        if signal not in self.targets:
            raise ValueError(
                f"{self.family} cannot target {signal!r}; it targets {', '.join(self.targets)}"
            )
        self.signal = signal
        self.window = window or Window()
        self.params = dict(params)
        self.context = AttackContext(size=0, sample_time_min=1)

    # -- parameters ----------------------------------------------------------------------
    @classmethod
    def parse_param(cls, text: str) -> dict[str, float]:
        """The parameters in ``text`` (what follows ``family:``); ParamError if unreadable."""
        if text:
            raise ParamError(
                f"{cls.family} takes no parameter", 0, f"write '{cls.family}@signal,...'"
            )
        return {}

    @classmethod
    def format_param(cls, params: Mapping[str, float]) -> str:
        """The canonical parameter text (``+60`` for a bias of 60)."""
        return ""

    def param(self, name: str) -> np.ndarray:
        return np.asarray(self.params[name], dtype=float)

    # -- running -------------------------------------------------------------------------
    def reset(self, context: AttackContext) -> None:
        """Forget any previous run (replay buffers, frozen values, random state)."""
        self.context = context

    def apply(self, t: float, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The signal after the attack: ``transform`` where the window is open on ``rows``
        (a boolean mask), the honest values elsewhere. Called at every tap of the signal, so
        an attack that needs the honest history (replay, freeze) sees all of it."""
        active = self.window.active(t) & rows
        attacked = self.transform(t, values, active)
        return np.where(active, attacked, values)

    @abstractmethod
    def transform(self, t: float, values: np.ndarray, active: np.ndarray) -> np.ndarray:
        """The attacked values (only the ``active`` rows are used), same shape as ``values``."""


# Larger than any glucose (mg/dL), insulin (U), carbohydrate (g) or factor an attack could
# mean, small enough that the simulation's arithmetic stays finite.
MAX_MAGNITUDE = 1e6


def number(
    text: str, what: str, offset: int = 0, *, signed: bool = True, units: tuple[str, ...] = ()
) -> float:
    """A number in a parameter, with an optional unit suffix from ``units``."""
    body = text
    for unit in sorted(units, key=len, reverse=True):
        if body.lower().endswith(unit.lower()):
            body = body[: len(body) - len(unit)]
            break
    if not signed and body.startswith(("+", "-")):
        raise ParamError(f"{what} takes no sign: {text!r}", offset, f"write {body[1:]!r}")
    try:
        value = float(body)
    except ValueError:
        hint = f" (units: {', '.join(units)})" if units else ""
        raise ParamError(
            f"{text!r} is not a number{hint}", offset, f"write {what} as a number, e.g. '60'"
        ) from None
    if not np.isfinite(value):
        raise ParamError(f"{what} must be finite, not {text!r}", offset)
    if abs(value) > MAX_MAGNITUDE:
        raise ParamError(
            f"{what} {text!r} is beyond ±{MAX_MAGNITUDE:g}: no signal of the loop comes near it, "
            "and the patient model's arithmetic would overflow",
            offset,
            f"write {what} in the signal's units, e.g. '60'",
        )
    return value


def duration_minutes(text: str, what: str, offset: int = 0) -> float:
    """A duration such as ``30min``, ``2h`` or ``90`` (minutes)."""
    lowered = text.lower()
    scale = 1.0
    for suffix, factor in (("min", 1.0), ("m", 1.0), ("h", 60.0)):
        if lowered.endswith(suffix):
            lowered = lowered[: -len(suffix)]
            scale = factor
            break
    try:
        value = float(lowered) * scale
    except ValueError:
        raise ParamError(
            f"{text!r} is not a duration",
            offset,
            f"write {what} as minutes or hours, e.g. '30min' or '2h'",
        ) from None
    if not np.isfinite(value) or value <= 0:
        raise ParamError(f"{what} must be positive, not {text!r}", offset)
    return value


def signed(value: float) -> str:
    return f"{value:+g}"
