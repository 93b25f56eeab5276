"""The analyst's decisions: a file keyed by stable ids, applied on every run, surviving
unrelated model edits, stale when their finding is gone, and carried into the reports and
the VEX. Runs on the built-in glucose device with the knowledge-base snapshot bundled with
mdrisk (the CVE ids of the example decisions come from it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk.assessment import Assessment
from mdrisk.assessment_file import load_assessment
from mdrisk.cli import main
from mdrisk.decisions import load_decisions, with_decisions
from mdrisk.decisions.file import MAX_DECISIONS
from mdrisk.errors import InputError
from mdrisk.report.html import render_html
from mdrisk.report.markdown import render_markdown
from mdrisk.report.vex import vex_document

BGMS = EXAMPLES / "bgms.yaml"
EXAMPLE_DECISIONS = EXAMPLES / "decisions" / "bgms-decisions.yaml"
# A cloud risk (10 attack scenarios at cloud_platform, H-1) and a tampered pump command.
CLOUD_RISK = "R-7fa340"
PUMP_COMMAND_RISK = "R-886de2"
PUMP_COMMAND_CLASS = "LS-355fa8"


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _analyze(model: Path, out: Path, decisions: Path | None = None, kb: bool = True):
    args = ["analyze", str(model), "--out", str(out), "--format", "json,html,md,vex"]
    if kb:
        args.append("--kb")
    if decisions is not None:
        args += ["--decisions", str(decisions)]
    return _run(*args)


def _edited_bgms(tmp_path: Path, name: str, edit) -> Path:
    data = yaml.safe_load(BGMS.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _add_archive(data: dict) -> None:
    """An unrelated edit: a new storage component fed by a new link from the cloud."""
    data["components"].append(
        {
            "id": "audit_archive",
            "name": "Audit archive",
            "kind": "storage",
            "description": "Keeps a copy of each glucose report for ten years.",
            "zone": "vendor cloud",
        }
    )
    data["links"].append(
        {
            "id": "cloud_to_archive",
            "from": "cloud_platform",
            "to": "audit_archive",
            "kind": "data",
            "carries": ["glucose_report"],
            "channel": {
                "technology": {"name": "HTTPS", "version": "TLS 1.3"},
                "protections": {"encryption": True, "authentication": True},
            },
        }
    )


def _remove_pump_command_link(data: dict) -> None:
    """The edit that removes what PUMP_COMMAND_RISK is about: the advisor-to-pump link."""
    data["links"] = [link for link in data["links"] if link["id"] != "advisor_to_pump"]


@pytest.fixture(scope="module")
def bgms_decided(tmp_path_factory) -> Assessment:
    out = tmp_path_factory.mktemp("decided")
    result = _analyze(BGMS, out, EXAMPLE_DECISIONS)
    assert result.exit_code == 0, result.output
    return load_assessment(out / "assessment.json")


# --- the example file and the assessment section ------------------------------------------


def test_every_example_decision_names_a_finding_of_bgms(bgms_decided):
    log = bgms_decided.decisions
    assert log is not None and log.file == str(EXAMPLE_DECISIONS)
    written = yaml.safe_load(EXAMPLE_DECISIONS.read_text(encoding="utf-8"))["decisions"]
    assert [entry.key for entry in log.entries] == sorted(written)
    assert [entry.key for entry in log.entries if entry.stale] == []
    assert all(entry.names for entry in log.entries)
    assert not [check for check in bgms_decided.checks if check.rule == "stale-decision"]
    cloud = next(entry for entry in log.entries if entry.key == CLOUD_RISK)
    risk = next(r for r in bgms_decided.risks if r.id == CLOUD_RISK)
    assert (cloud.kind, cloud.status, cloud.names) == ("risk", "mitigated", risk.title)
    assert cloud.owner == "J. Rivera (product security lead)" and cloud.date == "2026-11-30"
    scoped = next(entry for entry in log.entries if entry.key == "CVE-2020-27269@TH-38f874")
    assert (scoped.finding, scoped.scope, scoped.threats) == (
        "CVE-2020-27269",
        "TH-38f874",
        ["TH-38f874"],
    )


def test_an_assessment_without_decisions_still_loads(bgms_decided, tmp_path):
    data = json.loads(bgms_decided.model_dump_json())
    del data["decisions"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_assessment(path).decisions is None


def test_applying_is_idempotent_and_none_takes_decisions_away(bgms_decided):
    loaded = load_decisions(EXAMPLE_DECISIONS)
    assert with_decisions(bgms_decided, loaded) == bgms_decided
    bare = with_decisions(bgms_decided, None)
    assert bare.decisions is None
    assert with_decisions(bare, loaded) == bgms_decided


# --- surviving an edit, and going stale ---------------------------------------------------


def test_a_decision_survives_an_unrelated_model_edit(bgms_decided, tmp_path):
    edited = _edited_bgms(tmp_path, "bgms-plus", _add_archive)
    result = _analyze(edited, tmp_path / "plus", EXAMPLE_DECISIONS)
    assert result.exit_code == 0, result.output
    assert "stale" not in result.output
    after = load_assessment(tmp_path / "plus" / "assessment.json")
    assert "audit_archive" in {c.id for c in after.device.components}
    assert {t.element for t in after.threats} - {t.element for t in bgms_decided.threats} == {
        "cloud_to_archive"
    }
    assert after.decisions is not None and bgms_decided.decisions is not None
    before_entries = {entry.key: entry for entry in bgms_decided.decisions.entries}
    for entry in after.decisions.entries:
        assert not entry.stale
        assert entry == before_entries[entry.key]
    cloud = next(r for r in after.risks if r.id == CLOUD_RISK)
    assert "cloud_platform" in cloud.title


def test_a_decision_whose_finding_is_removed_is_stale_everywhere(tmp_path):
    edited = _edited_bgms(tmp_path, "bgms-minus", _remove_pump_command_link)
    result = _analyze(edited, tmp_path / "minus", EXAMPLE_DECISIONS)
    assert result.exit_code == 0, result.output
    assert f"decisions.{PUMP_COMMAND_RISK}: stale decision" in result.stderr
    after = load_assessment(tmp_path / "minus" / "assessment.json")
    assert PUMP_COMMAND_RISK not in {r.id for r in after.risks}
    assert after.decisions is not None
    # The delayed bolus command at advisor_to_pump (LS-355fa8) went with the link too.
    assert PUMP_COMMAND_CLASS not in {ls.id for ls in after.loss_scenarios}
    assert [entry.key for entry in after.decisions.stale] == [PUMP_COMMAND_CLASS, PUMP_COMMAND_RISK]
    checks = [check for check in after.checks if check.rule == "stale-decision"]
    assert len(checks) == 2 and PUMP_COMMAND_RISK in checks[1].message
    assert {check.severity for check in checks} == {"warning"}
    html = (tmp_path / "minus" / "report.html").read_text(encoding="utf-8")
    stale_part = html.split("<h3>Stale decisions</h3>", 1)[1].split("<h3>", 1)[0]
    assert PUMP_COMMAND_RISK in stale_part and CLOUD_RISK not in stale_part
    markdown = (tmp_path / "minus" / "report.md").read_text(encoding="utf-8")
    stale_md = markdown.split("### Stale decisions", 1)[1].split("###", 1)[0]
    assert f"| {PUMP_COMMAND_RISK} | open |" in stale_md


def test_threat_decisions_are_stale_without_the_knowledge_base_and_say_why(tmp_path):
    result = _analyze(BGMS, tmp_path / "nokb", EXAMPLE_DECISIONS, kb=False)
    assert result.exit_code == 0, result.output
    assert "they are attached only with --kb" in result.stderr
    after = load_assessment(tmp_path / "nokb" / "assessment.json")
    assert after.decisions is not None
    stale = {entry.key for entry in after.decisions.stale}
    assert stale == {
        key
        for key in yaml.safe_load(EXAMPLE_DECISIONS.read_text())["decisions"]
        if key.startswith(("CVE-", "TH-"))
    }


# --- the reports and the VEX --------------------------------------------------------------


def _vex_analyses(assessment: Assessment) -> dict[str, dict]:
    return {v["id"]: v["analysis"] for v in vex_document(assessment)["vulnerabilities"]}


def test_the_vex_carries_the_decided_states(bgms_decided):
    analyses = _vex_analyses(bgms_decided)
    accepted = analyses["CVE-2020-27256"]
    assert accepted["state"] == "exploitable" and accepted["response"] == ["will_not_fix"]
    assert accepted["lastUpdated"] == "2026-12-02T00:00:00Z"
    assert analyses["CVE-2020-27269"]["state"] == "resolved"
    assert analyses["CVE-2023-40088"]["state"] == "false_positive"
    not_affected = analyses["CVE-2024-34722"]
    assert not_affected["state"] == "not_affected"
    assert not_affected["justification"] == "code_not_reachable"
    assert "never uses the Android component" in not_affected["detail"]
    # Undecided ones keep the tool's own analysis.
    assert analyses["CVE-2020-27258"]["state"] == "exploitable"
    assert "response" not in analyses["CVE-2020-27258"]
    assert analyses["CVE-2020-27270"]["justification"] == "protected_by_mitigating_control"
    undecided = _vex_analyses(with_decisions(bgms_decided, None))
    assert undecided["CVE-2023-40088"]["state"] == "exploitable"


def test_an_open_decision_is_in_triage_and_the_vex_stays_valid(bgms_decided, tmp_path):
    path = tmp_path / "open.yaml"
    path.write_text(
        "decisions:\n"
        "  CVE-2020-27258@insulin_pump: {status: open, owner: M. Chen, date: 2026-12-05}\n"
        "  CVE-2020-27264: {status: not_affected, justification: Not reachable., "
        "owner: M. Chen, date: 2026-12-05}\n",
        encoding="utf-8",
    )
    decided = with_decisions(bgms_decided, load_decisions(path))
    analyses = _vex_analyses(decided)
    assert analyses["CVE-2020-27258"]["state"] == "in_triage"
    assert analyses["CVE-2020-27264"]["state"] == "not_affected"
    assert "justification" not in analyses["CVE-2020-27264"]  # none given: none invented
    assert analyses["CVE-2020-27256"]["state"] == "exploitable"  # this file did not decide it
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError:
        pytest.skip("the CycloneDX schemas (pip: cyclonedx-python-lib[validation])")
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    for assessment in (decided, bgms_decided):
        assert validator.validate_str(json.dumps(vex_document(assessment))) is None


def test_the_html_report_shows_each_decision(bgms_decided):
    html = render_html(bgms_decided)
    row = html.split(f'<tr id="{CLOUD_RISK}">', 1)[1].split("</tr>", 1)[0]
    assert 'class="badge state-mitigated"' in row
    assert "design input DI-112" in row and "J. Rivera (product security lead), 2026-11-30" in row
    assert '<section id="decisions">' in html and 'href="#decisions"' in html
    section = html.split('<section id="decisions">', 1)[1].split("</section>", 1)[0]
    assert f'<a href="#{CLOUD_RISK}">{CLOUD_RISK}</a>' in section  # to the risk's row
    anomaly = html.split('<tr id="CVE-2020-27256">', 1)[1].split("</tr>", 1)[0]
    assert "analyst: accepted" in anomaly and "Risk review board" in anomaly
    scenario = html.split('<tr id="SC-c20790">', 1)[1].split("</tr>", 1)[0]
    assert "<td>accepted</td>" in scenario and "RRB-2026-14" in scenario
    bare = render_html(with_decisions(bgms_decided, None))
    assert "design input DI-112" not in bare and 'id="decisions"' not in bare


def test_the_markdown_report_shows_each_decision(bgms_decided):
    markdown = render_markdown(bgms_decided)
    risk_row = next(line for line in markdown.splitlines() if line.startswith(f"| {CLOUD_RISK} |"))
    assert risk_row.endswith("| mitigated | " + risk_row.split("| mitigated | ", 1)[1])
    assert "J. Rivera (product security lead) | 2026-11-30 |" in risk_row
    assert "## Analyst decisions" in markdown
    assert "None: every decision names a finding of this assessment." in markdown


def test_report_applies_decisions_to_an_assessment_read_back(bgms_decided, tmp_path):
    source = tmp_path / "assessment.json"
    source.write_text(with_decisions(bgms_decided, None).model_dump_json(), encoding="utf-8")
    result = _run(
        "report", str(source), "--out", str(tmp_path / "r"), "--format", "json,vex",
        "--decisions", str(EXAMPLE_DECISIONS),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    again = load_assessment(tmp_path / "r" / "assessment.json")
    assert again.decisions == bgms_decided.decisions
    vex = json.loads((tmp_path / "r" / "vex.cdx.json").read_text(encoding="utf-8"))
    states = {v["id"]: v["analysis"]["state"] for v in vex["vulnerabilities"]}
    assert states["CVE-2023-40088"] == "false_positive"


def test_risk_json_carries_each_risks_decision():
    result = _run("risk", str(BGMS), "--kb", "--json", "--decisions", str(EXAMPLE_DECISIONS))
    assert result.exit_code == 0, result.output
    risks = json.loads(result.stdout)
    decided = {r["id"]: r["decision"]["status"] for r in risks if r["decision"]}
    assert decided == {CLOUD_RISK: "mitigated", PUMP_COMMAND_RISK: "open"}


@pytest.mark.parametrize("command", ["analyze", "risk", "report", "demo"])
def test_every_command_that_writes_findings_takes_decisions(command):
    assert "--decisions" in _run(command, "--help").output


# --- bad and hostile decisions files ------------------------------------------------------

GOOD_ENTRY = "status: accepted\n    justification: Reviewed.\n    owner: A\n    date: 2026-12-01\n"


def _entry(key: str = CLOUD_RISK, body: str = GOOD_ENTRY) -> str:
    return f"schema_version: 1\ndecisions:\n  {key}:\n    {body}"


HOSTILE: dict[str, tuple[bytes, str]] = {
    # name: (file content, text the message must hold beside the file name)
    "unknown status": (_entry(body=GOOD_ENTRY.replace("accepted", "waived")).encode(), "status"),
    "status not text": (_entry(body=GOOD_ENTRY.replace("accepted", "[1, 2]")).encode(), "status"),
    "no justification": (
        _entry(body="status: accepted\n    owner: A\n    date: 2026-12-01\n").encode(),
        "needs a justification",
    ),
    "no owner": (
        _entry(body="status: open\n    date: 2026-12-01\n").encode(),
        "required field 'owner' is missing",
    ),
    "not a date": (_entry(body=GOOD_ENTRY.replace("2026-12-01", "2026-13-01")).encode(), "date"),
    "date as a number": (
        _entry(body=GOOD_ENTRY.replace("2026-12-01", "20261201")).encode(),
        "date",
    ),
    "unknown field": (_entry(body=GOOD_ENTRY + "    approved: yes\n").encode(), "unknown field"),
    "key names nothing": (_entry(key="RISK-1").encode(), "names no finding"),
    "bad scope": (_entry(key="CVE-2020-27269@no such element").encode(), "names no finding"),
    "vex justification on a risk": (
        _entry(
            body=GOOD_ENTRY.replace("accepted", "not_affected")
            + "    vex_justification: code_not_reachable\n"
        ).encode(),
        "vex_justification applies only to a vulnerability",
    ),
    "vex justification not in CycloneDX": (
        _entry(
            key="CVE-2020-27269",
            body=GOOD_ENTRY.replace("accepted", "not_affected") + "    vex_justification: trust\n",
        ).encode(),
        "vex_justification",
    ),
    "decisions is a list": (b"decisions:\n  - R-7fa340\n", "decisions"),
    "not a mapping": (b"- just\n- a list\n", "must be a mapping"),
    "empty": (b"", "the file is empty"),
    "duplicate keys": (
        (_entry() + f"  {CLOUD_RISK}:\n    {GOOD_ENTRY}").encode(),
        "appears twice",
    ),
    "alias bomb": (
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\ndecisions: {}\n",
        "aliases",
    ),
    "python tag": (b"decisions: !!python/object/apply:os.system [echo hi]\n", "YAML"),
    "not UTF-8": (_entry().encode() + b"# caf\xe9\n", "UTF-8"),
    "UTF-16": ("decisions: {}\n".encode("utf-16"), "UTF-16"),
    "NUL byte": (b"decisions: {}\n\x00\n", "NUL"),
    "deep nesting": (b"decisions: " + b"[" * 200 + b"]" * 200 + b"\n", "nesting"),
    "huge": (b"# " + b"x" * (5 * 1024 * 1024) + b"\ndecisions: {}\n", "limit"),
    "too many decisions": (
        (
            "decisions:\n"
            + "".join(
                f"  R-{index:06x}: {{status: open, owner: A, date: 2026-12-01}}\n"
                for index in range(MAX_DECISIONS + 1)
            )
        ).encode(),
        "at most 10000 items",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_bad_decisions_file_exits_2_naming_it_and_writes_nothing(name, tmp_path):
    content, expected = HOSTILE[name]
    path = tmp_path / "decisions.yaml"
    path.write_bytes(content)
    out = tmp_path / "out"
    result = _run("analyze", str(BGMS), "--out", str(out), "--decisions", str(path))
    assert result.exit_code == 2, result.output
    assert f"{path}" in result.stderr and expected in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_bad_decisions_file_stops_risk_report_and_demo_before_any_work(tmp_path):
    path = tmp_path / "decisions.yaml"
    path.write_text(_entry(body=GOOD_ENTRY.replace("accepted", "waived")), encoding="utf-8")
    for args in (
        ["risk", str(BGMS)],
        ["report", str(BGMS), "--out", str(tmp_path / "r")],
        ["demo", "--out", str(tmp_path / "d")],
    ):
        result = _run(*args, "--decisions", str(path))
        assert result.exit_code == 2, (args, result.output)
        assert f"{path}:4: decisions.{CLOUD_RISK}.status" in result.stderr, result.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "d").exists()


def test_a_located_error_names_the_line_and_the_field(tmp_path):
    path = tmp_path / "decisions.yaml"
    path.write_text(_entry(body=GOOD_ENTRY.replace("2026-12-01", "yesterday")), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_decisions(path)
    assert str(raised.value).startswith(f"{path}:7: decisions.{CLOUD_RISK}.date: 'yesterday'")
    assert "YYYY-MM-DD" in str(raised.value)
