"""Parameter tables of the UVA/Padova T1D model, read from the installed ``simglucose`` package.

The 30 virtual patients (adolescent#001-010, adult#001-010, child#001-010), their therapy
settings (carb ratio, correction factor), the CGM sensors and the insulin pumps are the tables
``simglucose`` ships in its ``params/`` folder. They are read from wherever the package is
installed (found with :func:`importlib.util.find_spec`, which does not run the package's
``__init__``, so ``gym`` and ``pandas`` are not imported) and never copied into this
repository. Only the standard library's ``csv`` and numpy are used.

What comes out: :class:`PatientTable` (one row per simulated patient, every model parameter
as a float array over the rows, the initial state ``x0`` of shape ``(rows, 13)``),
:class:`SensorSpec` and :class:`PumpSpec`.
"""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

PATIENT_FILE = "vpatient_params.csv"
THERAPY_FILE = "Quest.csv"
SENSOR_FILE = "sensor_params.csv"
PUMP_FILE = "pump_params.csv"

# Columns of vpatient_params.csv that the model uses, besides the 13 initial states.
MODEL_COLUMNS = (
    "BW",
    "Vg",
    "Vi",
    "Ib",
    "kabs",
    "kmax",
    "kmin",
    "b",
    "d",
    "f",
    "kp1",
    "kp2",
    "kp3",
    "Fsnc",
    "ke1",
    "ke2",
    "k1",
    "k2",
    "Vm0",
    "Vmx",
    "Km0",
    "m1",
    "m2",
    "m4",
    "m30",
    "ka1",
    "ka2",
    "kd",
    "ki",
    "p2u",
    "ksc",
    "u2ss",
)
STATE_COLUMNS = tuple(f"x0_{i:2d}" for i in range(1, 14))  # "x0_ 1" ... "x0_13"


class ParameterTableError(Exception):
    """A parameter table is missing or does not hold what the model needs."""


def simglucose_params_dir() -> Path:
    """The ``params/`` folder of the installed ``simglucose`` package.

    Raises :class:`ParameterTableError` naming the fix when simglucose is not installed.
    """
    spec = importlib.util.find_spec("simglucose")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterTableError(
            "the UVA/Padova patient parameters come from the simglucose package, which is not "
            "installed (fix: pip install 'mdrisk[sim]')"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "params"
    if not (folder / PATIENT_FILE).is_file():
        raise ParameterTableError(f"{folder / PATIENT_FILE}: not found in the installed simglucose")
    return folder


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise ParameterTableError(f"{path}: cannot read ({exc.strerror})") from exc


def _float(path: Path, row: dict[str, str], column: str) -> float:
    try:
        return float(row[column])
    except (KeyError, TypeError, ValueError) as exc:
        raise ParameterTableError(
            f"{path}: row {row.get('Name', '?')!r}: column {column!r} missing or not a number"
        ) from exc


@dataclass(frozen=True, eq=False)
class PatientTable:
    """Virtual patients, one per row of a simulated batch (a patient may appear many times).

    ``params[name]`` is a float array of shape ``(rows,)`` for every column of
    :data:`MODEL_COLUMNS` plus ``CR`` (carb ratio, g/U) and ``CF`` (correction factor,
    mg/dL/U) from the therapy table. ``x0`` is the initial state, shape ``(rows, 13)``.
    """

    names: tuple[str, ...]
    params: dict[str, np.ndarray]
    x0: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def take(self, rows: Sequence[int] | np.ndarray) -> PatientTable:
        """The table of the given rows, in that order (repeats allowed)."""
        index = np.asarray(rows, dtype=np.intp)
        return PatientTable(
            names=tuple(self.names[i] for i in index),
            params={k: v[index].copy() for k, v in self.params.items()},
            x0=self.x0[index].copy(),
        )

    def select(self, names: Iterable[str]) -> PatientTable:
        """The rows of the named patients, in the order given; an unknown name is an error."""
        position = {name: i for i, name in enumerate(self.names)}
        wanted = list(names)
        unknown = [n for n in wanted if n not in position]
        if unknown:
            raise ParameterTableError(
                f"unknown patient(s) {unknown}; known: {', '.join(sorted(position))}"
            )
        return self.take([position[n] for n in wanted])

    def repeat_each(self, times: int) -> PatientTable:
        """Each row ``times`` times in a row: patients x variants, patient-major."""
        return self.take(np.repeat(np.arange(len(self)), times))

    @property
    def basal_u_per_min(self) -> np.ndarray:
        """Steady-state basal insulin, U/min: ``u2ss * BW / 6000`` (simglucose's BBController)."""
        return self.params["u2ss"] * self.params["BW"] / 6000.0


@cache
def _patient_table(folder: Path) -> PatientTable:
    patient_path = folder / PATIENT_FILE
    therapy_path = folder / THERAPY_FILE
    patient_rows = _read_rows(patient_path)
    therapy = {row["Name"]: row for row in _read_rows(therapy_path)}
    names: list[str] = []
    columns: dict[str, list[float]] = {c: [] for c in (*MODEL_COLUMNS, "CR", "CF")}
    states: list[list[float]] = []
    for row in patient_rows:
        name = row.get("Name", "")
        if name not in therapy:
            raise ParameterTableError(f"{therapy_path}: no row for patient {name!r}")
        names.append(name)
        for column in MODEL_COLUMNS:
            columns[column].append(_float(patient_path, row, column))
        for column in ("CR", "CF"):
            columns[column].append(_float(therapy_path, therapy[name], column))
        states.append([_float(patient_path, row, c) for c in STATE_COLUMNS])
    if not names:
        raise ParameterTableError(f"{patient_path}: no patients")
    params = {k: np.array(v, dtype=float) for k, v in columns.items()}
    for array in params.values():
        array.setflags(write=False)
    x0 = np.array(states, dtype=float)
    x0.setflags(write=False)
    return PatientTable(names=tuple(names), params=params, x0=x0)


def load_patients(
    names: Iterable[str] | None = None, *, params_dir: Path | None = None
) -> PatientTable:
    """The virtual patients from simglucose's tables: all 30 in file order, or the named ones.

    ``params_dir`` replaces the installed package's ``params/`` folder (same file names).
    """
    table = _patient_table(Path(params_dir) if params_dir else simglucose_params_dir())
    if names is None:
        return table.take(np.arange(len(table)))
    return table.select(names)


def patient_names(*, params_dir: Path | None = None) -> tuple[str, ...]:
    """The names of every virtual patient in the table, in file order."""
    return _patient_table(Path(params_dir) if params_dir else simglucose_params_dir()).names


@dataclass(frozen=True)
class SensorSpec:
    """A CGM sensor from sensor_params.csv: sample time (min), clip range, noise parameters.

    The noise is simglucose's: an AR(1) process with coefficient ``PACF`` sampled every
    15 minutes, passed through a Johnson SU transform ``xi + lambda * sinh((e - gamma)/delta)``
    and cubic-interpolated to the sample time.
    """

    name: str
    sample_time: int
    min_mg_dl: float
    max_mg_dl: float
    PACF: float
    gamma: float
    lambda_: float
    delta: float
    xi: float


@dataclass(frozen=True)
class PumpSpec:
    """An insulin pump from pump_params.csv. Increments are in pmol/min, limits in U/min.

    simglucose converts a command to pmol/min (x 6000), rounds it to the increment, converts
    back and clips it to ``[min, max]``; :mod:`mdrisk.impact.pump` does the same.
    """

    name: str
    min_bolus: float
    max_bolus: float
    inc_bolus: float
    min_basal: float
    max_basal: float
    inc_basal: float


def _named_row(path: Path, name: str) -> dict[str, str]:
    rows = _read_rows(path)
    for row in rows:
        if row.get("Name") == name:
            return row
    known = ", ".join(r.get("Name", "?") for r in rows)
    raise ParameterTableError(f"{path}: no row named {name!r}; known: {known}")


def load_sensor(name: str = "Dexcom", *, params_dir: Path | None = None) -> SensorSpec:
    """A CGM sensor by name (Dexcom: 3 min, GuardianRT: 5 min, Navigator: 1 min)."""
    path = (Path(params_dir) if params_dir else simglucose_params_dir()) / SENSOR_FILE
    row = _named_row(path, name)
    sample_time = _float(path, row, "sample_time")
    if sample_time < 1 or sample_time != int(sample_time):
        raise ParameterTableError(f"{path}: {name}: sample_time must be a whole number of minutes")
    return SensorSpec(
        name=name,
        sample_time=int(sample_time),
        min_mg_dl=_float(path, row, "min"),
        max_mg_dl=_float(path, row, "max"),
        PACF=_float(path, row, "PACF"),
        gamma=_float(path, row, "gamma"),
        lambda_=_float(path, row, "lambda"),
        delta=_float(path, row, "delta"),
        xi=_float(path, row, "xi"),
    )


def load_pump(name: str = "Insulet", *, params_dir: Path | None = None) -> PumpSpec:
    """An insulin pump by name (Insulet, Cozmo)."""
    path = (Path(params_dir) if params_dir else simglucose_params_dir()) / PUMP_FILE
    row = _named_row(path, name)
    return PumpSpec(
        name=name,
        **{
            field: _float(path, row, field)
            for field in (
                "min_bolus",
                "max_bolus",
                "inc_bolus",
                "min_basal",
                "max_basal",
                "inc_basal",
            )
        },
    )
