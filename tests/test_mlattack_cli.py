"""``mdrisk attack`` and ``analyze --ml-attacks`` end to end on the reference classifier, and
the assessments of models without a model file unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdrisk.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "mdrisk" / "examples"


def test_attack_runs_every_attack_from_the_reference_classifier(tmp_path: Path):
    pytest.importorskip("art")
    out = tmp_path / "out"
    args = ["attack", "breast-cancer", "--examples", "3", "--budget", "200", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    records = json.loads((out / "ml-attacks.json").read_text("utf-8"))
    kinds = {r["attack"] for r in records}
    assert kinds == {
        "evasion_white_box",
        "label_flipping",
        "backdoor",
        "model_substitution",
        "extraction",
        "membership_inference",
    }
    assert all(r["atlas"] and r["atlas"][0].startswith("AML.T") for r in records)
    assert all(r["violations"] == 0 for r in records)
    assert all(r["library"].startswith("adversarial-robustness-toolbox ") for r in records)
    evasions = [r for r in records if r["attack"] == "evasion_white_box"]
    # the calibration link reaches the nine size features only
    calibration = next(r for r in evasions if r["element"] == "calibration_to_workstation")
    assert len(calibration["constraints"]["controlled_features"]) == 9
    assert calibration["constraints"]["detectors"] == ["size_plausibility"]
    assert {r["target"] for r in evasions} == {"malignant -> benign", "benign -> malignant"}
    # the same seed gives the same records
    again = tmp_path / "again"
    CliRunner().invoke(main, [*args[:-1], str(again)])
    assert (again / "ml-attacks.json").read_bytes() == (out / "ml-attacks.json").read_bytes()


def test_a_model_without_a_model_file_is_analysed_as_before(tmp_path: Path):
    result = CliRunner().invoke(
        main, ["analyze", str(EXAMPLES / "bgms.yaml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "assessment.json").read_text("utf-8"))
    assert "ml_attacks" not in data
    assert all("artifact" not in (c.get("ml") or {}) for c in data["device"]["components"])


def test_attack_on_a_model_without_a_model_file_says_so():
    result = CliRunner().invoke(main, ["attack", str(EXAMPLES / "bgms.yaml")])
    assert result.exit_code == 2
    assert "no ML engine names a model file" in result.output


def test_analyze_with_ml_attacks_ties_each_attack_to_the_scenarios_it_measures():
    pytest.importorskip("art")
    from mdrisk.mlattack.run import AttackSettings
    from mdrisk.pipeline import run

    assessment, _ = run(
        EXAMPLES / "breast-cancer.yaml",
        created="2026-01-01T00:00:00Z",
        ml_attacks=AttackSettings(examples=2, budget=100),
    )
    scenarios = {s.id: s for s in assessment.scenarios}
    evasion = next(
        a
        for a in assessment.ml_attacks
        if a.attack.startswith("evasion") and a.element == "workstation"
    )
    assert evasion.scenarios
    assert {scenarios[i].category for i in evasion.scenarios} <= {"evasion", "fdi"}
    assert all(scenarios[i].element == "workstation" for i in evasion.scenarios)
    substitution = next(a for a in assessment.ml_attacks if a.attack == "model_substitution")
    assert {scenarios[i].category for i in substitution.scenarios} == {"model_update"}
    assert {a.id for a in assessment.ml_attacks} <= assessment.known_ids()
    # Each risk names the attacks run for it: from its entry towards one of its hazards, or
    # measuring one of its attack scenarios; the report's attack table lists those risks.
    attacks = {a.id: a for a in assessment.ml_attacks}
    measured = [r for r in assessment.risks if r.ml_attacks]
    assert measured
    for risk in measured:
        for attack_id in risk.ml_attacks:
            attack = attacks[attack_id]
            assert set(attack.scenarios) & set(risk.scenarios) or (
                attack.element == risk.element and set(attack.hazards) & set(risk.hazards)
            )
    # An attack measures only risks of the hazards it aims at: a malignant case read as
    # benign is no evidence for the needless-biopsy risk, and the other way round.
    for risk in measured:
        for attack_id in risk.ml_attacks:
            assert not attacks[attack_id].hazards or set(attacks[attack_id].hazards) & set(
                risk.hazards
            ), (risk.id, risk.hazards, attack_id, attacks[attack_id].hazards)
    for attack in assessment.ml_attacks:
        for scenario_id in attack.scenarios:
            assert not attack.hazards or set(attack.hazards) & set(scenarios[scenario_id].hazards)
    # Each workstation risk is measured by the evasion aimed at its own hazard.
    workstation = [r for r in measured if r.element == "workstation"]
    assert {h for r in workstation for h in r.hazards} == {"H-1", "H-2"}
    aimed = [r for r in workstation if set(r.hazards) & set(evasion.hazards)]
    assert aimed and all(evasion.id in r.ml_attacks for r in aimed)
    assert not [r for r in workstation if evasion.id in r.ml_attacks and r not in aimed]
    from mdrisk.report.tables import ml_attack_table

    table = ml_attack_table(assessment)
    column = list(table.headers).index("risks")
    row = next(r for r in table.rows if r[0] == evasion.id)
    assert all(r.id in row[column] for r in aimed)
