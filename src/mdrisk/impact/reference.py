"""Run the same closed loop in simglucose itself: the reference this simulator is checked against.

Needs the ``sim`` extra (``pip install 'mdrisk[sim]'``): simglucose, with pandas, scipy and
``setuptools<81`` (for ``pkg_resources``). Nothing else in :mod:`mdrisk.impact` imports it.

:func:`run_simglucose` drives ``T1DSimEnv`` with simglucose's own patient, sensor, pump,
``CustomScenario`` and controller, exactly as ``SimObj.simulate`` does, and records the BG
after every minute as well as simglucose's own per-period history. ``noise=False`` gives the
sensor a Johnson transform with zero scale and offset, so every reading is the clipped BG.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from mdrisk.impact.scenario import MealScenario

START = datetime(2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ReferenceRun:
    """simglucose's results for one patient.

    ``bg_per_minute[i]``: BG after minute ``i`` (so at time ``i + 1``), mg/dL.
    ``bg_history``, ``cgm_history``: the environment's per-period history (period means, with
    the value at time 0 first). ``insulin_history``: U/min per period.
    """

    patient_name: str
    bg_per_minute: np.ndarray
    bg_history: np.ndarray
    cgm_history: np.ndarray
    insulin_history: np.ndarray
    seconds: float  # wall time of the simulation loop
    cpu_seconds: float  # CPU time of this process during it


def run_simglucose(
    patient_name: str,
    scenario: MealScenario,
    *,
    duration_min: int = 1440,
    sensor: str = "Dexcom",
    pump: str = "Insulet",
    controller: object | None = None,
    noise: bool = False,
    seed: int = 0,
) -> ReferenceRun:
    """Simulate one patient in simglucose; ``controller`` defaults to its ``BBController()``.

    The scenario's meals are given to ``CustomScenario`` as whole minutes; simglucose tells
    its controller the meals eaten, so a scenario with different ``announced`` entries has no
    simglucose equivalent and is refused.
    """
    import time

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pkg_resources and gym deprecation warnings
        import pandas as pd
        from simglucose.actuator.pump import InsulinPump
        from simglucose.controller.basal_bolus_ctrller import BBController
        from simglucose.patient.t1dpatient import T1DPatient
        from simglucose.sensor.cgm import SENSOR_PARA_FILE, CGMSensor
        from simglucose.simulation.env import T1DSimEnv
        from simglucose.simulation.scenario import CustomScenario
        from simglucose.simulation.sim_engine import SimObj

    if scenario.announced is not None and scenario.announced != scenario.meals:
        raise ValueError(
            "simglucose tells its controller the meals eaten; "
            "a scenario with other carb entries cannot be run there"
        )
    sensor_params = pd.read_csv(SENSOR_PARA_FILE)
    sensor_row = sensor_params.loc[sensor_params.Name == sensor].squeeze().copy()
    if not noise:
        sensor_row["xi"] = 0.0
        sensor_row["lambda"] = 0.0
    meals = [(timedelta(minutes=m.time_min), m.carbs_g) for m in scenario.meals]
    env = T1DSimEnv(
        T1DPatient.withName(patient_name),
        CGMSensor(sensor_row, seed=seed),
        InsulinPump.withName(pump),
        CustomScenario(start_time=START, scenario=meals),
    )
    bg_per_minute: list[float] = []
    inner_step = env.mini_step

    def recording_step(action: object) -> tuple[float, float, float, float]:
        cho, insulin, bg, cgm = inner_step(action)
        bg_per_minute.append(bg)
        return cho, insulin, bg, cgm

    env.mini_step = recording_step
    sim = SimObj(
        env,
        controller if controller is not None else BBController(),
        timedelta(minutes=duration_min),
        animate=False,
    )
    started, started_cpu = time.perf_counter(), time.process_time()
    sim.simulate()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - started_cpu
    return ReferenceRun(
        patient_name=patient_name,
        bg_per_minute=np.array(bg_per_minute),
        bg_history=np.array(env.BG_hist),
        cgm_history=np.array(env.CGM_hist),
        insulin_history=np.array(env.insulin_hist),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
    )
