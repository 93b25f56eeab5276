"""The signed influence of each ML input, measured on the engine's own model file.

STPA's direction rules (``stpa.signed``) need to know whether a higher value of an input
moves the output up or down. The device model declares it (``ml.inputs[].effect``); a model
file lets us measure it: every feature made from one input is moved up together by a quarter
of its standard deviation in the evaluation data, on every evaluation row, and the change of
the output is read (a regression's value; a classifier's probability of ``positive_class``,
the class a higher output means). The input ``increases`` the output when at least
``AGREEMENT`` of the rows that change go up (and the mean change is up), ``decreases``
likewise down, ``non_monotonic`` when the rows disagree, and ``none`` when no row changes.

A classifier that names no ``positive_class`` is not measured: which way is "up" is the
analyst's to say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdrisk.mlattack.artifact import LoadedArtifact, load_artifact
from mdrisk.mlattack.evaluation import EvaluationSet, load_evaluation
from mdrisk.model.schema import DeviceModel, Effect, ModelArtifact

STEP_SD = 0.25  # the probe: each feature of the input moved up by this many deviations
AGREEMENT = 0.9  # share of the changing rows that must move the same way
TOLERANCE = 1e-9  # a smaller change of the output is no change


@dataclass(frozen=True)
class MeasuredInfluence:
    """How raising one input moved the output over the evaluation rows."""

    engine: str
    signal: str
    output: str  # what was read: "P(<class>)" or "value"
    up: float  # share of rows whose output rose
    down: float  # share of rows whose output fell
    mean_change: float
    effect: Effect


def _output(spec: ModelArtifact, task: str) -> tuple[str, int] | None:
    """What is read from the model's answer, and its column; None when not measurable."""
    if task == "classification":
        if spec.positive_class is None:
            return None
        return f"P({spec.positive_class})", spec.classes.index(spec.positive_class)
    if task in ("regression", "forecasting"):
        return "value", 0
    return None


def _effect(up: float, down: float, mean_change: float) -> Effect:
    moved = up + down
    if moved == 0:
        return Effect.none
    if up >= AGREEMENT * moved and mean_change > 0:
        return Effect.increases
    if down >= AGREEMENT * moved and mean_change < 0:
        return Effect.decreases
    return Effect.non_monotonic


def measure_influence(
    engine: str,
    spec: ModelArtifact,
    task: str,
    loaded: LoadedArtifact,
    evaluation: EvaluationSet,
) -> list[MeasuredInfluence]:
    """The measured effect of every input the model file's features are made from."""
    read = _output(spec, task)
    if read is None:
        return []
    output, column = read
    rows = evaluation.features
    spread = rows.std(axis=0)
    before = loaded.predict_proba(rows)[:, column]
    found = []
    for signal in dict.fromkeys(f.signal for f in spec.features):
        columns = [i for i, f in enumerate(spec.features) if f.signal == signal]
        probe = rows.copy()
        probe[:, columns] += STEP_SD * spread[columns]
        change = loaded.predict_proba(probe)[:, column] - before
        up = float(np.mean(change > TOLERANCE))
        down = float(np.mean(change < -TOLERANCE))
        mean = float(change.mean())
        found.append(
            MeasuredInfluence(engine, signal, output, up, down, mean, _effect(up, down, mean))
        )
    return found


def declared_effect(device: DeviceModel, engine: str, signal: str) -> Effect | None:
    """The effect the device model declares for ``signal`` into ``engine`` (one effect for
    every output), or None when it declares none or one per output that differ."""
    for component in device.components:
        if component.id != engine or component.ml is None:
            continue
        for ml_input in component.ml.inputs:
            if ml_input.signal != signal:
                continue
            effect = ml_input.effect
            if isinstance(effect, Mapping):
                distinct = set(effect.values())
                return next(iter(distinct)) if len(distinct) == 1 else None
            return effect
    return None


def with_measured_effects(device: DeviceModel, measured: list[MeasuredInfluence]) -> DeviceModel:
    """A copy of ``device`` whose ML inputs carry the effects measured on their engine's
    model file in place of the declared ones (inputs not measured keep theirs), so that
    scenario generation follows the model as trained, not as described."""
    by_input = {(m.engine, m.signal): m.effect for m in measured}
    components = []
    for component in device.components:
        if component.ml is None or not any(key[0] == component.id for key in by_input):
            components.append(component)
            continue
        inputs = [
            ml_input.model_copy(update={"effect": by_input[(component.id, ml_input.signal)]})
            if (component.id, ml_input.signal) in by_input
            else ml_input
            for ml_input in component.ml.inputs
        ]
        ml = component.ml.model_copy(update={"inputs": inputs})
        components.append(component.model_copy(update={"ml": ml}))
    return device.model_copy(update={"components": components})


def influence_of_device(device: DeviceModel, base: Path) -> list[MeasuredInfluence]:
    """The measured influence of every input of every engine whose model file and
    evaluation data the device model names (``base``: the model file's folder)."""
    found: list[MeasuredInfluence] = []
    for component in device.components:
        ml = component.ml
        if ml is None or ml.artifact is None or ml.artifact.evaluation is None:
            continue
        loaded = load_artifact(ml.artifact, base)
        evaluation = load_evaluation(ml.artifact, base)
        found += measure_influence(component.id, ml.artifact, ml.task_type, loaded, evaluation)
    return found


def influence_checks(
    device: DeviceModel, measured: list[MeasuredInfluence]
) -> list[tuple[str, str, str, list[str], str]]:
    """(rule, severity, message, elements, fix) for every input whose declared effect
    differs from the measured one: the analysis followed the measurement."""
    checks = []
    for m in measured:
        declared = declared_effect(device, m.engine, m.signal)
        if declared is m.effect:
            continue
        shown = declared.value if declared is not None else "one effect per output"
        checks.append(
            (
                "measured-influence",
                "warning",
                f"{m.engine}: raising {m.signal} moves {m.output} {m.effect.value.replace('_', ' ')}"
                f" on the model file ({100 * m.up:.0f} % of evaluation rows up, "
                f"{100 * m.down:.0f} % down), but the device model declares "
                f"'{shown}'; the loss scenarios follow the measurement",
                [m.engine],
                f"correct ml.inputs[{m.signal}].effect, or the model if it should be {shown}",
            )
        )
    return checks
