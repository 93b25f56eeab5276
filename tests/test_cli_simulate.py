"""``mdrisk simulate glucose`` and ``mdrisk analyze --simulate`` as an analyst runs them:
exit codes, error messages, files written, plots that open."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("simglucose_tables", "isolated_model_cache")


def run(*args: str):
    return CliRunner().invoke(main, ["simulate", "glucose", *args])


def test_attacks_are_simulated_and_plotted(tmp_path) -> None:
    out = tmp_path / "out"
    result = run(
        "--patients",
        "adult#001-003",
        "--attack",
        "bias:+60@cgm,08:00-14:00",
        "--attack",
        "spoof:60g@carbs,15:00",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "attack 1: bias:+60@cgm,08:00-14:00" in result.output
    assert "patients harmed" in result.output
    # The folder is mdrisk's: the manifest of what it wrote, and the results.
    assert (out / ".mdrisk-output").is_file()
    names = sorted(p.name for p in out.iterdir() if p.name != ".mdrisk-output")
    assert names == [
        "attack-01.png",
        "attack-01.svg",
        "attack-02.png",
        "attack-02.svg",
        "metrics.csv",
        "results.json",
    ]
    for png in out.glob("*.png"):
        data = png.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        import matplotlib.image

        image = matplotlib.image.imread(png)
        assert image.shape[0] > 300 and image.shape[1] > 600
    for svg in out.glob("*.svg"):
        root = ElementTree.parse(svg).getroot()
        assert root.tag.endswith("svg")
    csv_lines = (out / "metrics.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + 3 + 2 * 3
    record = json.loads((out / "results.json").read_text())
    assert [a["attack"] for a in record["attacks"]] == [
        "bias:+60@cgm,08:00-14:00",
        "spoof:60@carbs,15:00",
    ]


def test_json_output_is_complete_and_reproducible() -> None:
    args = (
        "--patients",
        "adult#002,adolescent#003",
        "--controller",
        "basal_bolus",
        "--attack",
        "tamper:x2@pump_bolus,12:00-13:00",
        "--json",
    )
    first, second = run(*args), run(*args)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    record = json.loads(first.output)
    assert record["setup"]["controller"] == "basal_bolus"
    assert record["setup"]["patients"] == ["adult#002", "adolescent#003"]
    rows = record["attacks"][0]["patients"]
    assert all(r["attacked"]["minutes_below_70"] >= r["clean"]["minutes_below_70"] for r in rows)
    assert set(rows[0]) >= {"clean", "attacked", "delta", "induced_severity", "stealthy"}


def test_an_attack_file_and_a_meals_file_are_read(tmp_path) -> None:
    attacks = tmp_path / "attacks.yaml"
    attacks.write_text("- name: lunch overdose\n  attack: tamper:x3@pump_bolus,12:00-12:30\n")
    meals = tmp_path / "meals.yaml"
    meals.write_text("'07:00': 40\n'12:00': 60\n")
    result = run(
        "--patients", "adult#005", "--attacks", str(attacks), "--meals", str(meals), "--json"
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["setup"]["meals"] == "07:00=40,12:00=60"
    assert record["attacks"][0]["name"] == "lunch overdose"


def test_no_attack_reports_the_clean_days_and_plots_them(tmp_path) -> None:
    result = run("--patients", "adult", "--days", "2", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "adult#010: min" in result.output
    assert (tmp_path / "clean.png").read_bytes().startswith(PNG_SIGNATURE)


def test_the_search_reports_the_worst_stealthy_attack_and_plots_it(tmp_path) -> None:
    result = run(
        "--patients",
        "adult#001,adult#008",
        "--search",
        "max=60,duration=2h,grid=60min,from=17:00,to=18:00",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "worst stealthy attack: ramp:" in result.output
    record = json.loads((tmp_path / "results.json").read_text())
    assert record["search"]["best"]["stealthy"] is True
    assert record["search"]["naive_full"]["stealthy"] is False
    names = [a["name"] for a in record["attacks"]]
    assert names == ["worst stealthy attack", "naive stealthy bias", "naive full-budget bias"]
    assert (tmp_path / "attack-03.svg").is_file()


@pytest.mark.parametrize(
    "args, words",
    [
        (("--patients", "adult#011"), "unknown patient 'adult#011'"),
        (("--patients", "adult#009-012"), "no patient(s) adult#011, adult#012"),
        (("--patients", "adlt#001"), "did you mean 'adult#001'"),
        (("--attack", "bias:+6O@cgm,08:00-14:00"), "column 6: '+6O' is not a number"),
        (
            ("--attack", "bias:+60@cgm", "--attack", "frezze@cgm,01:00-02:00"),
            "did you mean 'freeze'",
        ),
        (
            ("--controller", "pid", "--attack", "bias:+60@forecast,08:00-09:00"),
            "use --controller ml_advised",
        ),
        (("--meals", "7am=40"), "is not a meal"),
        (("--search", "max=lots"), "not a positive number"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_status_2(args, words, tmp_path) -> None:
    result = run(*args, "--out", str(tmp_path / "never"))
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "never").exists()


def test_a_bad_attack_file_is_located_by_line(tmp_path) -> None:
    attacks = tmp_path / "attacks.yaml"
    attacks.write_text("- bias:+60@cgm,08:00-14:00\n- bias:+60@cgm,08:00\n")
    result = run("--attacks", str(attacks))
    assert result.exit_code == 2
    assert f"{attacks}:2: attacks[1]" in result.output


def test_analyze_simulate_adds_measured_harm_to_the_assessment(tmp_path) -> None:
    result = CliRunner().invoke(
        main,
        ["analyze", str(EXAMPLES / "bgms.yaml"), "--simulate", "--no-svg", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assessment = json.loads((tmp_path / "assessment.json").read_text())
    impact = assessment["impact"]
    simulated = [f for f in impact if f["status"] == "simulated"]
    covered = sum(len(f["loss_scenarios"]) for f in simulated)
    skipped = sum(len(f["loss_scenarios"]) for f in impact if f["status"] != "simulated")
    assert covered + skipped == len(assessment["loss_scenarios"])
    assert (
        f"impact: {covered} loss scenarios simulated under {len(simulated)} attacks, "
        f"{skipped} not simulated" in result.output
    )
    assert impact[0]["status"] == "simulated" and len(simulated) >= 15
