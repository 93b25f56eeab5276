"""The workbench's workspace (issue 15): devices, model versions and decisions in SQLite, every
decision change in the audit trail, and the decisions and answers files written as the CLI
reads them."""

from __future__ import annotations

import pytest
from web_support import BGMS_TEXT

from mdrisk import bundled
from mdrisk.decisions import load_decisions
from mdrisk.errors import InputError
from mdrisk.risk.answers import load_answers
from mdrisk.web import service
from mdrisk.web.workspace import Workspace


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return Workspace(tmp_path / "ws")


def test_a_device_keeps_its_model_versions_and_the_file_the_cli_reads(workspace):
    device = service.create_from_example(workspace, "bgms")
    assert device.name == "GlucoGuide insulin dosing advisor"
    assert workspace.model_file(device.id).read_text("utf-8") == BGMS_TEXT
    edited = BGMS_TEXT.replace("GlucoGuide insulin", "GlucoGuide II insulin", 1)
    version = service.save_model(workspace, device.id, edited, "renamed")
    assert [v.number for v in workspace.model_versions(device.id)] == [1, version.number] == [1, 2]
    assert workspace.model_file(device.id).read_text("utf-8") == edited


def test_an_invalid_model_is_not_saved(workspace):
    device = service.create_from_example(workspace, "bgms")
    broken = BGMS_TEXT.replace("kind: sensor", "kind: sensr", 1)
    with pytest.raises(InputError) as raised:
        service.save_model(workspace, device.id, broken, "")
    problem = raised.value.problems[0]
    assert problem.line == broken[: broken.index("kind: sensr")].count("\n") + 1
    assert "use one of" in problem.fix
    assert len(workspace.model_versions(device.id)) == 1
    assert workspace.model_file(device.id).read_text("utf-8") == BGMS_TEXT


def test_a_model_may_not_name_a_file_on_the_server(workspace):
    text = BGMS_TEXT.replace("    zone: on-body\n", "    zone: on-body\n    sbom: /etc/passwd\n", 1)
    with pytest.raises(InputError) as raised:
        service.create_from_text(workspace, "", text, "upload")
    assert raised.value.problems[0].line is not None
    assert workspace.devices() == []


def test_every_decision_change_is_in_the_audit_trail_and_the_decisions_file(workspace):
    device = service.create_from_example(workspace, "bgms")
    service.set_decision(workspace, device.id, "R-f25cc5", "open", "", "A. Analyst", "2026-12-07")
    service.set_decision(
        workspace, device.id, "R-f25cc5", "accepted", "Board accepted it.", "B. Lead", "2026-12-08"
    )
    trail = workspace.audit_trail(device.id)
    assert [(e.who, e.from_status, e.to_status, e.why) for e in trail] == [
        ("A. Analyst", None, "open", "set to open"),
        ("B. Lead", "open", "accepted", "Board accepted it."),
    ]
    assert all(e.at.endswith("Z") for e in trail)
    loaded = load_decisions(workspace.decisions_file(device.id))
    entry = loaded.decisions.decisions["R-f25cc5"]
    assert (entry.status, entry.justification, entry.owner) == (
        "accepted",
        "Board accepted it.",
        "B. Lead",
    )


def test_a_decision_the_decisions_file_would_refuse_changes_nothing(workspace):
    device = service.create_from_example(workspace, "bgms")
    with pytest.raises(InputError) as raised:
        service.set_decision(workspace, device.id, "R-f25cc5", "accepted", "", "A", "2026-12-07")
    assert "justification" in str(raised.value)
    with pytest.raises(InputError):
        service.set_decision(workspace, device.id, "not-an-id", "open", "", "A", "2026-12-07")
    assert workspace.decisions(device.id) == []
    assert workspace.audit_trail(device.id) == []
    assert not workspace.decisions_file(device.id).exists()


def test_answers_are_written_as_the_answers_file_the_cli_reads(workspace):
    device = service.create_from_example(workspace, "bgms")
    service.set_answer(workspace, device.id, "cgm_sensor", "PR-1", "no", "Just Works pairing.")
    service.set_answer(workspace, device.id, "", "C-PHI-2", "no", "One patient per device.")
    loaded = load_answers(workspace.answers_file(device.id), bundled.rubric().rubric)
    assert loaded.answers.targets["cgm_sensor"]["PR-1"].answer == "no"
    assert loaded.answers.answers["C-PHI-2"].justification == "One patient per device."
    before = workspace.answers_text(device.id)
    with pytest.raises(InputError):
        service.set_answer(workspace, device.id, "cgm_sensor", "PR-1", "perhaps", "unsure")
    assert workspace.answers_text(device.id) == before
    assert workspace.answers_file(device.id).read_text("utf-8") == before
