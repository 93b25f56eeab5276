"""The generator of large device models: valid, of the size asked, deterministic, cyclic, and
analysable end to end. Speed is the benchmark's business (benchmarks/run.py), not these tests'."""

from __future__ import annotations

import pytest

from mdrisk.model import load_model_text
from mdrisk.model.generate import generate_model, model_to_yaml
from mdrisk.model.integrity import structural_problems
from mdrisk.model.schema import ComponentKind, DeviceModel, LinkKind
from mdrisk.pipeline import assess
from mdrisk.stpa.fdi import MODEL_UPDATE_INPUT

CREATED = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def mid_size_assessment():
    model = generate_model(200, 600, seed=0)
    return model, assess(load_model_text(model_to_yaml(model), "generated.yaml"), created=CREATED)


@pytest.mark.parametrize(
    ("components", "links", "engines"),
    [(9, 30, 1), (60, 180, None), (200, 600, None), (200, 900, 6), (1000, 3000, None)],
)
def test_generated_model_is_valid_and_of_the_size_asked(components, links, engines):
    model = generate_model(components, links, seed=components, ml_engines=engines)
    assert len(model.components) == components
    assert len(model.links) == links
    assert len(model.ml_engines) == (engines or max(1, components // 50))
    assert structural_problems(model) == []
    # Through the real loader, from text, as a user's file would go.
    assert load_model_text(model_to_yaml(model), "generated.yaml").model == model


def test_generated_model_is_realistic():
    model = generate_model(300, 900, seed=1)
    kinds = {c.kind for c in model.components}
    assert {
        ComponentKind.sensor,
        ComponentKind.gateway,
        ComponentKind.app,
        ComponentKind.cloud,
        ComponentKind.ml_engine,
        ComponentKind.controller,
        ComponentKind.actuator,
        ComponentKind.controlled_process,
        ComponentKind.human,
    } <= kinds
    assert {link.kind for link in model.links} == set(LinkKind)
    control_actions = [
        s for link in model.links if link.kind == LinkKind.control_action for s in link.carries
    ]
    assert any(signal.hazards for signal in control_actions)
    assert any(signal.unsafe_when for signal in control_actions)
    for engine in model.ml_engines:
        assert engine.ml is not None
        assert engine.ml.update_path, f"{engine.id} has no update path"
        assert engine.ml.training_data
    hazard_losses = {loss for hazard in model.hazards for loss in hazard.losses}
    assert hazard_losses == {loss.id for loss in model.losses}


def test_same_seed_same_model_other_seed_other_model():
    first = generate_model(150, 450, seed=7)
    again = generate_model(150, 450, seed=7)
    other = generate_model(150, 450, seed=8)
    assert first == again
    assert model_to_yaml(first) == model_to_yaml(again)
    assert first != other


def _reaches(model: DeviceModel, start: str, goal: str) -> bool:
    successors: dict[str, list[str]] = {}
    for link in model.links:
        successors.setdefault(link.source, []).append(link.target)
    seen: set[str] = set()
    stack = list(successors.get(start, []))
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(successors.get(node, []))
    return False


def test_generated_model_has_control_loops_through_every_engine():
    model = generate_model(200, 600, seed=3)
    for engine in model.ml_engines:
        assert _reaches(model, engine.id, engine.id), f"no cycle through {engine.id}"
    for controller in (c for c in model.components if c.kind == ComponentKind.controller):
        assert _reaches(model, controller.id, controller.id)


def test_too_few_links_or_components_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="need at least"):
        generate_model(100, 100)
    with pytest.raises(ValueError, match="too few"):
        generate_model(20, 60, ml_engines=3)


def test_mid_size_analysis_covers_every_ml_input(mid_size_assessment):
    model, assessment = mid_size_assessment
    points = {(point.ml_engine, point.ml_input) for point in assessment.fdi_points}
    for engine in model.ml_engines:
        assert engine.ml is not None
        for ml_input in engine.ml.inputs:
            assert (engine.id, ml_input.signal) in points, (engine.id, ml_input.signal)
        assert (engine.id, MODEL_UPDATE_INPUT) in points
    assert assessment.loss_scenarios


def test_mid_size_analysis_ids_all_resolve(mid_size_assessment):
    _, assessment = mid_size_assessment
    known = assessment.known_ids()
    for scenario in assessment.loss_scenarios:
        cited = {
            *scenario.fdi_points,
            *scenario.members,
            scenario.element,
            scenario.controller,
            scenario.control_action,
            *([scenario.ml_engine] if scenario.ml_engine else []),
            scenario.uca,
            *scenario.hazards,
            *scenario.losses,
            *scenario.path,
        }
        assert cited <= known, cited - known
    for point in assessment.fdi_points:
        assert {point.element, point.ml_engine} | {s.element for s in point.path} <= known
    for uca in assessment.ucas:
        assert {uca.control_action, uca.controller, *uca.hazards} <= known
    for finding in assessment.checks:
        assert set(finding.elements) <= known


def test_mid_size_analysis_keeps_every_class_without_truncation(mid_size_assessment):
    """Classes grow with signals x manipulations x UCAs, not FDI points x UCAs, so every
    one is kept: no truncation finding, and far fewer classes than the old pairs."""
    model, assessment = mid_size_assessment
    assert assessment.loss_scenarios
    assert "loss-scenarios-truncated" not in {c.rule for c in assessment.checks}
    assert len(assessment.loss_scenarios) < len(assessment.fdi_points) * len(assessment.ucas)
