"""``mdrisk diff``: what changed between two assessments of the built-in glucose device,
matched by stable ids, exact and deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk.assessment import Assessment
from mdrisk.assessment_diff import diff_assessments
from mdrisk.assessment_file import load_assessment
from mdrisk.cli import main
from mdrisk.decisions import load_decisions, with_decisions

BGMS = EXAMPLES / "bgms.yaml"
# A risk that enters at the link from the patient to the bolus advisor (H-1).
USER_TO_ADVISOR_RISK = "R-00b073"


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _analyze(model: Path, out: Path) -> Path:
    result = _run("analyze", str(model), "--out", str(out), "--kb", "--format", "json")
    assert result.exit_code == 0, result.output
    return out / "assessment.json"


def _without_user_to_advisor(tmp_path: Path) -> Path:
    data = yaml.safe_load(BGMS.read_text(encoding="utf-8"))
    data["links"] = [link for link in data["links"] if link["id"] != "user_to_advisor"]
    path = tmp_path / "bgms-edited.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("runs")
    return {
        "first": _analyze(BGMS, folder / "first"),
        "second": _analyze(BGMS, folder / "second"),
        "edited": _analyze(_without_user_to_advisor(folder), folder / "edited"),
    }


def _ids(assessment: Assessment) -> dict[str, set[str]]:
    """Each section's ids, straight from the records."""
    return {
        "risks": {r.id for r in assessment.risks},
        "loss_scenarios": {ls.id for ls in assessment.loss_scenarios},
        "scenarios": {sc.id for sc in assessment.scenarios},
        "vulnerabilities": {
            f"{v.id}@{t.id}" for t in assessment.threats for v in t.vulnerabilities
        },
    }


def _diff_json(old: Path, new: Path) -> dict:
    result = _run("diff", str(old), str(new), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_two_runs_of_the_same_model_do_not_differ(runs):
    first, second = load_assessment(runs["first"]), load_assessment(runs["second"])
    assert first.risks and first.scenarios and first.threats  # there is something to compare
    data = _diff_json(runs["first"], runs["second"])
    assert set(data) == {
        "risks",
        "loss_scenarios",
        "scenarios",
        "vulnerabilities",
        "possible_vulnerabilities",
        "coverage",
    }
    assert first.vulnerability_coverage is not None  # coverage is compared too
    for section in data.values():
        assert section == {"added": [], "removed": [], "changed": []}
    text = _run("diff", str(runs["first"]), str(runs["second"]))
    assert text.exit_code == 0 and text.stdout.rstrip().endswith("no differences")
    assert diff_assessments(first, second).empty


def test_a_known_edit_lists_exactly_the_ids_added_and_removed(runs):
    before = _ids(load_assessment(runs["first"]))
    after = _ids(load_assessment(runs["edited"]))
    data = _diff_json(runs["first"], runs["edited"])
    for key in before:
        assert data[key]["added"] == sorted(after[key] - before[key]), key
        assert data[key]["removed"] == sorted(before[key] - after[key]), key
    assert USER_TO_ADVISOR_RISK in data["risks"]["removed"]
    assert data["risks"]["removed"] or data["loss_scenarios"]["removed"]
    backwards = _diff_json(runs["edited"], runs["first"])
    for key in before:
        assert backwards[key]["added"] == data[key]["removed"]
        assert backwards[key]["removed"] == data[key]["added"]
        assert [c["id"] for c in backwards[key]["changed"]] == [
            c["id"] for c in data[key]["changed"]
        ]


def test_the_text_lists_each_id_with_its_title(runs):
    result = _run("diff", str(runs["first"]), str(runs["edited"]))
    assert result.exit_code == 0, result.output
    line = next(row for row in result.stdout.splitlines() if USER_TO_ADVISOR_RISK in row)
    assert line.startswith(f"  - {USER_TO_ADVISOR_RISK}  ") and "user_to_advisor" in line


def test_a_changed_finding_names_each_field_that_differs(runs):
    old = load_assessment(runs["first"])
    risk = old.risks[0]
    level = "low" if risk.level != "low" else "high"
    severity = risk.severity.model_copy(update={"level": "minor", "basis": "retested"})
    changed = risk.model_copy(update={"level": level, "severity": severity})
    scenario = old.scenarios[3].model_copy(update={"title": "renamed"})
    new = old.model_copy(
        update={
            "risks": [changed, *old.risks[1:]],
            "scenarios": [*old.scenarios[:3], scenario, *old.scenarios[4:]],
        }
    )
    data = diff_assessments(old, new).as_data()
    assert data["risks"]["changed"] == [
        {
            "id": risk.id,
            "fields": ["level", "severity.basis", "severity.level"],
            "values": {
                "level": {"old": risk.level, "new": level},
                "severity.basis": {"old": risk.severity.basis, "new": "retested"},
                "severity.level": {"old": risk.severity.level, "new": "minor"},
            },
        }
    ]
    assert [c["id"] for c in data["scenarios"]["changed"]] == [old.scenarios[3].id]
    assert data["scenarios"]["changed"][0]["fields"] == ["title"]
    assert data["loss_scenarios"]["changed"] == data["vulnerabilities"]["changed"] == []


def test_a_new_decision_is_a_change_of_the_finding_it_names(runs):
    old = load_assessment(runs["first"])
    new = with_decisions(old, load_decisions(EXAMPLES / "decisions" / "bgms-decisions.yaml"))
    data = diff_assessments(old, new).as_data()
    cloud = next(c for c in data["risks"]["changed"] if c["id"] == "R-7fa340")
    assert cloud["values"]["decision.status"] == {"old": None, "new": "mitigated"}
    vulnerabilities = {c["id"] for c in data["vulnerabilities"]["changed"]}
    assert "CVE-2020-27269@TH-38f874" in vulnerabilities
    assert not any(section["added"] or section["removed"] for section in data.values())


def test_the_diff_is_deterministic(runs):
    first = _run("diff", str(runs["first"]), str(runs["edited"]), "--json")
    second = _run("diff", str(runs["first"]), str(runs["edited"]), "--json")
    assert first.stdout == second.stdout
    text = [_run("diff", str(runs["edited"]), str(runs["first"])).stdout for _ in range(2)]
    assert text[0] == text[1]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.json", None, "no such file"),
        ("broken.json", b'{"risks": [', "not JSON"),
        ("list.json", b"[]", "an assessment is a JSON object"),
        ("partial.json", b'{"risks": []}', "Field required"),
        ("latin1.json", b'{"device": "caf\xe9"}', "not UTF-8"),
    ],
)
def test_a_bad_file_exits_2_naming_it(runs, tmp_path, name, content, expected):
    bad = tmp_path / name
    if content is not None:
        bad.write_bytes(content)
    for args in ((str(bad), str(runs["first"])), (str(runs["first"]), str(bad))):
        result = _run("diff", *args)
        assert result.exit_code == 2, result.output
        assert str(bad) in result.stderr and expected in result.stderr, result.stderr
        assert "Traceback" not in result.output
