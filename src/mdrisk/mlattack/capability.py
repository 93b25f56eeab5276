"""The attacker's capability at each false-data injection point, from the STPA stage.

An attacker at one element controls the features made from the ML inputs that element
reaches (a channel carrying signal X controls only the features made from X), within what
the input can hold (the feature's or the input's declared ``range``) and what the device's
declared detectors let pass: a range detector bounds the signal's features (its low/high,
or, where it gives none, the values seen in the evaluation data), a rate detector bounds
consecutive readings of a series (features with ``lag_min``). Other detectors have no such
form and are listed as not translated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from mdrisk.assessment.ml_attacks import AttackConstraints, FeatureBound, RateBound
from mdrisk.assessment.stpa import FDIPoint
from mdrisk.model.schema import (
    Component,
    Detector,
    DetectorKind,
    DetectorStatus,
    DeviceModel,
    ModelArtifact,
)


class Reach(StrEnum):
    """Which constraints an attack honours (the benchmark compares them)."""

    unconstrained = "unconstrained"  # every feature, within what it can hold
    stpa = "stpa"  # the features the point reaches, their ranges, no detector
    released = "released"  # plus the detectors implemented in the device
    declared = "declared"  # plus every declared detector, proposed ones too


@dataclass(frozen=True)
class Capability:
    element: str
    element_type: str
    fdi_points: list[str]
    ml_inputs: list[str]
    controlled: np.ndarray  # bool per feature
    low: np.ndarray  # per feature; an uncontrolled feature keeps its clean value
    high: np.ndarray
    # (feature indices oldest first, largest change between each and the next)
    rates: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    constraints: AttackConstraints | None = None


def _detectors(model: DeviceModel, reach: Reach) -> list[Detector]:
    if reach in (Reach.unconstrained, Reach.stpa):
        return []
    if reach == Reach.released:
        return [d for d in model.detectors if d.status == DetectorStatus.implemented]
    return list(model.detectors)


def feature_ranges(engine: Component, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What each feature can hold: its declared range, else its input's, else the span of
    the evaluation data."""
    assert engine.ml is not None and engine.ml.artifact is not None
    inputs = {ml_input.signal: ml_input for ml_input in engine.ml.inputs}
    low = data.min(axis=0).astype(float)
    high = data.max(axis=0).astype(float)
    for index, feature in enumerate(engine.ml.artifact.features):
        declared = feature.range or inputs[feature.signal].range
        if declared is not None:
            low[index], high[index] = declared
    return low, high


def capability(
    model: DeviceModel,
    engine: Component,
    element: tuple[str, str],
    points: list[FDIPoint],
    data: np.ndarray,
    reach: Reach,
    budget: int,
    protections: list[str] | None = None,
) -> Capability:
    """The capability of an attacker at ``element`` (id, type) reaching the engine through
    ``points``; ``data``: the evaluation features (for spans and undeclared ranges)."""
    assert engine.ml is not None and engine.ml.artifact is not None
    artifact: ModelArtifact = engine.ml.artifact
    signals = sorted({p.ml_input for p in points})
    names = [f.name for f in artifact.features]
    feature_signal = [f.signal for f in artifact.features]
    if reach == Reach.unconstrained:
        controlled = np.ones(len(names), dtype=bool)
    else:
        controlled = np.array([s in signals for s in feature_signal], dtype=bool)
    low, high = feature_ranges(engine, data)
    span_low, span_high = data.min(axis=0), data.max(axis=0)
    translated: list[str] = []
    untranslated: list[str] = []
    rates: list[tuple[np.ndarray, np.ndarray]] = []
    rate_records: list[RateBound] = []
    for detector in _detectors(model, reach):
        members = [i for i, s in enumerate(feature_signal) if s == detector.signal]
        if not members or not controlled[members].any():
            continue
        settings = detector.settings()
        given = detector.parameters.given()
        if detector.kind == DetectorKind.range:
            for i in members:
                if "low" in given or "high" in given:
                    low[i] = max(low[i], settings["low"])
                    high[i] = min(high[i], settings["high"])
                else:
                    low[i] = max(low[i], span_low[i])
                    high[i] = min(high[i], span_high[i])
            translated.append(detector.id)
        elif detector.kind == DetectorKind.rate and all(
            artifact.features[i].lag_min is not None for i in members
        ):
            order = sorted(members, key=lambda i: -(artifact.features[i].lag_min or 0.0))
            lags = np.array([artifact.features[i].lag_min or 0.0 for i in order])
            steps = settings["max_per_min"] * (lags[:-1] - lags[1:])
            rates.append((np.array(order), steps))
            rate_records.append(
                RateBound(
                    signal=detector.signal,
                    max_per_min=settings["max_per_min"],
                    features=[names[i] for i in order],
                    detector=detector.id,
                )
            )
            translated.append(detector.id)
        else:
            untranslated.append(detector.id)
    high = np.maximum(high, low)
    record = AttackConstraints(
        controlled_features=[n for n, c in zip(names, controlled, strict=True) if c],
        bounds=[
            FeatureBound(
                feature=names[i], signal=feature_signal[i], low=float(low[i]), high=float(high[i])
            )
            for i in range(len(names))
            if controlled[i]
        ],
        rate_limits=rate_records,
        detectors=translated,
        detectors_not_translated=untranslated,
        query_budget=budget,
        protections=protections or [],
    )
    return Capability(
        element=element[0],
        element_type=element[1],
        fdi_points=sorted(p.id for p in points),
        ml_inputs=signals,
        controlled=controlled,
        low=low,
        high=high,
        rates=rates,
        constraints=record,
    )


def inference_entries(
    points: list[FDIPoint], engine_id: str
) -> dict[tuple[str, str], list[FDIPoint]]:
    """The engine's inference-input FDI points grouped by element (id, type), in order."""
    grouped: dict[tuple[str, str], list[FDIPoint]] = {}
    for point in points:
        if point.ml_engine == engine_id and point.target == "inference_input":
            grouped.setdefault((point.element, point.element_type), []).append(point)
    return grouped
