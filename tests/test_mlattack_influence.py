"""The signed influence of each ML input, measured on the engine's model file, and the loss
scenarios following the measurement where the device model declares otherwise."""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("skops")

from conftest import EXAMPLES  # noqa: E402

from mdrisk.errors import InputError  # noqa: E402
from mdrisk.mlattack.influence import (  # noqa: E402
    influence_checks,
    influence_of_device,
    with_measured_effects,
)
from mdrisk.model import load_model, load_model_text  # noqa: E402
from mdrisk.model.schema import Effect  # noqa: E402
from mdrisk.stpa import analyze_stpa  # noqa: E402

MODEL = EXAMPLES / "breast-cancer.yaml"


def _classes(device) -> set[tuple]:
    return {
        (s.family, s.element, s.signal, s.manipulation, s.uca_type, tuple(s.hazards))
        for s in analyze_stpa(device).loss_scenarios
    }


def test_every_nucleus_feature_raises_the_probability_of_malignancy_as_declared():
    device = load_model(MODEL).model
    measured = influence_of_device(device, MODEL.parent)
    assert {m.signal for m in measured} == {"nucleus_size", "nucleus_shape", "nucleus_texture"}
    for m in measured:
        assert m.output == "P(malignant)"
        assert m.effect is Effect.increases
        assert m.up > 0.9 and m.down == 0.0 and m.mean_change > 0
    assert influence_checks(device, measured) == []


def test_a_wrong_declaration_is_flagged_and_the_scenarios_follow_the_model_file():
    # The reference device's pathologist signs out a diagnosis whichever way the call goes
    # (non-monotonic demand), so no class turns on the sign; here the action is one that a
    # higher suspicion calls for, as a referral for excision would be.
    text = MODEL.read_text("utf-8").replace(
        "demand: {lesion_status: non_monotonic, report_state: increases}",
        "demand: {lesion_status: increases, report_state: increases}",
    )
    device = load_model_text(text, str(MODEL)).model
    measured = influence_of_device(device, MODEL.parent)
    texture = next(m for m in measured if m.signal == "nucleus_texture")
    declared_wrong = with_measured_effects(
        device, [dataclasses.replace(texture, effect=Effect.decreases)]
    )
    assert _classes(declared_wrong) != _classes(device)  # the declaration matters

    checks = influence_checks(declared_wrong, measured)
    assert len(checks) == 1
    rule, severity, message, elements, fix = checks[0]
    assert (rule, severity, elements) == ("measured-influence", "warning", ["classifier"])
    assert "nucleus_texture" in message and "'decreases'" in message
    corrected = with_measured_effects(declared_wrong, measured)
    assert _classes(corrected) == _classes(device)


def test_a_classifier_without_a_positive_class_is_not_measured():
    text = MODEL.read_text("utf-8").replace("        positive_class: malignant", "        #")
    device = load_model_text(text, str(MODEL)).model
    assert influence_of_device(device, MODEL.parent) == []


def test_a_positive_class_that_is_no_class_is_refused_at_its_line():
    text = MODEL.read_text("utf-8").replace(
        "positive_class: malignant", "positive_class: cancerous"
    )
    with pytest.raises(InputError) as refused:
        load_model_text(text, str(MODEL))
    shown = str(refused.value)
    assert "positive_class 'cancerous' is not one of classes" in shown
    assert "malignant, benign" in shown
