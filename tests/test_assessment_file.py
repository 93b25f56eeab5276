"""Reading an assessment.json back, in the current layout and in the earlier one."""

from __future__ import annotations

import json

from conftest import EXAMPLES

from mdrisk.assessment_file import load_assessment
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
    assert load_assessment(path) == assessment
