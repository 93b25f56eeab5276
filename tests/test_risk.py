"""Risk scoring as a regulatory engineer checks it: CVSS against published scores, the
medical-device rubric's decisions, the ISO 14971-style matrix, residual risk, malformed
configuration files."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, example_models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.assessment.impact import ImpactFinding, ImpactPatient
from mdrisk.assessment.risk import RiskItem
from mdrisk.cli import main
from mdrisk.errors import InputError
from mdrisk.kb.matching.query import VulnMatch
from mdrisk.model import load_model, load_model_text
from mdrisk.pipeline import KnowledgeInputs, assess
from mdrisk.report.markdown import render_markdown
from mdrisk.risk.answers import answers_from_text, load_answers
from mdrisk.risk.cvss_scores import CvssError, exploitability_3, map_3_to_4, score
from mdrisk.risk.engine import _exploitability, assess_risks
from mdrisk.risk.matrix import SEVERITIES, load_matrix, matrix_from_text
from mdrisk.risk.rubric import RubricResult, rubric_from_text
from mdrisk.risk.targets import Attacker, RiskTarget

CORPUS = Path(__file__).parent / "corpus" / "risk"
BGMS = EXAMPLES / "bgms.yaml"
RETINOPATHY = EXAMPLES / "retinopathy.yaml"
BGMS_ANSWERS = EXAMPLES / "answers" / "bgms-risk-answers.yaml"
RUBRIC = bundled.rubric().rubric
MATRIX = bundled.risk_matrix().matrix
PACK = bundled.technology_pack()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def _assessed(path: Path, with_pack: bool = False, answers: Path | None = None) -> Assessment:
    risk = bundled.risk_inputs(answers=load_answers(answers, RUBRIC)) if answers else None
    return assess(
        load_model(path),
        created="2000-01-01T00:00:00Z",
        knowledge=KnowledgeInputs(PACK) if with_pack else None,
        risk=risk,
    )


def _risks_at(assessment: Assessment, element: str) -> list[RiskItem]:
    found = [r for r in assessment.risks if r.element == element]
    assert found, f"no risk enters at {element}"
    return found


def _metric(risk: RiskItem, name: str):
    rubric = next(c for c in risk.cvss if c.origin == "rubric" and c.version == "3.1")
    return next(m for m in rubric.metrics if m.metric == name)


def _v4(risk: RiskItem):
    return next(c for c in risk.cvss if c.origin == "rubric" and c.version == "4.0")


# --- CVSS against published scores -----------------------------------------------------------

# FIRST, "CVSS v3.1 Examples" (vulnerabilities scored by the SIG) and NVD's calculator.
FIRST_31 = [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),  # CVE-2014-6271 Shellshock
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),  # CVE-2013-1937 phpMyAdmin XSS
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),  # CVE-2013-0375 MySQL
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),  # CVE-2014-3566 POODLE
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),  # CVE-2012-1516 VMware escape
    ("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2),  # CVE-2009-0783 Tomcat
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),  # CVE-2012-0384 Cisco IOS
    ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8),  # CVE-2015-1098 iWork
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),  # CVE-2014-0160 Heartbleed
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8),  # CVE-2008-1447 DNS
    ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8),  # CVE-2014-2005 Sophos
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8),  # CVE-2010-0467 Joomla
    ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3),  # CVE-2013-6014 Juniper
    ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4),  # CVE-2014-9253 DokuWiki
    ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8),  # CVE-2011-1265 Bluetooth stack
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", 6.8),  # CVE-2016-0128 Badlock
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
]
# CVSS v4.0: the specification's calculator values, and an independent implementation's
# documented example (polycvss: VC:L/VI:L/VA:L -> 6.9).
FIRST_40 = [
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", 8.7),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0),
]


@pytest.mark.parametrize(("vector", "expected"), FIRST_31 + FIRST_40, ids=lambda v: str(v))
def test_published_reference_vectors_score_as_published(vector, expected):
    result = score(vector, origin="published", published_score=expected)
    assert result.base_score == expected and result.agrees


def test_the_exploitability_subscore_is_nvds():
    assert exploitability_3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == 3.9
    assert exploitability_3("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == 2.8
    assert exploitability_3("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == 0.9


def test_temporal_and_environmental_scores_follow_the_31_formulas():
    # Temporal: roundup(9.8 x E:U 0.91 x RL:O 0.95 x RC:C 1) = roundup(8.47) = 8.5.
    temporal = score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C", "published")
    assert (temporal.score, temporal.score_kind, temporal.base_score) == (8.5, "temporal", 9.8)
    # Environmental, MAV:A: 8.22 x 0.62 x 0.77 x 0.85 x 0.85 = 2.835; 6.42 x 0.9148 = 5.873;
    # roundup(8.708) = 8.8.
    environmental = score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:A", "published")
    assert (environmental.score, environmental.score_kind) == (8.8, "environmental")


def _cvss_v3_of_csaf(folder: Path) -> list[tuple[str, str, str, float, str]]:
    found = []
    for path in sorted(folder.glob("*/*.json")):
        document = json.loads(path.read_text("utf-8"))
        for vulnerability in document.get("vulnerabilities", []):
            for entry in vulnerability.get("scores", []):
                cvss = entry.get("cvss_v3")
                if cvss:
                    found.append(
                        (
                            path.name,
                            vulnerability.get("cve", ""),
                            cvss["vectorString"],
                            float(cvss["baseScore"]),
                            cvss.get("baseSeverity", ""),
                        )
                    )
    return found


def test_every_cvss_v3_score_in_the_cisa_medical_advisories_recomputes(shared_data):
    scores = _cvss_v3_of_csaf(shared_data / "cisa-csaf-icsma")
    assert len(scores) >= 380  # 382 in the 2017-2022 snapshot (370 CVSS 3.0, 12 CVSS 3.1)
    disagreements = []
    for file, cve, vector, published, severity in scores:
        result = score(vector, origin="published", published_score=published)
        if not result.agrees or result.base_severity.upper() != severity.upper():
            disagreements.append(
                (file, cve, vector, published, severity, result.base_score, result.base_severity)
            )
    assert disagreements == []
    assert {v[:8] for _, _, v, _, _ in scores} == {"CVSS:3.0", "CVSS:3.1"}


def _cvss_in(value: Any):
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("cvssV") and isinstance(item, dict):
                yield key, item
            else:
                yield from _cvss_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _cvss_in(item)


def test_cvss_3_and_4_scores_of_real_cve_records_recompute(shared_data):
    versions: dict[str, int] = {}
    disagreements = []
    for path in sorted((shared_data / "cve-records-vulnrichment" / "records").glob("*.json")):
        for key, cvss in _cvss_in(json.loads(path.read_text("utf-8"))):
            versions[key] = versions.get(key, 0) + 1
            result = score(
                cvss["vectorString"], "published", published_score=float(cvss["baseScore"])
            )
            if not result.agrees:
                disagreements.append(
                    (path.name, cvss["vectorString"], cvss["baseScore"], result.base_score)
                )
    assert disagreements == []
    assert versions.get("cvssV4_0", 0) >= 10 and versions.get("cvssV3_1", 0) >= 100


@pytest.mark.parametrize(
    "vector",
    [
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",  # CVSS 2
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
        "CVSS:4.0/AV:N",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "",
    ],
)
def test_a_malformed_vector_is_refused_by_name(vector):
    with pytest.raises(CvssError):
        score(vector, "published")


@given(
    st.text(max_size=120)
    | st.builds(
        lambda parts: "CVSS:3.1/" + "/".join(parts),
        st.lists(
            st.sampled_from(
                [
                    "AV:N",
                    "AC:L",
                    "PR:N",
                    "UI:R",
                    "S:C",
                    "C:H",
                    "I:L",
                    "A:N",
                    "E:P",
                    "MAV:A",
                    "CR:H",
                    "AV:X",
                    "Q:1",
                    "",
                ]
            ),
            max_size=12,
        ),
    )
)
@FUZZ
def test_any_text_scores_or_raises_cvss_error(text):
    try:
        result = score(text, "published")
    except CvssError:
        return
    assert 0.0 <= result.base_score <= 10.0 and 0.0 <= result.score <= 10.0


def test_a_3x_vector_maps_to_40_with_its_assumptions_stated():
    mapped, notes = map_3_to_4("CVSS:3.1/AV:A/AC:L/PR:N/UI:R/S:C/C:N/I:H/A:H")
    assert mapped == "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:P/VC:N/VI:H/VA:H/SC:N/SI:H/SA:H"
    assert any("AT:N" in n for n in notes) and any("UI:P" in n for n in notes)


# --- the medical-device rubric ---------------------------------------------------------------


def test_bgms_therapy_data_gives_high_integrity_from_the_model_alone():
    # H-5 (carbohydrate taken on a false low warning) and H-2 (too little insulin) are not
    # catastrophic in the model, so the rubric's therapy question does not find harm there.
    for risk in _risks_at(_assessed(BGMS), "cgm_to_app"):
        if risk.severity.level != "catastrophic":
            continue
        integrity = _metric(risk, "I")
        assert integrity.value == "H"
        assert "therapy: H" in integrity.categories
        therapy = [s for s in integrity.steps if s.question.startswith("I-TX")]
        assert [s.answer for s in therapy] == ["yes", "yes"]
        assert all(s.source == "model" for s in integrity.steps)
        assert "catastrophic" in therapy[1].reason
        assert not [q for q in risk.open_questions if q.startswith("I-")]
        # CVSS 4.0 marks the safety impact the rubric found.
        assert "MSI:S" in _v4(risk).vector and _v4(risk).score_kind == "CVSS-BE"


def test_retinopathy_diagnosis_integrity_waits_for_the_analyst():
    risk = next(
        r
        for r in _assessed(RETINOPATHY).risks
        if r.severity.level in ("critical", "catastrophic") and r.element == "camera_to_pc"
    )
    integrity = _metric(risk, "I")
    assert "therapy: not assessed" in " ".join(integrity.categories)
    asked = {s.question: s for s in integrity.steps}
    assert asked["I-DX-2"].source == "model" and asked["I-DX-2"].answer == "yes"
    assert asked["I-DX-3"].source == "worst_case" and integrity.value == "H"
    assert any(
        q.startswith("I-DX-3") and "worst case 'yes' assumed" in q for q in risk.open_questions
    )


def test_a_clinician_who_would_notice_lowers_diagnostic_integrity(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "answers:\n"
        "  I-DX-3: {answer: 'no', justification: The grader reviews every image set.}\n"
        "  A-DX-2: {answer: 'no', justification: Screening can be repeated next visit.}\n",
        "utf-8",
    )
    before = next(
        r
        for r in _assessed(RETINOPATHY).risks
        if r.element == "camera_to_pc" and r.severity.level == "critical"
    )
    after = next(r for r in _assessed(RETINOPATHY, answers=answers).risks if r.id == before.id)
    assert (_metric(after, "I").value, _metric(after, "A").value) == ("L", "L")
    assert "MSI:S" not in _v4(after).vector and "MSA:S" not in _v4(after).vector
    assert after.cvss[0].base_score < before.cvss[0].base_score
    step = next(s for s in _metric(after, "I").steps if s.question == "I-DX-3")
    assert step.source == "analyst" and "grader" in step.reason and "answers.I-DX-3" in step.reason
    assert not [q for q in after.open_questions if q.startswith(("I-DX-3", "A-DX-2"))]


@pytest.mark.parametrize(
    ("element", "vector", "why"),
    [
        ("cgm_to_app", "A", "Bluetooth Low Energy"),
        ("cloud_to_forecaster", "N", "routable"),
        ("user_to_app", "P", "Touchscreen"),
        ("patient_user", "L", "attacker profile"),
    ],
)
def test_the_channel_or_the_attacker_sets_the_attack_vector(element, vector, why):
    attack_vector = _metric(_risks_at(_assessed(BGMS), element)[0], "AV")
    assert attack_vector.value == vector
    assert why in " ".join(s.reason for s in attack_vector.steps)


def test_an_analyst_answer_for_one_element_overrides_the_model_and_says_so():
    risk = _risks_at(_assessed(BGMS, answers=BGMS_ANSWERS), "patient_user")[0]
    first = _metric(risk, "AV").steps[0]
    assert (first.question, first.answer, first.source) == ("AV-1", "yes", "analyst")
    assert "overrides the model's 'no'" in first.reason
    assert _metric(risk, "AV").value == "N"


def test_every_worst_case_answer_is_listed_as_an_open_question():
    for risk in _assessed(BGMS).risks + _assessed(RETINOPATHY).risks:
        rubric = next(c for c in risk.cvss if c.origin == "rubric" and c.version == "3.1")
        assumed = {s.question for m in rubric.metrics for s in m.steps if s.source == "worst_case"}
        listed = {q.split(":", 1)[0] for q in risk.open_questions}
        assert assumed <= listed
        for step in (s for m in rubric.metrics for s in m.steps if s.source == "worst_case"):
            assert step.answer == RUBRIC.questions[step.question].worst_case
            assert "worst case assumed" in step.reason


def test_the_answers_file_closes_questions():
    plain = sum(len(r.open_questions) for r in _assessed(BGMS).risks)
    answered = sum(len(r.open_questions) for r in _assessed(BGMS, answers=BGMS_ANSWERS).risks)
    assert answered < plain


RUBRIC_TEXT = (
    Path(__file__).parent.parent / "src" / "mdrisk" / "data" / "medical-cvss-rubric.yaml"
).read_text("utf-8")


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            '      "no": {value: U}',
            '      "no": {next: S-1}',
            "questions.S-1.answers.no.next",
            "the questions loop: S-1 -> S-1",
        ),
        (
            "    derive: uses_channel",
            "    derive: guess_channel",
            "questions.AV-1.derive",
            "no model rule 'guess_channel'",
        ),
        (
            '      "yes": {value: N}\n      "no": {next: AV-3}',
            '      "yes": {value: X}\n      "no": {next: AV-3}',
            "questions.AV-2.answers.yes.value",
            "'X' is not a value of AV",
        ),
        (
            "  C-SYS-1:\n    rubric_ref: XCS",
            "  C-SYS-2:\n    rubric_ref: XCS",
            "questions.C-SYS-2",
            "no flow reaches this question",
        ),
        (
            '    worst_case: "yes"\n    answers:\n      "yes": {next: AV-2}',
            '    worst_case: "perhaps"\n    answers:\n      "yes": {next: AV-2}',
            "questions.AV-1.worst_case",
            "is not one of its answers",
        ),
    ],
)
def test_a_broken_rubric_is_refused_with_the_field(old, new, field, message):
    assert old in RUBRIC_TEXT
    with pytest.raises(InputError) as caught:
        rubric_from_text(RUBRIC_TEXT.replace(old, new, 1), "rubric.yaml")
    assert any(
        p.field == field and message in p.message and p.fix for p in caught.value.problems
    ), caught.value


# --- the matrix, exploitability and residual risk --------------------------------------------


def test_the_default_matrix_rates_the_corners_as_iso_14971_expects():
    assert MATRIX.exploitability_levels == ["remote", "unlikely", "possible", "likely", "frequent"]
    high = MATRIX.level_of("catastrophic", "frequent")
    low = MATRIX.level_of("negligible", "remote")
    assert MATRIX.label_of(MATRIX.acceptability_of(high)) == "unacceptable"
    assert MATRIX.label_of(MATRIX.acceptability_of(low)) == "acceptable"
    assert (
        MATRIX.label_of(MATRIX.acceptability_of(MATRIX.level_of("serious", "possible")))
        == "ALARP review"
    )


def _rank(level: str) -> int:
    return [r.id for r in MATRIX.risk_levels].index(level)


@pytest.mark.parametrize("model_path", example_models(), ids=lambda p: p.stem)
def test_residual_risk_is_never_above_the_initial_risk(model_path):
    answers = BGMS_ANSWERS if model_path == BGMS else None
    assessment = _assessed(model_path, with_pack=True, answers=answers)
    assert assessment.risks
    levels = MATRIX.exploitability_levels
    for risk in assessment.risks:
        residual = risk.residual
        assert levels.index(residual.exploitability) <= levels.index(risk.exploitability.level)
        assert residual.severity == risk.severity.level
        assert _rank(residual.level) <= _rank(risk.level)
        reduction = levels.index(risk.exploitability.level) - levels.index(residual.exploitability)
        after = [c for c in risk.controls if c.kind != "device"]  # device: in the initial rating
        assert sum(c.credited_levels for c in after) >= reduction
        assert sum(c.credited_levels for c in after) <= MATRIX.residual.max_reduction
        assert all(c.applied for c in after if c.credited_levels and c.kind == "recommended")


def test_device_controls_count_in_the_initial_rating_only_against_the_attacks_they_stop():
    # As designed: authentication and encryption are read by the rubric (AC, PR); integrity
    # (with authentication) and replay protection are credited on top, by the policy.
    pump_link = _risks_at(_assessed(BGMS), "pump_to_app")[0]
    credited = {c.id: c.credited_levels for c in pump_link.controls if c.kind == "device"}
    assert credited == {
        "pump_to_app.authentication": 0,
        "pump_to_app.encryption": 0,
        "pump_to_app.integrity": 1,
    }
    assert any("the device's own controls: -1" in s for s in pump_link.exploitability.steps)
    assert "AC:H" in pump_link.exploitability.vector  # authenticated: a defence to defeat
    cgm_link = _risks_at(_assessed(BGMS), "cgm_to_app")[0]
    assert {c.id: c.credited_levels for c in cgm_link.controls if c.kind == "device"} == {
        "cgm_to_app.encryption": 0,
        "cgm_to_app.integrity": 0,
    }
    assert not any("device's own controls" in s for s in cgm_link.exploitability.steps)


def test_the_policy_recommends_controls_for_the_path_and_the_residual_assumes_them():
    cgm_link = _risks_at(_assessed(BGMS), "cgm_to_app")[0]
    recommended = {c.id: c for c in cgm_link.controls if c.kind == "recommended"}
    assert "authenticate_link@cgm_to_app" in recommended  # BLE without authentication
    assert recommended["authenticate_link@cgm_to_app"].model_change == [
        "cgm_to_app.authentication",
        "cgm_to_app.integrity",
    ]
    assert all(c.applied for c in recommended.values())  # the default policy: recommended
    levels = MATRIX.exploitability_levels
    lowered = sum(c.credited_levels for c in cgm_link.controls)
    assert lowered >= 2
    assert levels.index(cgm_link.residual.exploitability) == max(
        0, levels.index(cgm_link.exploitability.level) - min(lowered, 3)
    )
    # A person typing is no link to authenticate: plausibility limits instead.
    typed = _risks_at(_assessed(BGMS), "user_to_app")[0]
    kinds = {c.id.split("@")[0] for c in typed.controls if c.kind == "recommended"}
    assert "authenticate_link" not in kinds and "plausibility_limits" in kinds


def test_only_mitigations_the_analyst_marks_implemented_lower_the_residual():
    plain = _risks_at(_assessed(BGMS, with_pack=True), "user_to_app")[0]
    answered = _risks_at(_assessed(BGMS, with_pack=True, answers=BGMS_ANSWERS), "user_to_app")[0]
    training = next(c for c in answered.controls if c.id == "M1017")
    assert training.in_place and training.credited_levels == 1
    assert "instructions for use" in training.justification
    assert not next(c for c in plain.controls if c.id == "M1017").in_place
    assert next(c for c in plain.controls if c.id == "M1017").credited_levels == 0
    assert any("M1017" in step for step in answered.residual.steps)
    assert not any("M1017" in step for step in plain.residual.steps)
    cgm = _risks_at(_assessed(BGMS, with_pack=True, answers=BGMS_ANSWERS), "cgm_to_app")[0]
    assert not next(c for c in cgm.controls if c.id == "M0802").in_place


class _Canned:
    """A matcher and an enricher that know one made-up vulnerability of the pump firmware."""

    def match(self, query):
        if query.product == "Dana Diabecare RS":
            return [VulnMatch("CVE-2099-0001", 0.95, "firmware 2.9 in the affected range")]
        return []

    def __call__(self, cve_id: str) -> dict:
        return {
            "kev": True,
            "epss": 0.62,
            "cvss": [{"vector": "CVSS:3.1/AV:P/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 6.4}],
            "mitigations": [
                {
                    "id": "M0949",
                    "name": "Antivirus/Antimalware",
                    "framework": "attack-ics",
                    "via": ["T0866"],
                }
            ],
        }


def test_kev_and_epss_raise_exploitability_and_kb_mitigations_are_offered():
    canned = _Canned()
    assessment = assess(
        load_model(BGMS), created="x", knowledge=KnowledgeInputs(PACK, canned, canned)
    )
    pump = _risks_at(assessment, "insulin_pump")[0]
    steps = " | ".join(pump.exploitability.steps)
    assert "in CISA KEV (CVE-2099-0001): +2" in steps and "EPSS 0.620" in steps
    assert pump.exploitability.level == "frequent"
    rating = next(v for v in pump.vulnerabilities if v.id == "CVE-2099-0001")
    published = next(c for c in rating.cvss if c.origin == "published")
    assert published.agrees and {c.metric for c in published.context} >= {"E", "IR", "AR", "CR"}
    assert any(
        c.origin == "mapped" and c.version == "4.0" and "E:A" in c.vector for c in rating.cvss
    )
    offered = next(c for c in pump.controls if c.id == "M0949")
    assert offered.kind == "mitigation" and not offered.in_place
    assert "CVE-2099-0001" in offered.source and offered.framework == "ATT&CK for ICS"


def test_a_long_path_and_a_distant_attacker_lower_exploitability():
    target = RiskTarget(
        key="t",
        source="scenario",
        title="t",
        element="cgm_to_app",
        element_type="link",
        crossed=("a", "b", "c", "d", "e"),
        attackers=(Attacker("supply_chain", "network", 0.3),),
    )
    before = RubricResult(vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", decisions=[])
    level, steps = _exploitability(target, before, [], MATRIX)
    assert level == "unlikely"  # frequent -1 (reach 0.3) -2 (5 hops, 1 free, 2 per level)
    assert any("supply_chain" in s for s in steps)
    assert any("crosses 5 component(s)" in s for s in steps)


def test_a_matrix_of_ones_own_is_used_and_named(tmp_path):
    text = (
        (Path(__file__).parent.parent / "src" / "mdrisk" / "data" / "risk-matrix.yaml")
        .read_text("utf-8")
        .replace("name: mdrisk default 5x5 security risk matrix", "name: ACME cautious matrix")
    )
    text = text.replace(
        "  remote:   [low, low, low, medium, medium]",
        "  remote:   [low, medium, medium, medium, high]",
    )
    text = text.replace(
        "  unlikely: [low, low, medium, medium, high]",
        "  unlikely: [low, medium, medium, high, high]",
    )
    path = tmp_path / "matrix.yaml"
    path.write_text(text, "utf-8")
    risk = assess(
        load_model(BGMS), created="x", risk=bundled.risk_inputs(matrix=load_matrix(path))
    ).risks[0]
    assert risk.matrix == "ACME cautious matrix"


def test_the_risks_of_one_device_trace_to_ids_the_assessment_holds():
    assessment = _assessed(BGMS, with_pack=True)
    known = assessment.known_ids()
    for risk in assessment.risks:
        cited = [
            *risk.scenarios,
            *risk.loss_scenarios,
            *risk.fdi_points,
            *risk.threats,
            *risk.hazards,
            *risk.losses,
            risk.element,
        ]
        assert set(cited) <= known, risk.id
        if risk.source == "scenario":
            assert risk.scenario in risk.scenarios
        elif risk.source == "disclosure":  # a disclosure hazard, where its data can be read
            assert not risk.loss_scenarios and not risk.scenarios and risk.hazards
        else:  # a loss-scenario class no attack scenario stands for (e.g. the control path)
            assert risk.source == "loss_scenario" and risk.loss_scenarios and not risk.scenarios
    ids = [r.id for r in assessment.risks]
    assert len(set(ids)) == len(ids) and all(i.startswith("R-") for i in ids)
    # The bolus command on its way to the pump (no replay protection) is a risk.
    assert any(r.element == "advisor_to_pump" for r in assessment.risks)


def test_without_attack_scenarios_loss_scenarios_make_the_risks():
    assessment = _assessed(BGMS).model_copy(update={"scenarios": [], "risks": []})
    risks = assess_risks(assessment, bundled.risk_inputs())
    assert risks and {r.source for r in risks} == {"loss_scenario", "disclosure"}
    by_ls = {ls: r for r in risks for ls in r.loss_scenarios}
    for scenario in assessment.loss_scenarios:
        if scenario.manipulation == "error":  # the model's own error: no attacker, no security risk
            assert scenario.id not in by_ls
            continue
        assert scenario.id in by_ls
        assert by_ls[scenario.id].hazards[0] in scenario.hazards


def test_the_same_model_gives_the_same_risks():
    first = assess(load_model(BGMS), created="x", knowledge=KnowledgeInputs(PACK))
    second = assess(load_model(BGMS), created="y", knowledge=KnowledgeInputs(PACK))
    assert json.dumps(
        [r.model_dump(mode="json") for r in first.risks], sort_keys=True
    ) == json.dumps([r.model_dump(mode="json") for r in second.risks], sort_keys=True)


def test_the_dana_pump_advisory_is_rescored_in_the_device_context(shared_data):
    from mdrisk.kb.enrich import enrich_vulnerability
    from mdrisk.kb.importing import import_paths
    from mdrisk.kb.matching.matcher import Matcher
    from mdrisk.kb.store import Store

    store = Store.in_memory()
    import_paths(store, [shared_data / "cisa-csaf-icsma" / "2021" / "icsma-21-012-01.json"])
    knowledge = KnowledgeInputs(
        PACK,
        Matcher.from_store(store, bundled.vendor_aliases()),
        lambda cve: enrich_vulnerability(store, cve),
    )
    assessment = assess(load_model(BGMS), created="x", knowledge=knowledge)
    pump = _risks_at(assessment, "insulin_pump")[0]
    ratings = {v.id: v for v in pump.vulnerabilities}
    assert "CVE-2020-27256" in ratings
    for rating in ratings.values():
        published = [c for c in rating.cvss if c.origin == "published"]
        assert published and all(c.agrees for c in published)
        assert all(c.version == "3.0" for c in published)
        context = {c.metric: c.value for c in published[0].context}
        assert context["IR"] == "H" and context["AR"] == "H" and context["CR"] == "H"
        assert [c.version for c in rating.cvss if c.origin == "mapped"] == ["4.0"]


# --- malformed answers and matrix files ------------------------------------------------------

EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
CASES = [
    (kind, name, rule) for kind, files in EXPECTED.items() for name, rule in sorted(files.items())
]


def _load(kind: str, path: Path) -> None:
    if kind == "answers":
        load_answers(path, RUBRIC)
    else:
        load_matrix(path)


@pytest.mark.parametrize(("kind", "name", "rule"), CASES, ids=[f"{k}/{n}" for k, n, _ in CASES])
def test_each_malformed_file_is_refused_with_its_field(kind, name, rule):
    path = CORPUS / kind / name
    with pytest.raises(InputError) as caught:
        _load(kind, path)
    error = caught.value
    assert error.file == str(path)
    assert any(p.field == rule["field"] and rule["message"] in p.message for p in error.problems), (
        error
    )
    _check_problems(error, path.read_text("utf-8"))


def test_every_corpus_file_is_listed():
    on_disk = {(p.parent.name, p.name) for p in CORPUS.glob("*/*.yaml")}
    assert on_disk == {(kind, name) for kind, name, _ in CASES}


@pytest.mark.parametrize("option", ["--answers", "--matrix"])
def test_the_cli_exits_2_naming_file_and_field(option):
    kind = "answers" if option == "--answers" else "matrix"
    name, rule = next((n, r) for k, n, r in CASES if k == kind and r["field"])
    path = CORPUS / kind / name
    result = CliRunner().invoke(main, ["risk", str(BGMS), option, str(path)])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and rule["field"] in result.output
    assert "Traceback" not in result.output


def test_an_answer_for_an_element_the_model_lacks_is_refused(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(
        "targets:\n  cgm_too_app:\n    PR-1: {answer: 'no', justification: typo}\n", "utf-8"
    )
    result = CliRunner().invoke(main, ["risk", str(BGMS), "--answers", str(path)])
    assert result.exit_code == 2
    assert "targets.cgm_too_app" in result.output and "no risk entering at" in result.output


def test_the_cli_prints_the_register_and_canonical_json():
    table = CliRunner().invoke(main, ["risk", "bgms", "--answers", str(BGMS_ANSWERS)])
    assert table.exit_code == 0, table.output
    assert "open question" in table.output
    result = CliRunner().invoke(main, ["risk", str(BGMS), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data[0]["id"].startswith("R-") and list(data[0]) == sorted(data[0])
    assert "R-" in table.output  # a narrow terminal may wrap the digest inside its cell


def _check_problems(error: InputError, text: str) -> None:
    assert error.problems
    for problem in error.problems:
        assert problem.message.strip() and problem.fix.strip(), problem
        assert problem.line is None or 1 <= problem.line <= len(text.splitlines()) + 1


MATRIX_DATA = yaml.safe_load(
    (Path(__file__).parent.parent / "src" / "mdrisk" / "data" / "risk-matrix.yaml").read_text(
        "utf-8"
    )
)
ANSWERS_DATA = yaml.safe_load(BGMS_ANSWERS.read_text("utf-8"))
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.floats(-1, 11),
    st.text(max_size=12),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, prefix + (index,))
    return found


def _mutated(data: Any, path: tuple, action: str, value: Any) -> Any:
    copied = copy.deepcopy(data)
    if not path:
        return value
    parent = copied
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copied


@given(st.data())
@FUZZ
def test_a_mutated_matrix_loads_or_is_refused_with_located_problems(data):
    path = data.draw(st.sampled_from(_paths(MATRIX_DATA)))
    action = data.draw(st.sampled_from(["delete", "replace"])) if path else "replace"
    text = yaml.safe_dump(_mutated(MATRIX_DATA, path, action, data.draw(ODD_VALUES)))
    try:
        matrix = matrix_from_text(text, "matrix.yaml")
    except InputError as error:
        assert error.file == "matrix.yaml"
        _check_problems(error, text)
        return
    for severity in SEVERITIES:  # a matrix that loads can rate every cell
        for level in matrix.exploitability_levels:
            matrix.acceptability_of(matrix.level_of(severity, level))


@given(st.data())
@FUZZ
def test_mutated_answers_load_or_are_refused_with_located_problems(data):
    path = data.draw(st.sampled_from(_paths(ANSWERS_DATA)))
    action = data.draw(st.sampled_from(["delete", "replace"])) if path else "replace"
    text = yaml.safe_dump(_mutated(ANSWERS_DATA, path, action, data.draw(ODD_VALUES)))
    try:
        answers_from_text(text, "answers.yaml", RUBRIC)
    except InputError as error:
        assert error.file == "answers.yaml"
        _check_problems(error, text)


# --- the Markdown section --------------------------------------------------------------------


def test_the_markdown_report_explains_each_score_with_model_text_escaped():
    text = BGMS.read_text("utf-8").replace(
        "description: Death or serious injury of the patient",
        'description: "Death <script>alert(1)</script> | **bold** [x](javascript:y)"',
    )
    assessment = assess(load_model_text(text, "hostile.yaml"), created="x")
    report = render_markdown(assessment)
    section = report[report.index("## Risk scoring") :]
    assert "### CVSS vectors from the medical-device rubric" in section
    assert "### Open questions for the analyst" in section
    assert "<script>" not in report and "\\<script\\>" in section
    assert "\\*\\*bold\\*\\*" in section and "\\| \\*\\*bold" in section


# --- severity from measured harm -------------------------------------------------------------


def _finding(loss_scenarios: list[str], worst: str | None, harmed: int = 0) -> ImpactFinding:
    patients = [
        ImpactPatient(
            patient=f"adult#{n:03d}",
            clean={},
            attacked={},
            clean_severity="negligible",
            attacked_severity=worst or "negligible",
            induced_severity=worst if n <= harmed else None,
            stealthy=False,
        )
        for n in range(1, 11)
    ]
    return ImpactFinding(
        id="IM-1",
        status="simulated",
        loss_scenarios=loss_scenarios,
        attack="spoof:60@carbs,15:00",
        patients=patients,
        patients_harmed=harmed,
        worst_induced_severity=worst,
    )


def _with_impact(findings: list[ImpactFinding]) -> tuple[RiskItem, RiskItem]:
    base = _assessed(BGMS)
    before = _risks_at(base, "user_to_app")[0]
    after = assess_risks(
        base.model_copy(update={"impact": findings, "risks": []}), bundled.risk_inputs()
    )
    return before, next(r for r in after if r.id == before.id)


def test_measured_harm_decides_when_the_simulations_cover_the_risk():
    before = _risks_at(_assessed(BGMS), "user_to_app")[0]
    _, after = _with_impact([_finding(before.loss_scenarios, "serious", harmed=7)])
    assert (after.severity.level, after.severity.source) == ("serious", "measured")
    assert "7 of 10 virtual patients" in after.severity.basis
    assert "the analyst rated it catastrophic" in after.severity.basis
    assert _rank(after.level) <= _rank(before.level)


def test_partly_measured_harm_never_lowers_the_analysts_severity():
    before = _risks_at(_assessed(BGMS), "user_to_app")[0]
    _, partly = _with_impact([_finding(before.loss_scenarios[:1], "minor", harmed=2)])
    assert (partly.severity.level, partly.severity.source) == ("catastrophic", "analyst")
    assert "do not cover every loss scenario" in partly.severity.basis
    _, harmless = _with_impact([_finding(before.loss_scenarios, None)])
    assert harmless.severity.level == "catastrophic"
    assert "no attack-induced harm" in harmless.severity.basis


@pytest.mark.usefixtures("isolated_model_cache")
def test_the_glucose_simulator_feeds_the_severity_basis():
    pytest.importorskip("simglucose")
    assessment = assess(load_model(BGMS), created="x", simulate=True)
    cited = [r for r in assessment.risks if "IM-" in r.severity.basis]
    assert cited, "no risk cites a simulation"
    simulated = {f.id for f in assessment.impact if f.status == "simulated"}
    for risk in cited:
        assert any(i in risk.severity.basis for i in simulated)
