"""Reading an assessment.json back, in the current layout and in the earlier one."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES

from mdrisk.assessment_file import load_assessment
from mdrisk.errors import InputError
from mdrisk.model import load_model
from mdrisk.pipeline import assess
from mdrisk.report.canonical_json import canonical_dict, canonical_json


def test_an_assessment_json_reads_back_to_the_same_assessment(tmp_path):
    assessment = assess(load_model(EXAMPLES / "bgms.yaml"), created="2026-01-01T00:00:00Z")
    path = tmp_path / "assessment.json"
    path.write_text(canonical_json(assessment), encoding="utf-8")
    assert load_assessment(path) == assessment


def test_an_assessment_json_of_the_earlier_layout_still_loads(tmp_path):
    # Before the assessment carried the device model whole: device {info, components, links}
    # with losses and hazards beside it.
    assessment = assess(load_model(EXAMPLES / "bgms.yaml"), created="2026-01-01T00:00:00Z")
    data = canonical_dict(assessment)
    model = data.pop("device")
    data["device"] = {
        "info": model["device"],
        "components": model["components"],
        "links": model["links"],
    }
    data["losses"], data["hazards"] = model["losses"], model["hazards"]
    path = tmp_path / "assessment.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    # That layout predates the detectors a model declares.
    device = assessment.device.model_copy(update={"detectors": []})
    assert load_assessment(path) == assessment.model_copy(update={"device": device})


def test_loss_scenarios_written_as_pairs_are_refused_with_what_to_do(tmp_path):
    # Before loss-scenario classes: one record per FDI point x UCA, with no family or
    # manipulation. They cannot be turned into classes without analysing the model again.
    assessment = assess(load_model(EXAMPLES / "bgms.yaml"), created="2026-01-01T00:00:00Z")
    data = canonical_dict(assessment)
    data["loss_scenarios"] = [
        {
            "id": "LS-1",
            "fdi_point": data["fdi_points"][0]["id"],
            "ml_engine": "forecaster",
            "ml_input": "cgm_glucose",
            "ml_output": "glucose_forecast",
            "ml_misbehaviour": "returns an estimate that errs",
            "uca": data["ucas"][0]["id"],
            "hazards": ["H-1"],
            "losses": ["L-1"],
            "path": ["cgm_to_app", "forecaster"],
            "text": "False data injected at channel cgm_to_app ...",
        }
    ]
    path = tmp_path / "assessment.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_assessment(path)
    problem = raised.value.problems[0]
    assert problem.field == "loss_scenarios"
    assert "mdrisk analyze" in (problem.fix or "")
