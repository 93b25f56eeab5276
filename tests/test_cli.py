"""The mdrisk command as an analyst runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk.cli import main

BGMS = EXAMPLES / "bgms.yaml"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _subcommands() -> list[str]:
    return main.list_commands(None)


@pytest.mark.parametrize(
    "command", [[]] + [[name] for name in _subcommands()], ids=lambda c: c[0] if c else "mdrisk"
)
def test_every_subcommand_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_analyze_writes_the_canonical_assessment_and_report(tmp_path):
    result = run("analyze", str(BGMS), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "assessment.json").read_text())
    # The sections the issue names are all there; later stages add their own beside them.
    # The device model is carried whole, losses and hazards with it.
    assert set(data["device"]) >= {"device", "components", "links", "losses", "hazards"}
    assert set(data) >= {
        "device",
        "control_actions",
        "ucas",
        "fdi_points",
        "loss_scenarios",
        "checks",
        "provenance",
    }
    assert data["ucas"][0]["id"].startswith("UCA-")
    assert data["provenance"]["model_sha256"] and data["provenance"]["created"]
    report = (tmp_path / "out" / "report.md").read_text()
    for heading in (
        "## Unsafe control actions",
        "## False-data injection points",
        "## Loss scenarios",
        "## Checks",
    ):
        assert heading in report
    assert "cgm\\_to\\_app" not in report and "cgm_to_app" in report


def test_two_runs_differ_only_in_provenance_time(tmp_path):
    for name in ("a", "b"):
        assert run("analyze", str(BGMS), "--out", str(tmp_path / name)).exit_code == 0
    first = json.loads((tmp_path / "a" / "assessment.json").read_text())
    second = json.loads((tmp_path / "b" / "assessment.json").read_text())
    first["provenance"].pop("created")
    second["provenance"].pop("created")
    assert first == second
    raw_a = (tmp_path / "a" / "assessment.json").read_bytes().splitlines()
    raw_b = (tmp_path / "b" / "assessment.json").read_bytes().splitlines()
    differing = [a for a, b in zip(raw_a, raw_b, strict=True) if a != b]
    assert all(b'"created"' in line for line in differing)


def test_demo_runs_the_chain_into_the_named_folder(tmp_path):
    result = run("demo", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "assessment.json").is_file()
    assert (tmp_path / "demo" / "report.md").is_file()
    assert str((tmp_path / "demo").resolve()) in result.output
    first_screen = result.output.splitlines()[:12]
    assert first_screen[0].startswith("mdrisk demo: GlucoGuide")
    assert "ran: STPA-Sec" in first_screen[1] and "risk register" in first_screen[1]
    for finding in ("known vulnerabilities matched", "attack scenarios", "risks, "):
        assert any(finding in line for line in first_screen), finding
    # Everything on: the forecaster the simulator trains is attacked in the closed loop.
    assert "attacks on the ML model" in first_screen[1]
    assert any("evasion_closed_loop from cgm_to_app" in line for line in first_screen)
    guide = result.output.split("results in", 1)[1].splitlines()
    assert "report.html" in guide[1] and "open this first" in guide[1]
    assert "assessment.json" in guide[2] and "canonical record" in guide[2]


def test_demo_without_the_sim_extra_says_the_simulation_was_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("MDRISK_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("mdrisk.cli.demo.missing_sim_modules", lambda: ["simglucose"])
    result = run("demo", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert "patient simulation (skipped" in result.output
    assert "simulated harm: not simulated" in result.output
    assert "note: no simulation of patient harm" in result.output
    # Without a user store the bundled snapshot of public data is matched, so no note says so.
    assert "no knowledge base" not in result.output
    assert "knowledge-base matching" in result.output.splitlines()[1]


def test_validate_reports_findings_and_strict_fails_on_warnings():
    result = run("validate", str(BGMS))
    assert result.exit_code == 0
    assert "valid" in result.output and "warning: CHK-" in result.output
    assert run("validate", "--strict", str(BGMS)).exit_code == 1


def test_diagram_dot_distinguishes_link_kinds_and_highlights_fdi(tmp_path):
    out = tmp_path / "cs.dot"
    assert run("diagram", str(BGMS), "--out", str(out)).exit_code == 0
    dot = out.read_text()
    control = next(line for line in dot.splitlines() if 'id="advisor_to_pump"' in line)
    feedback = next(line for line in dot.splitlines() if 'id="pump_to_app"' in line)
    fdi_link = next(line for line in dot.splitlines() if 'id="cgm_to_app"' in line)
    assert "style=solid" in control and "penwidth=2.2" in control
    assert "style=dashed" in feedback
    assert "#c62828" in fdi_link and "#c62828" not in control


def test_diagram_svg_is_valid_svg(tmp_path):
    out = tmp_path / "cs.svg"
    assert run("diagram", str(BGMS), "--out", str(out)).exit_code == 0
    root = ET.fromstring(out.read_bytes())
    assert root.tag.endswith("svg")
    assert "GlucoGuide phone app" in out.read_text()


def test_unknown_format_and_bad_suffix_are_usage_errors(tmp_path):
    assert run("analyze", str(BGMS), "--out", str(tmp_path), "--format", "pdfx").exit_code == 2
    assert run("diagram", str(BGMS), "--out", str(tmp_path / "x.png")).exit_code == 2


def test_missing_model_file_exits_2_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mdrisk.cli", "validate", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr
