"""The workbench's JSON API and pages (issue 15): every endpoint, bad input answered 4xx with a
clear message and nothing changed, unknown ids, oversized uploads, the token off localhost,
CSRF, and model text always escaped."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip(
    "fastapi", reason="the workbench needs the web extra: pip install 'mdrisk[web]'"
)
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (the web extra)")

from fastapi.testclient import TestClient  # noqa: E402
from web_support import BGMS_TEXT, SCRIPT, csrf_of, hostile_model_text, run_to_end  # noqa: E402

from mdrisk.web import create_app  # noqa: E402
from mdrisk.web.security import CONTENT_SECURITY_POLICY  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"
LOCAL = "http://127.0.0.1"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(tmp_path_factory.mktemp("workspace"))
    with TestClient(app, base_url=LOCAL) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def analysed(client):
    """The glucose device, analysed once: (device id, assessment id)."""
    device = client.post("/api/devices", json={"example": "bgms"}).json()
    run = run_to_end(client, device["id"], kb=True)
    assert run["state"] == "done", run
    return device["id"], run["assessment"]


def _state(client, device_id: int) -> tuple:
    """What a refused request must leave as it was."""
    device = client.get(f"/api/devices/{device_id}").json()
    return (
        len(client.get("/api/devices").json()),
        [v["number"] for v in device["model_versions"]],
        client.get(f"/api/devices/{device_id}/decisions").json(),
        client.get(f"/api/devices/{device_id}/audit").json(),
        client.get(f"/api/devices/{device_id}/answers").json(),
    )


def test_the_openapi_description_lists_the_api(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/devices",
        "/api/devices/{device_id}/model",
        "/api/devices/{device_id}/runs",
        "/api/runs/{run_id}/events",
        "/api/runs/{run_id}/cancel",
        "/api/assessments/{assessment_id}/risks",
        "/api/devices/{device_id}/decisions/{key}",
        "/api/devices/{device_id}/answers",
        "/api/compare",
        "/api/assessments/{assessment_id}/package",
    ):
        assert path in paths
    assert not any(path.startswith("/devices") for path in paths)  # the pages stay out


def test_examples_and_devices(client):
    assert "bgms" in client.get("/api/examples").json()
    created = client.post("/api/devices", json={"model": BGMS_TEXT, "name": "Uploaded"})
    assert created.status_code == 201
    device = created.json()
    assert device["name"] == "Uploaded" and device["origin"] == "API upload"
    assert device in client.get("/api/devices").json()
    assert client.get(f"/api/devices/{device['id']}/model").json()["text"] == BGMS_TEXT


def test_a_malformed_model_is_refused_at_its_line_and_nothing_changes(client, analysed):
    device_id, _ = analysed
    before = _state(client, device_id)
    broken = BGMS_TEXT.replace("kind: sensor", "kind: sensr", 1)
    line = broken[: broken.index("kind: sensr")].count("\n") + 1
    for answer in (
        client.post("/api/devices", json={"model": broken}),
        client.put(f"/api/devices/{device_id}/model", json={"text": broken}),
    ):
        assert answer.status_code == 422
        body = answer.json()
        assert "nothing was changed" in body["detail"]
        assert body["problems"][0]["line"] == line
        assert "use one of" in body["problems"][0]["fix"]
    not_yaml = client.post("/api/devices", json={"model": "device: [unclosed"})
    assert not_yaml.status_code == 422 and not_yaml.json()["problems"][0]["line"] == 1
    assert client.post("/api/devices", json={}).status_code == 422
    assert client.post("/api/devices", json={"example": "no-such"}).status_code == 422
    assert _state(client, device_id) == before


def test_live_validation_says_where_and_how_to_fix(client):
    broken = BGMS_TEXT.replace("kind: sensor", "kind: sensr", 1)
    result = client.post("/api/validate", json={"text": broken}).json()
    assert not result["valid"] and result["problems"][0]["line"] > 1
    good = client.post("/api/validate", json={"text": BGMS_TEXT}).json()
    assert good["valid"] and good["components"] > 3


def test_a_new_model_version_is_saved_and_drawn(client):
    device_id = client.post("/api/devices", json={"example": "bgms"}).json()["id"]
    edited = BGMS_TEXT.replace("GlucoGuide insulin", "GlucoGuide II insulin", 1)
    saved = client.put(f"/api/devices/{device_id}/model", json={"text": edited, "note": "II"})
    assert saved.status_code == 200 and saved.json()["version"] == 2
    drawn = client.get(f"/devices/{device_id}/diagram.svg")
    assert drawn.headers["content-type"] == "image/svg+xml" and b"<svg" in drawn.content


def test_oversized_uploads_are_refused_and_change_nothing(client, analysed):
    device_id, _ = analysed
    before = _state(client, device_id)
    huge = "# padding\n" * 300_000 + BGMS_TEXT  # 3 MB, over the 2 MB of a model
    assert client.post("/api/devices", json={"model": huge}).status_code == 422
    page = client.get("/")
    uploaded = client.post(
        "/devices/from-model",
        data={"csrf_token": csrf_of(page.text)},
        files={"model": ("model.yaml", huge.encode(), "application/x-yaml")},
    )
    assert uploaded.status_code == 413 and "over the limit" in uploaded.text
    whole = client.post(
        "/api/devices",
        content=b"{" + b" " * (13 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert whole.status_code == 413
    assert _state(client, device_id) == before


def test_unknown_ids_answer_404_and_malformed_ids_422(client, analysed):
    device_id, assessment_id = analysed
    for url in (
        "/api/devices/999999",
        "/api/devices/999999/model",
        "/api/runs/0123456789abcdef",
        "/api/assessments/999999",
        "/api/assessments/999999/risks",
        f"/api/assessments/{assessment_id}/risks/R-000000",
        f"/api/compare?old={assessment_id}&new=999999",
        "/devices/999999",
        "/assessments/999999",
        f"/assessments/{assessment_id}/risks/R-000000",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        "/api/devices/abc",
        "/api/devices/-1",
        "/api/runs/..%2F..%2Fetc",
        f"/api/assessments/{assessment_id}/risks/..%2Fpasswd",
        "/static/..%2F..%2Fpyproject.toml",
    ):
        assert client.get(url).status_code in (404, 422), url
    before = _state(client, device_id)
    assert client.put("/api/devices/999999/model", json={"text": BGMS_TEXT}).status_code == 404
    assert client.post("/api/runs/0123456789abcdef/cancel", json={}).status_code == 404
    decision = {"status": "open", "owner": "A"}
    assert client.put("/api/devices/999999/decisions/R-f25cc5", json=decision).status_code == 404
    assert _state(client, device_id) == before


def test_an_analysis_streams_its_progress_and_is_recorded(client, analysed):
    device_id, assessment_id = analysed
    device = client.get(f"/api/devices/{device_id}").json()
    assert [a["id"] for a in device["assessments"]] == [assessment_id]
    summary = client.get(f"/api/assessments/{assessment_id}").json()
    assert summary["risks"] > 10 and summary["options"] == "kb"
    risks = client.get(f"/api/assessments/{assessment_id}/risks").json()
    assert risks["total"] == summary["risks"] == len(risks["risks"])


def test_progress_events_end_with_done(client):
    device_id = client.post("/api/devices", json={"example": "bgms"}).json()["id"]
    run = run_to_end(client, device_id, kb=False)
    kinds = [event["kind"] for event in run["streamed"]]
    assert kinds[0] == "step" and kinds[-1] == "done"
    assert "analysing" in [event["text"] for event in run["streamed"]]
    assert run["streamed"][-1]["assessment"] == run["assessment"]


def test_cancel_stops_an_analysis_while_it_simulates_and_records_nothing(client):
    device_id = client.post("/api/devices", json={"example": "bgms"}).json()["id"]
    started = client.post(f"/api/devices/{device_id}/runs", json={"kb": False, "simulate": True})
    run_id = started.json()["id"]
    assert started.json()["options"] == "simulate"
    kinds, texts = [], []
    with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line.removeprefix("data: "))
            kinds.append(event["kind"])
            texts.append(event["text"])
            if event["text"] == "analysing and simulating":  # the simulator is running
                cancelled = client.post(f"/api/runs/{run_id}/cancel", json={})
                assert cancelled.status_code == 200
                assert cancelled.json()["state"] == "cancelled"
    assert "analysing and simulating" in texts
    assert kinds[-1] == "cancelled" and "done" not in kinds
    assert client.get(f"/api/runs/{run_id}").json()["state"] == "cancelled"
    assert client.get(f"/api/devices/{device_id}").json()["assessments"] == []


def test_the_register_filters_by_level_hazard_entry_point_and_status(client, analysed):
    device_id, assessment_id = analysed
    every = client.get(f"/api/assessments/{assessment_id}/risks").json()["risks"]
    first = every[0]
    for name, key in (("level", "level"), ("element", "element"), ("status", "status")):
        kept = client.get(
            f"/api/assessments/{assessment_id}/risks", params={name: first[key]}
        ).json()["risks"]
        assert kept and all(r[key] == first[key] for r in kept)
    hazard = first["hazards"][0]
    kept = client.get(f"/api/assessments/{assessment_id}/risks", params={"hazard": hazard}).json()
    assert all(hazard in r["hazards"] for r in kept["risks"])
    detail = client.get(f"/api/assessments/{assessment_id}/risks/{first['id']}").json()
    assert detail["risk"]["id"] == first["id"] and detail["risk"]["cvss"]


def test_a_decision_is_recorded_audited_and_kept_by_the_next_analysis(client):
    device_id = client.post("/api/devices", json={"example": "bgms"}).json()["id"]
    first = run_to_end(client, device_id, kb=False)
    risk_id = client.get(f"/api/assessments/{first['assessment']}/risks").json()["risks"][0]["id"]
    body = {"status": "accepted", "justification": "Accepted by the board.", "owner": "Lead"}
    recorded = client.put(f"/api/devices/{device_id}/decisions/{risk_id}", json=body)
    assert recorded.status_code == 200 and recorded.json()["status"] == "accepted"
    audit = client.get(f"/api/devices/{device_id}/audit").json()
    assert [(a["key"], a["from_status"], a["to_status"], a["who"]) for a in audit] == [
        (risk_id, None, "accepted", "Lead")
    ]
    again = run_to_end(client, device_id, kb=False)
    kept = client.get(f"/api/assessments/{again['assessment']}/risks/{risk_id}").json()
    assert kept["status"] == "accepted"
    refused = client.put(
        f"/api/devices/{device_id}/decisions/{risk_id}",
        json={"status": "mitigated", "owner": "Lead"},  # no justification
    )
    assert refused.status_code == 422 and "justification" in refused.text
    bad_key = client.put(f"/api/devices/{device_id}/decisions/R-xyz", json=body)
    assert bad_key.status_code == 422
    assert len(client.get(f"/api/devices/{device_id}/audit").json()) == 1


def test_open_questions_and_answers(client, analysed):
    device_id, _ = analysed
    questions = client.get(f"/api/devices/{device_id}/open-questions").json()
    assert questions and all(q["answers"] for q in questions)
    question = questions[0]
    answer = {
        "target": question["target"],
        "question": question["question"],
        "answer": question["answers"][0],
        "justification": "Checked on the bench.",
    }
    written = client.post(f"/api/devices/{device_id}/answers", json=answer)
    assert written.status_code == 200 and question["question"] in written.json()["text"]
    before = client.get(f"/api/devices/{device_id}/answers").json()
    refused = client.post(
        f"/api/devices/{device_id}/answers", json={**answer, "answer": "not-an-answer"}
    )
    assert refused.status_code == 422 and "not an answer" in refused.text
    assert client.get(f"/api/devices/{device_id}/answers").json() == before


def test_compare_two_assessments(client):
    device_id = client.post("/api/devices", json={"example": "bgms"}).json()["id"]
    old = run_to_end(client, device_id, kb=False)["assessment"]
    edited = BGMS_TEXT.replace(
        "    description: Interstitial glucose sensor worn 10 days",
        "    description: Interstitial glucose sensor worn 14 days",
        1,
    )
    client.put(f"/api/devices/{device_id}/model", json={"text": edited})
    new = run_to_end(client, device_id, kb=False)["assessment"]
    difference = client.get("/api/compare", params={"old": old, "new": new}).json()
    assert set(difference) >= {"risks", "loss_scenarios", "scenarios"}
    same = client.get("/api/compare", params={"old": old, "new": old}).json()
    assert all(not s["added"] and not s["removed"] and not s["changed"] for s in same.values())
    page = client.get(f"/devices/{device_id}/compare", params={"old": old, "new": new})
    assert page.status_code == 200 and 'id="diff-risks"' in page.text


def test_the_evidence_package_holds_what_mdrisk_report_writes(client, analysed):
    _, assessment_id = analysed
    answer = client.get(
        f"/api/assessments/{assessment_id}/package",
        params={"formats": ["html", "sarif", "vex", "csv"]},
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert {"assessment.json", "report.html", "control-structure.svg"} <= set(names)
    assert any(n.endswith(".sarif") or "sarif" in n for n in names)
    assert any(n.startswith("csv/") for n in names)
    assert any("vex" in n for n in names)
    refused = client.get(f"/api/assessments/{assessment_id}/package", params={"formats": "exe"})
    assert refused.status_code == 422


def test_drafts_from_an_sbom_and_from_documents(client):
    sbom = (CORPUS / "kb" / "vulns" / "valid" / "cyclonedx-1.6-nested.cdx.json").read_text("utf-8")
    created = client.post(
        "/api/devices/from-sbom", json={"sbom": {"name": "device.cdx.json", "content": sbom}}
    )
    assert created.status_code == 201, created.text
    assert "DRAFT" in client.get(f"/api/devices/{created.json()['id']}/model").json()["text"]
    document = (CORPUS / "documents" / "bgms-user-manual.txt").read_text("utf-8")
    drafted = client.post(
        "/api/devices/from-documents",
        json={"documents": [{"name": "manual.txt", "content": document}]},
    )
    assert drafted.status_code == 201, drafted.text
    count = len(client.get("/api/devices").json())
    not_sbom = client.post(
        "/api/devices/from-sbom", json={"sbom": {"name": "x.json", "content": "{}"}}
    )
    assert not_sbom.status_code == 422
    wrong_kind = client.post(
        "/api/devices/from-documents", json={"documents": [{"name": "a.exe", "content": "MZ"}]}
    )
    assert wrong_kind.status_code == 422
    assert len(client.get("/api/devices").json()) == count


# Pages.


def test_every_page_answers_with_the_content_security_policy(client, analysed):
    device_id, assessment_id = analysed
    risk_id = client.get(f"/api/assessments/{assessment_id}/risks").json()["risks"][0]["id"]
    for url in (
        "/",
        f"/devices/{device_id}",
        f"/devices/{device_id}/answers",
        f"/devices/{device_id}/audit",
        f"/assessments/{assessment_id}",
        f"/assessments/{assessment_id}?level=high",
        f"/assessments/{assessment_id}/risks/{risk_id}",
        "/api/devices",
        "/devices/999999",
    ):
        answer = client.get(url)
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_the_page_forms_work_with_their_csrf_token(client, analysed):
    device_id, assessment_id = analysed
    page = client.get(f"/devices/{device_id}")
    token = csrf_of(page.text)
    broken = BGMS_TEXT.replace("kind: sensor", "kind: sensr", 1)
    line = broken[: broken.index("kind: sensr")].count("\n") + 1
    refused = client.post(f"/devices/{device_id}/model", data={"text": broken, "csrf_token": token})
    assert refused.status_code == 422
    assert f"line {line}</strong>" in refused.text and "fix: use one of" in refused.text
    risk_id = client.get(f"/api/assessments/{assessment_id}/risks").json()["risks"][0]["id"]
    decided = client.post(
        f"/assessments/{assessment_id}/risks/{risk_id}/decision",
        data={"status": "open", "owner": "Page user", "csrf_token": token},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    shown = client.get(decided.headers["location"])
    assert "Decision recorded" in shown.text and "Page user" in shown.text


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, analysed):
    device_id, _ = analysed
    before = _state(client, device_id)
    for data in ({"example": "bgms"}, {"example": "bgms", "csrf_token": "x" * 43}):
        answer = client.post("/devices/from-example", data=data)
        assert answer.status_code == 403 and "CSRF" in answer.text
    answer = client.post(f"/devices/{device_id}/model", data={"text": BGMS_TEXT})
    assert answer.status_code == 403
    # The API takes JSON only: a cross-site form cannot send it.
    as_form = client.post("/api/devices", data={"example": "bgms"})
    assert as_form.status_code == 415
    other_site = client.post(
        "/api/devices", json={"example": "bgms"}, headers={"origin": "http://evil.example"}
    )
    assert other_site.status_code == 403
    assert _state(client, device_id) == before


def test_a_loopback_server_answers_only_to_a_loopback_host(client):
    assert client.get("/api/devices", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/api/devices", headers={"host": "localhost:8000"}).status_code == 200


def test_off_localhost_a_token_is_required(tmp_path):
    with pytest.raises(ValueError, match="token"):
        create_app(tmp_path / "a", host="0.0.0.0")
    app = create_app(tmp_path / "b", host="0.0.0.0", token="s3cret-token")
    with TestClient(app, base_url="http://192.0.2.10:8000") as remote:
        assert remote.get("/api/devices").status_code == 401
        assert remote.post("/api/devices", json={"example": "bgms"}).status_code == 401
        assert remote.get("/", follow_redirects=False).headers["location"] == "/login"
        wrong = {"Authorization": "Bearer wrong"}
        assert remote.get("/api/devices", headers=wrong).status_code == 401
        bearer = {"Authorization": "Bearer s3cret-token"}
        assert remote.get("/api/devices", headers=bearer).json() == []
        login = remote.get("/login")
        assert login.status_code == 200
        refused = remote.post("/login", data={"token": "nope", "csrf_token": csrf_of(login.text)})
        assert refused.status_code == 401
        signed_in = remote.post(
            "/login", data={"token": "s3cret-token", "csrf_token": csrf_of(login.text)}
        )
        assert signed_in.status_code == 200  # followed to the device list
        assert remote.get("/api/devices").status_code == 200


def test_model_text_is_always_escaped(client):
    created = client.post("/api/devices", json={"model": hostile_model_text()})
    assert created.status_code == 201, created.text
    device_id = created.json()["id"]
    for url in ("/", f"/devices/{device_id}"):
        html = client.get(url).text
        assert SCRIPT not in html and "<img src=x" not in html and "<svg onload" not in html
        assert "&lt;script&gt;" in html
    assert "</textarea><script>" not in client.get(f"/devices/{device_id}").text
    drawn = client.get(f"/devices/{device_id}/diagram.svg").content
    assert b"<script" not in drawn


def test_serve_binds_localhost_and_prints_a_token_off_it(monkeypatch, tmp_path):
    import uvicorn
    from click.testing import CliRunner

    from mdrisk.cli import main

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options, app=app))
    local = CliRunner().invoke(main, ["serve", "--workspace", str(tmp_path / "a")])
    assert local.exit_code == 0, local.output
    assert served["host"] == "127.0.0.1" and served["port"] == 8000
    assert "token" not in local.output
    remote = CliRunner().invoke(
        main, ["serve", "--host", "0.0.0.0", "--port", "9001", "--workspace", str(tmp_path / "b")]
    )
    assert remote.exit_code == 0, remote.output
    assert served["host"] == "0.0.0.0" and "token (needed off localhost):" in remote.output
    token = remote.output.split("token (needed off localhost): ")[1].split()[0]
    with TestClient(served["app"], base_url="http://192.0.2.1:9001") as remote_client:
        assert remote_client.get("/api/devices").status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert remote_client.get("/api/devices", headers=bearer).status_code == 200


def test_the_page_forms_for_drafts_answers_and_cancel(client, analysed):
    device_id, _ = analysed
    token = csrf_of(client.get("/").text)
    sbom = (CORPUS / "kb" / "vulns" / "valid" / "cyclonedx-1.6-nested.cdx.json").read_bytes()
    drafted = client.post(
        "/devices/from-sbom",
        data={"csrf_token": token, "name": "From SBOM"},
        files={"sbom": ("bom.cdx.json", sbom, "application/json")},
    )
    assert drafted.status_code == 200 and "From SBOM" in drafted.text
    manual = (CORPUS / "documents" / "bgms-user-manual.txt").read_bytes()
    extracted = client.post(
        "/devices/from-documents",
        data={"csrf_token": token, "name": "From documents"},
        files=[("documents", ("manual.txt", manual, "text/plain"))],
    )
    assert extracted.status_code == 200 and "From documents" in extracted.text

    answers = client.get(f"/devices/{device_id}/answers")
    assert 'id="questions"' in answers.text
    target = answers.text.split('name="target" value="')[1].split('"')[0]
    question = answers.text.split('name="question" value="')[1].split('"')[0]
    answer = answers.text.split('<select name="answer"><option value="')[1].split('"')[0]
    saved = client.post(
        f"/devices/{device_id}/answers",
        data={
            "csrf_token": token,
            "target": target,
            "question": question,
            "answer": answer,
            "justification": "Seen on the bench.",
        },
    )
    assert saved.status_code == 200 and 'id="answer-saved"' in saved.text
    assert "Seen on the bench." in saved.text  # the answers file, shown

    started = client.post(f"/devices/{device_id}/runs", data={"csrf_token": token, "kb": "true"})
    assert started.status_code == 200 and 'id="progress"' in started.text
    run_url = str(started.url)
    cancelled = client.post(f"{run_url}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 200 and 'id="run-state">cancelled' in cancelled.text
    audit = client.get(f"/devices/{device_id}/audit")
    assert audit.status_code == 200 and "Audit trail" in audit.text


def test_an_analysis_can_attack_the_ml_model(client):
    device_id = client.post("/api/devices", json={"example": "bgms"}).json()["id"]
    run = run_to_end(client, device_id, kb=False, ml_attacks=True)
    assert run["options"] == "ml attacks"
    steps = [e.get("text", "") for e in run["streamed"]]
    assert any("influence on its model file" in step for step in steps), steps
    assert any("attacking the ML models" in step for step in steps), steps


def test_an_example_with_a_model_file_is_attacked_from_the_workspace(client):
    pytest.importorskip("art")
    device_id = client.post("/api/devices", json={"example": "breast-cancer"}).json()["id"]
    run = run_to_end(client, device_id, kb=False, ml_attacks=True)
    assert run["state"] == "done", run
    assessment_id = run["assessment"]
    assert client.get(f"/api/assessments/{assessment_id}").json()["ml_attacks"] > 10
    risks = client.get(f"/api/assessments/{assessment_id}/risks").json()["risks"]
    details = [
        client.get(f"/api/assessments/{assessment_id}/risks/{r['id']}").json() for r in risks
    ]
    measured = [d for d in details if d["risk"].get("ml_attacks")]
    assert measured
    for detail in measured:
        assert {a["id"] for a in detail["ml_attacks"]} == set(detail["risk"]["ml_attacks"])
