"""Evasion of a glucose forecaster measured in the closed loop, as ``ml_attacks`` records.

A device whose ML engine takes the CGM reading the glucose simulator stands for (the impact
mapping says which device signal that is) has no model file to attack: its forecaster is the
one the simulator trains, gradient-boosted trees as the device declares, each patient
forecast by a model trained without them (:mod:`mdrisk.impact.evasion`). The attacker sits on
the FDI points that carry that reading and forges it, within each constraint set the device
gives (its declared range and rate detector, physiology, its residual detectors); the harm of
every patient-day comes from the attacked model in the loop, not from a bias on its output.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mdrisk.assessment.ml_attacks import AttackConstraints, FeatureBound, MLAttack, RateBound
from mdrisk.assessment.stpa import FDIPoint, LossScenario
from mdrisk.model.schema import DeviceModel

SIMULATED_CGM = "cgm"  # the simulator's signal, as the impact mapping names it
ATLAS = ["AML.T0043.000", "AML.T0015"]  # white-box: the attacker knows the trees


def cgm_input(inputs: dict[str, dict[str, Any]]) -> str | None:
    """The device signal the impact mapping's ``inputs`` simulate as the CGM reading."""
    return next(
        (name for name, entry in inputs.items() if entry.get("signal") == SIMULATED_CGM), None
    )


def _entry(points: list[FDIPoint], signal: str, scenarios: list[LossScenario]) -> FDIPoint:
    """The FDI point the loss-scenario classes that raise ``signal`` stand on (the most
    exposed of their path), else a link with the fewest protections."""
    represented = {s.element for s in scenarios if s.signal == signal and s.manipulation == "raise"}
    return min(
        points,
        key=lambda p: (
            p.element not in represented,
            p.element_type != "link",
            len(p.protections),
            p.element,
        ),
    )


def _raising_hazards(signal: str, scenarios: list[LossScenario]) -> list[str]:
    """The hazards of the loss-scenario classes that raise ``signal`` (the push the attacker
    makes: a forecast past the correction threshold)."""
    return sorted(
        {
            h
            for s in scenarios
            if s.signal == signal and s.manipulation == "raise"
            for h in s.hazards
        }
    )


def closed_loop_attacks(
    device: DeviceModel,
    fdi_points: list[FDIPoint],
    scenarios: list[LossScenario],
    inputs: dict[str, dict[str, Any]],
    seed: int = 1,
    patients: tuple[str, ...] | None = None,
) -> list[MLAttack]:
    """One record per constraint set the device gives its CGM attacker (none when no ML
    engine takes the simulated CGM reading), on ``patients`` (default: the 30 evaluation
    patients)."""
    signal = cgm_input(inputs)
    points = [p for p in fdi_points if signal is not None and p.ml_input == signal]
    if signal is None or not points:
        return []
    from mdrisk.impact.evasion.capability import cgm_capabilities
    from mdrisk.impact.evasion.closed_loop import CLEAN, run_evasion, setup_for
    from mdrisk.impact.evasion.models import held_out_models
    from mdrisk.impact.evasion.records import cohort_harm
    from mdrisk.stable_ids import stable_id

    entry = _entry(points, signal, scenarios)
    capabilities = cgm_capabilities(device, signal, entry.element)
    setup = setup_for(device, signal, seed=seed, **({"patients": patients} if patients else {}))
    runs = run_evasion(held_out_models("gbt"), list(capabilities.values()), setup)
    threshold = setup.goal.threshold
    hazards = _raising_hazards(signal, scenarios)
    detectors = sorted(d.id for d in device.detectors if d.signal == signal)
    records = []
    for name, capability in capabilities.items():
        if name == CLEAN or name not in runs.blocks:
            continue
        block = runs.blocks[name]
        offsets = block.window_offsets
        rate = (
            []
            if math.isinf(capability.max_rate)
            else [
                RateBound(
                    signal=signal,
                    max_per_min=capability.max_rate,
                    features=[signal],
                    detector=name,
                )
            ]
        )
        records.append(
            MLAttack(
                id=stable_id("MLA", "evasion_closed_loop", entry.ml_engine, entry.element, name),
                attack="evasion_closed_loop",
                method=(
                    f"forged {signal} readings, at each correction decision the reading "
                    f"closest to the true one that puts the forecast at {threshold:g} mg/dL or "
                    "more (exhaustive search, 1 mg/dL apart: the trees give no gradient); "
                    f"constraints '{name}'"
                ),
                atlas=ATLAS,
                ml_engine=entry.ml_engine,
                element=entry.element,
                fdi_points=sorted(p.id for p in points),
                target=f"forecast >= {threshold:g} mg/dL at a correction decision",
                hazards=hazards,
                constraints=AttackConstraints(
                    controlled_features=list(capability.features),
                    bounds=[
                        FeatureBound(
                            feature=signal, signal=signal, low=capability.low, high=capability.high
                        )
                    ],
                    rate_limits=rate,
                    detectors=detectors if name in ("detector", "stealthy") else [],
                    query_budget=block.queries,
                ),
                status="run",
                examples=block.decisions,
                successes=block.pushed,
                success_rate=round(block.success_rate, 4),
                perturbation=round(float(np.median(offsets)), 2) if len(offsets) else None,
                perturbation_unit="mg/dL",
                queries=block.queries,
                library="scikit-learn HistGradientBoostingRegressor, held out by patient; "
                "mdrisk closed-loop simulator",
                seed=seed,
                harm=cohort_harm(runs, name),
            )
        )
    return records


def stand_in_influence_checks(
    device: DeviceModel, inputs: dict[str, dict[str, Any]]
) -> list[tuple[str, str, str, list[str], str]]:
    """(rule, severity, message, elements, fix) for every ML input whose effect, measured on
    the forecaster the simulator trains in the device's place, differs from the declared one.
    The device names no model file, so the analysis keeps its declaration: the check says
    what to verify on the real model."""
    if cgm_input(inputs) is None:
        return []
    from mdrisk.impact.evasion.accuracy import evaluation_data
    from mdrisk.impact.evasion.influence import (
        disagreements,
        measure_influence,
        measured_effects,
    )
    from mdrisk.impact.evasion.models import held_out_models

    measured = measure_influence(held_out_models("gbt"), evaluation_data())
    decisive = {m.signal: m for m in measured if m.decisive}
    engines = [c.id for c in device.components if c.ml is not None]
    checks = []
    for signal, declared, found in disagreements(device, measured_effects(measured)):
        probe = decisive[signal]
        checks.append(
            (
                "measured-influence",
                "info",
                f"raising {signal} moves the forecast {found.replace('_', ' ')} on the "
                f"gradient-boosted forecaster the simulator trains in the device's place "
                f"({100 * probe.rows_up:.0f} % of evaluation rows up, "
                f"{100 * probe.rows_down:.0f} % down), where the device model declares "
                f"'{declared}'; the analysis keeps the declaration (the device names no model "
                "file)",
                engines,
                f"check the device's own model for the same: a forecaster trained without a "
                f"monotonic constraint on {signal} can learn it; if it does, declare "
                f"'{found}' (more loss scenarios) or constrain the model",
            )
        )
    return checks
