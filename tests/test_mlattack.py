"""Attacks on the device's own model: every produced example within the FDI point's
capability, poisoning measured on held-out rows, the shipped reference model as built."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("art")
pytest.importorskip("skops")

from conftest import EXAMPLES  # noqa: E402

from mdrisk.assessment.stpa import FDIPoint  # noqa: E402
from mdrisk.mlattack.artifact import LoadedArtifact, load_artifact  # noqa: E402
from mdrisk.mlattack.capability import Capability, Reach, capability, inference_entries  # noqa: E402
from mdrisk.mlattack.evaluation import EvaluationSet, load_evaluation  # noqa: E402
from mdrisk.mlattack.evasion import evade_black_box, evade_white_box  # noqa: E402
from mdrisk.mlattack.poisoning import poison  # noqa: E402
from mdrisk.model import load_model, load_model_text  # noqa: E402
from mdrisk.model.schema import Component, DeviceModel, ModelFormat  # noqa: E402
from mdrisk.stpa import analyze_stpa  # noqa: E402

MODEL = EXAMPLES / "breast-cancer.yaml"
MALIGNANT, BENIGN = 0, 1


@cache
def _device() -> tuple[DeviceModel, Component, list[FDIPoint], LoadedArtifact, EvaluationSet]:
    model = load_model(MODEL).model
    engine = model.component("classifier")
    assert engine.ml is not None and engine.ml.artifact is not None
    loaded = load_artifact(engine.ml.artifact, MODEL.parent)
    data = load_evaluation(engine.ml.artifact, MODEL.parent)
    return model, engine, analyze_stpa(model).fdi_points, loaded, data


def _capabilities(reach: Reach) -> dict[str, Capability]:
    model, engine, points, _, data = _device()
    return {
        key[0]: capability(model, engine, key, reached, data.features, reach, 400)
        for key, reached in inference_entries(points, engine.id).items()
    }


def _cases(actual: int, count: int) -> np.ndarray:
    _, _, _, loaded, data = _device()
    rows = data.features[data.held_out & (data.labels == actual)]
    return rows[loaded.predict(rows) == actual][:count]


def _assert_within(clean: np.ndarray, produced: np.ndarray, cap: Capability) -> None:
    """The capability checked from scratch (not through constraints.violations)."""
    assert produced.shape == clean.shape
    np.testing.assert_array_equal(produced[:, ~cap.controlled], clean[:, ~cap.controlled])
    changed = produced != clean
    tolerance = 1e-6 * np.maximum(np.abs(cap.high), 1.0)
    assert not (changed & (produced < cap.low - tolerance)).any()
    assert not (changed & (produced > cap.high + tolerance)).any()
    for order, steps in cap.rates:
        moved = changed[:, order]
        pairs = moved[:, 1:] | moved[:, :-1]
        taken = np.abs(np.diff(produced[:, order], axis=1))
        assert not (pairs & (taken > steps + 1e-6)).any()


def test_a_channel_controls_only_the_features_made_from_what_it_carries():
    caps = _capabilities(Reach.released)
    model, engine, *_ = _device()
    assert engine.ml is not None and engine.ml.artifact is not None
    signal_of = {f.name: f.signal for f in engine.ml.artifact.features}
    calibration = caps["calibration_to_workstation"].constraints
    assert calibration is not None
    assert {signal_of[f] for f in calibration.controlled_features} == {"nucleus_size"}
    assert len(calibration.controlled_features) == 9
    stain = caps["stain_reference_to_workstation"].constraints
    assert stain is not None and len(stain.controlled_features) == 3
    assert len(caps["camera_to_workstation"].controlled) == 30
    # the released device's size check bounds the size features to the validated span
    assert calibration.detectors == ["size_plausibility"]
    _, _, _, _, data = _device()
    size = [i for i, f in enumerate(engine.ml.artifact.features) if f.signal == "nucleus_size"]
    np.testing.assert_array_equal(
        caps["calibration_to_workstation"].high[size], data.features[:, size].max(axis=0)
    )


@pytest.mark.parametrize("reach", [Reach.released, Reach.declared])
def test_every_white_box_example_stays_within_the_point_s_capability(reach):
    _, _, _, loaded, data = _device()
    for element, cap in _capabilities(reach).items():
        for actual, target in ((MALIGNANT, BENIGN), (BENIGN, MALIGNANT)):
            clean = _cases(actual, 8)
            outcome = evade_white_box(loaded, cap, clean, target, data.features, 400, seed=3)
            assert outcome is not None, element
            _assert_within(clean, outcome.produced, cap)
            assert outcome.violated.sum() == 0
            assert outcome.queries > 0
            predicted = loaded.predict(outcome.produced)
            np.testing.assert_array_equal(outcome.succeeded, predicted == target)


def test_every_black_box_example_stays_within_the_point_s_capability():
    _, _, _, loaded, data = _device()
    caps = _capabilities(Reach.declared)
    for element in ("calibration_to_workstation", "camera_to_workstation"):
        cap = caps[element]
        clean = _cases(MALIGNANT, 3)
        outcome = evade_black_box(
            loaded, cap, clean, BENIGN, data.features, data.labels, 200, seed=5
        )
        _assert_within(clean, outcome.produced, cap)
        assert outcome.queries > 0
        assert outcome.successes <= 3


def test_evasion_is_repeatable_with_its_seed():
    _, _, _, loaded, data = _device()
    cap = _capabilities(Reach.released)["camera_to_workstation"]
    clean = _cases(MALIGNANT, 2)
    runs = [
        evade_black_box(loaded, cap, clean, BENIGN, data.features, data.labels, 120, seed=9)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].produced, runs[1].produced)
    assert runs[0].queries == runs[1].queries


SERIES_MODEL = """
device: {name: Series test device}
components:
  - {id: sensor, name: Sensor, kind: sensor}
  - {id: pump, name: Pump, kind: actuator}
  - {id: patient, name: Patient, kind: controlled_process}
  - id: engine
    name: Engine
    kind: ml_engine
    ml:
      task: Classify a glucose trend
      task_type: classification
      inputs:
        - {signal: cgm, range: [40, 400]}
        - {signal: carbs, range: [0, 200]}
      outputs: [trend]
      artifact:
        file: series.skops
        format: skops
        classes: [falling, rising]
        features:
          - {name: cgm_30, signal: cgm, lag_min: 30}
          - {name: cgm_20, signal: cgm, lag_min: 20}
          - {name: cgm_10, signal: cgm, lag_min: 10}
          - {name: cgm_0, signal: cgm, lag_min: 0}
          - {name: carbs, signal: carbs}
links:
  - {id: sensor_to_engine, from: sensor, to: engine, kind: data, carries: [cgm, carbs]}
detectors:
  - {id: cgm_rate, kind: rate, signal: cgm, parameters: {max_per_min: 2}}
  - {id: cgm_range, kind: range, signal: cgm, parameters: {low: 60, high: 300}}
"""


def test_rate_limits_and_ranges_hold_on_a_series():
    from sklearn.linear_model import LogisticRegression

    model = load_model_text(SERIES_MODEL).model
    engine = model.component("engine")
    rng = np.random.default_rng(0)
    start = rng.uniform(90, 250, size=400)
    slope = rng.uniform(-2, 2, size=400)
    series = np.stack([start + slope * (30 - lag) for lag in (30, 20, 10, 0)], axis=1)
    features = np.hstack([series, rng.uniform(0, 80, size=(400, 1))])
    labels = (slope > 0).astype(int)
    regression = LogisticRegression(max_iter=2000).fit(features, labels)
    loaded = LoadedArtifact(
        "series.skops", ModelFormat.skops, 5, regression.predict_proba, regression
    )
    points = [p for p in analyze_stpa(model).fdi_points if p.element == "sensor_to_engine"]
    cap = capability(
        model, engine, ("sensor_to_engine", "link"), points, features, Reach.released, 400
    )
    assert cap.constraints is not None
    assert cap.constraints.rate_limits[0].features == ["cgm_30", "cgm_20", "cgm_10", "cgm_0"]
    assert sorted(cap.constraints.detectors) == ["cgm_range", "cgm_rate"]
    # the attacker reaches both inputs; the series is bound by 2 mg/dL/min x 10 min steps
    falling = features[(labels == 0) & (regression.predict(features) == 0)][:10]
    white = evade_white_box(loaded, cap, falling, 1, features, 400, seed=1)
    black = evade_black_box(loaded, cap, falling[:3], 1, features, labels, 300, seed=1)
    assert white is not None
    for outcome, clean in ((white, falling), (black, falling[:3])):
        _assert_within(clean, outcome.produced, cap)
        steps = np.abs(np.diff(outcome.produced[:, :4], axis=1))
        changed = outcome.produced[:, :4] != clean[:, :4]
        pairs = changed[:, 1:] | changed[:, :-1]
        assert (steps[pairs] <= 20 + 1e-6).all()
    assert white.successes > 0


def test_poisoning_is_measured_on_held_out_rows():
    from sklearn.base import clone

    _, _, _, loaded, data = _device()
    caps = _capabilities(Reach.released)
    flipping = poison(loaded.estimator, data, MALIGNANT, BENIGN, 0.3, seed=2)
    honest = clone(loaded.estimator).fit(
        data.features[data.trained_on], data.labels[data.trained_on]
    )
    held_x, held_y = data.features[data.held_out], data.labels[data.held_out]
    assert flipping.clean_accuracy == pytest.approx(
        float((honest.predict(held_x) == held_y).mean())
    )
    victims = (held_y == MALIGNANT) & (honest.predict(held_x) == MALIGNANT)
    assert flipping.examples == int(victims.sum()) > 0
    assert flipping.poisoned_rows == round(0.3 * data.trained_on.sum())
    assert flipping.successes > 0  # a third more malignant cases labelled benign does harm
    assert flipping.attacked_accuracy < flipping.clean_accuracy
    backdoor = poison(
        loaded.estimator,
        data,
        MALIGNANT,
        BENIGN,
        0.1,
        seed=2,
        backdoor=caps["stain_reference_to_workstation"],
    )
    assert backdoor.violations == 0
    assert backdoor.examples == flipping.examples
    # the trigger flips most triggered malignant cases while clean accuracy barely moves
    assert backdoor.successes / backdoor.examples > 0.5
    assert backdoor.attacked_accuracy >= backdoor.clean_accuracy - 0.05


def test_the_shipped_reference_model_is_what_the_script_builds(tmp_path: Path):
    import skops.io

    from mdrisk.mlattack.reference_model import EVALUATION_FILE, MODEL_FILE, build

    built = build()
    shipped_dir = MODEL.parent / "models"
    assert (shipped_dir / EVALUATION_FILE).read_text(encoding="utf-8") == built.evaluation
    rebuilt = skops.io.loads(built.model, trusted=[])
    _, _, _, loaded, data = _device()
    assert loaded.file.endswith(MODEL_FILE)
    np.testing.assert_array_equal(loaded.predict(data.features), rebuilt.predict(data.features))
    np.testing.assert_allclose(
        loaded.predict_proba(data.features), rebuilt.predict_proba(data.features), atol=1e-12
    )
    accuracy = float(
        (loaded.predict(data.features[data.held_out]) == data.labels[data.held_out]).mean()
    )
    assert accuracy == pytest.approx(built.test_accuracy) == pytest.approx(0.9825, abs=1e-4)
