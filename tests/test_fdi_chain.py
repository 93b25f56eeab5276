"""A long chain of relays in front of a sensor (hostile input m21): every FDI point's stored
path is bounded, its elided middle says how many hops it stands for, and the assessment
grows linearly with the chain, not with its square (2,000 relays took 3 GB and wrote 700 MB)."""

from __future__ import annotations

import time

import yaml
from conftest import EXAMPLES

from mdrisk.model import load_model_text
from mdrisk.pipeline import assess
from mdrisk.report.canonical_json import canonical_json
from mdrisk.stpa import analyze_stpa
from mdrisk.stpa.fdi import ELIDED, MAX_PATH_STEPS


def _chain_model(relays: int) -> str:
    """bgms with ``relays`` gateways relaying the CGM glucose into the sensor, as m21 does."""
    model = yaml.safe_load((EXAMPLES / "bgms.yaml").read_text(encoding="utf-8"))
    for index in range(relays):
        model["components"].append(
            {"id": f"relay{index}", "name": f"relay {index}", "kind": "gateway"}
        )
        model["links"].append(
            {
                "id": f"rl{index}",
                "from": f"relay{index}",
                "to": f"relay{index - 1}" if index else "cgm_sensor",
                "kind": "data",
                "carries": ["cgm_glucose"],
            }
        )
    return yaml.safe_dump(model, sort_keys=False)


def _true_length(relay: int) -> int:
    """relayN -> rlN -> ... -> relay0 -> rl0 -> cgm_sensor -> (the bgms path to the engine)."""
    return 2 * (relay + 1)


def test_paths_are_bounded_and_the_elided_middle_counts_the_hidden_hops():
    model = load_model_text(_chain_model(60)).model
    points = [p for p in analyze_stpa(model).fdi_points if p.target == "inference_input"]
    assert all(len(p.path) <= MAX_PATH_STEPS for p in points)
    far = next(p for p in points if p.element == "relay59" and p.ml_input == "cgm_glucose")
    near = next(p for p in points if p.element == "relay2" and p.ml_input == "cgm_glucose")
    sensor = next(p for p in points if p.element == "cgm_sensor" and p.ml_input == "cgm_glucose")
    assert not any(step.element_type == ELIDED for step in near.path)
    elided = [step for step in far.path if step.element_type == ELIDED]
    assert len(elided) == 1
    shown = len(far.path) - 1
    hidden = int(elided[0].element.split()[0].lstrip("("))
    assert shown + hidden == _true_length(59) + len(sensor.path)
    # Both ends are the real ones: the entry point first, the engine last.
    assert [s.element for s in far.path[:3]] == ["relay59", "rl59", "relay58"]
    assert far.path[-1] == sensor.path[-1]
    assert far.path[-3:] == sensor.path[-3:]


def _assessment_size(relays: int) -> int:
    loaded = load_model_text(_chain_model(relays))
    return len(canonical_json(assess(loaded, created="2026-01-01T00:00:00Z")))


def test_the_assessment_grows_linearly_with_the_chain():
    started = time.monotonic()
    base = _assessment_size(0)
    short, long = _assessment_size(250) - base, _assessment_size(1000) - base
    assert time.monotonic() - started < 60
    # Four times the relays: about four times the size (it was sixteen).
    assert long < 5 * short
