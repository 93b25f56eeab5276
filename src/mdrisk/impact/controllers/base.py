"""The controller interface: per-patient CGM and carb entries in, basal and bolus out.

A controller decides, once per control period (the CGM sample time), the insulin of every
row of the batch at once. It subclasses :class:`Controller`, sets a class attribute ``name``
(which registers it: :func:`make_controller` builds it by that name) and implements
:meth:`Controller.reset` and :meth:`Controller.act`. An ML-advised bolus calculator, say, is
one more file in this folder: it keeps its own history of readings (a ring buffer) if its
model needs one, and returns its bolus as a rate spread over the period, like the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mdrisk.impact.params import PatientTable


@dataclass(frozen=True)
class ControllerContext:
    """What a controller knows before the run: the rows' patients and the control period.

    ``patients.params`` gives each row's therapy settings (``CR`` g/U, ``CF`` mg/dL/U) and the
    model parameters (``BW`` kg, ``u2ss`` pmol/(L kg)); a device's own controller would use
    only what its real counterpart is configured with.
    """

    patients: PatientTable
    sample_time_min: int

    @property
    def size(self) -> int:
        return len(self.patients)


@dataclass(frozen=True)
class ControllerInput:
    """What a controller sees at the start of a control period ``[t_min, t_min + period)``.

    ``cgm``: glucose as the controller receives it, mg/dL, shape ``(batch,)`` (by default
    simglucose's observation: the mean over the past period of the held sensor reading).
    ``carbs_g``: carbohydrate entered during the period that just ended, grams, ``(batch,)``.
    """

    t_min: int
    cgm: np.ndarray
    carbs_g: np.ndarray


@dataclass(frozen=True)
class InsulinCommand:
    """Basal and bolus rates, U/min, shape ``(batch,)``, held over the coming period.

    A bolus of ``B`` units delivered over one period of ``T`` minutes is the rate ``B / T``.
    """

    basal: np.ndarray
    bolus: np.ndarray


CONTROLLERS: dict[str, type[Controller]] = {}


class Controller(ABC):
    """Base of every controller. Subclasses with a ``name`` are registered under it."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            CONTROLLERS[cls.name] = cls

    @abstractmethod
    def reset(self, context: ControllerContext) -> None:
        """Prepare for a run of ``context.size`` rows; forget any previous run."""

    @abstractmethod
    def act(self, observation: ControllerInput) -> InsulinCommand:
        """The insulin for the period that starts at ``observation.t_min``."""


def make_controller(name: str, **settings: Any) -> Controller:
    """The registered controller called ``name``, built with ``settings``."""
    try:
        cls = CONTROLLERS[name]
    except KeyError:
        raise ValueError(
            f"unknown controller {name!r}; known: {', '.join(sorted(CONTROLLERS))}"
        ) from None
    return cls(**settings)
