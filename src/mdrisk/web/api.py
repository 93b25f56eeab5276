"""The JSON API under /api/: the pages' operations for CI systems and other tools, described by
the OpenAPI document at /api/openapi.json. Writes take JSON bodies; bad input answers 422
with located problems, unknown ids 404, oversized input 413, and change nothing."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from mdrisk.assessment.decisions import DecisionStatus
from mdrisk.errors import InputError, Problem
from mdrisk.web import service
from mdrisk.web.bench import workbench_of
from mdrisk.web.errors import problem_data
from mdrisk.web.runs import FINISHED, RUN_ID_PATTERN, Run
from mdrisk.web.workspace import AssessmentRow, Device

router = APIRouter(prefix="/api", tags=["workbench"])
POLL_SECONDS = 0.1
KEEPALIVE_SECONDS = 15.0
DeviceId = Annotated[int, Path(ge=1, le=2**62)]
AssessmentId = Annotated[int, Path(ge=1, le=2**62)]
RiskId = Annotated[str, Path(pattern=r"^R-[0-9a-f]{6,64}$")]
RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN)]
DecisionKey = Annotated[str, Path(max_length=200)]
ModelText = Annotated[str, Field(max_length=service.MAX_MODEL_BYTES)]


class NewDevice(BaseModel):
    name: Annotated[str, Field(max_length=service.NAME_LIMIT)] = ""
    example: Annotated[str, Field(max_length=80)] | None = None
    model: ModelText | None = None


class Upload(BaseModel):
    name: Annotated[str, Field(max_length=200)]
    content: Annotated[str, Field(max_length=service.MAX_UPLOAD_BYTES * 2)]
    encoding: Literal["text", "base64"] = "text"

    def data(self) -> bytes:
        if self.encoding == "text":
            return self.content.encode("utf-8")
        try:
            return base64.b64decode(self.content, validate=True)
        except binascii.Error:
            raise InputError(self.name, [Problem("not valid base64")]) from None


class NewDeviceFromSbom(BaseModel):
    name: Annotated[str, Field(max_length=service.NAME_LIMIT)] = ""
    sbom: Upload


class NewDeviceFromDocuments(BaseModel):
    name: Annotated[str, Field(max_length=service.NAME_LIMIT)] = ""
    documents: Annotated[list[Upload], Field(min_length=1, max_length=20)]


class ModelEdit(BaseModel):
    text: ModelText
    note: Annotated[str, Field(max_length=200)] = ""


class ModelCheck(BaseModel):
    text: ModelText


class RunRequest(BaseModel):
    kb: bool = True
    simulate: bool = False
    # Attack the engines' own model files (and, with simulate, the simulated forecaster).
    ml_attacks: bool = False


class DecisionRequest(BaseModel):
    status: DecisionStatus
    owner: Annotated[str, Field(min_length=1, max_length=200)]
    justification: Annotated[str, Field(max_length=4000)] = ""
    date: Annotated[str, Field(max_length=10)] = ""
    vex_justification: Annotated[str, Field(max_length=60)] | None = None


class AnswerRequest(BaseModel):
    target: Annotated[str, Field(max_length=200)] = ""
    question: Annotated[str, Field(max_length=20)]
    answer: Annotated[str, Field(max_length=80)]
    justification: Annotated[str, Field(min_length=1, max_length=4000)]


def _device(device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "name": device.name,
        "origin": device.origin,
        "created": device.created,
    }


def _assessment(row: AssessmentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "device": row.device_id,
        "model_version": row.model_version_id,
        "created": row.created,
        "options": row.options,
        "summary": row.summary,
    }


def _run(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "device": run.device_id,
        "state": run.state,
        "options": run.options,
        "assessment": run.assessment_id,
        "events": [{"kind": e.kind, "text": e.text} for e in run.events],
    }


@router.get("/examples")
def list_examples() -> list[str]:
    """The built-in reference devices a device can start from."""
    return service.examples()


@router.get("/devices")
def list_devices(request: Request) -> list[dict[str, Any]]:
    return [_device(d) for d in workbench_of(request).workspace.devices()]


@router.post("/devices", status_code=201)
def create_device(request: Request, body: NewDevice) -> dict[str, Any]:
    """A device from a built-in example (``example``) or a model's YAML or JSON (``model``)."""
    workspace = workbench_of(request).workspace
    if (body.example is None) == (body.model is None):
        raise InputError("request", [Problem("give either 'example' or 'model'")])
    if body.example is not None:
        return _device(service.create_from_example(workspace, body.example, body.name))
    assert body.model is not None
    return _device(service.create_from_text(workspace, body.name, body.model, "API upload"))


@router.post("/devices/from-sbom", status_code=201)
def create_from_sbom(request: Request, body: NewDeviceFromSbom) -> dict[str, Any]:
    """A draft device model from an SBOM (as ``mdrisk model from-sbom``)."""
    workspace = workbench_of(request).workspace
    return _device(service.create_from_sbom(workspace, body.sbom.name, body.sbom.data(), body.name))


@router.post("/devices/from-documents", status_code=201)
def create_from_documents(request: Request, body: NewDeviceFromDocuments) -> dict[str, Any]:
    """A draft device model from device documents (as ``mdrisk extract``)."""
    files = [(d.name, d.data()) for d in body.documents]
    return _device(service.create_from_documents(workbench_of(request).workspace, files, body.name))


@router.get("/devices/{device_id}")
def get_device(request: Request, device_id: DeviceId) -> dict[str, Any]:
    workspace = workbench_of(request).workspace
    device = service.device(workspace, device_id)
    return {
        **_device(device),
        "model_versions": [
            {"id": v.id, "number": v.number, "note": v.note, "created": v.created}
            for v in workspace.model_versions(device_id)
        ],
        "assessments": [_assessment(a) for a in workspace.assessments(device_id)],
    }


@router.get("/devices/{device_id}/model")
def get_model(request: Request, device_id: DeviceId) -> dict[str, Any]:
    version = service.latest_model(workbench_of(request).workspace, device_id)
    return {"version": version.number, "text": version.text, "created": version.created}


@router.put("/devices/{device_id}/model")
def put_model(request: Request, device_id: DeviceId, body: ModelEdit) -> dict[str, Any]:
    """Save a new model version; 422 with the loader's located problems (nothing saved)."""
    version = service.save_model(workbench_of(request).workspace, device_id, body.text, body.note)
    return {"version": version.number, "created": version.created}


@router.post("/validate")
def validate_model(body: ModelCheck) -> dict[str, Any]:
    """Check a model's text as the loader does: valid, or its problems at their lines."""
    try:
        loaded = service.check_model(body.text)
    except InputError as error:
        return {"valid": False, "problems": [problem_data(p) for p in error.problems]}
    return {
        "valid": True,
        "problems": [],
        "components": len(loaded.model.components),
        "links": len(loaded.model.links),
    }


@router.post("/devices/{device_id}/runs", status_code=202)
def start_run(request: Request, device_id: DeviceId, body: RunRequest) -> dict[str, Any]:
    """Start an analysis (``mdrisk analyze`` with the device's answers and decisions)."""
    bench = workbench_of(request)
    service.device(bench.workspace, device_id)
    return _run(
        bench.runs.start(
            device_id, use_kb=body.kb, simulate=body.simulate, ml_attacks=body.ml_attacks
        )
    )


def _known_run(request: Request, run_id: str) -> Run:
    run = workbench_of(request).runs.get(run_id)
    if run is None:
        raise service.NotFound(f"no analysis {run_id}")
    return run


@router.get("/runs/{run_id}")
def get_run(request: Request, run_id: RunId) -> dict[str, Any]:
    return _run(_known_run(request, run_id))


@router.post("/runs/{run_id}/cancel")
def cancel_run(request: Request, run_id: RunId) -> dict[str, Any]:
    _known_run(request, run_id)
    run = workbench_of(request).runs.cancel(run_id)
    assert run is not None
    return _run(run)


@router.get("/runs/{run_id}/events", response_class=StreamingResponse)
def run_events(request: Request, run_id: RunId) -> StreamingResponse:
    """The analysis's progress as server-sent events (``step``, ``note``, then ``done``,
    ``error`` or ``cancelled``); each data line is JSON."""
    run = _known_run(request, run_id)

    async def stream() -> AsyncIterator[str]:
        # Polled on the event loop: a wait in a worker thread per open page would take the
        # threads the other pages are served from.
        seen, quiet = -1, 0.0
        while True:
            events = run.events_after(seen)
            for event in events:
                seen = event.number
                data = {"kind": event.kind, "text": event.text, "assessment": run.assessment_id}
                yield f"id: {event.number}\nevent: {event.kind}\ndata: {json.dumps(data)}\n\n"
            if run.state in FINISHED and not run.events_after(seen):
                return
            quiet = 0.0 if events else quiet + POLL_SECONDS
            if quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": still running\n\n"
            await anyio.sleep(POLL_SECONDS)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )


@router.get("/assessments/{assessment_id}")
def get_assessment(request: Request, assessment_id: AssessmentId) -> dict[str, Any]:
    bench = workbench_of(request)
    assessment = bench.cache.decided(assessment_id)
    row = bench.workspace.assessment(assessment_id)
    assert row is not None
    return {
        **_assessment(row),
        "risks": len(assessment.risks),
        "scenarios": len(assessment.scenarios),
        "loss_scenarios": len(assessment.loss_scenarios),
        "ml_attacks": len(assessment.ml_attacks),
        "provenance": assessment.provenance.model_dump(mode="json"),
    }


@router.get("/assessments/{assessment_id}/risks")
def list_risks(
    request: Request,
    assessment_id: AssessmentId,
    level: Annotated[str, Query(max_length=80)] = "",
    hazard: Annotated[str, Query(max_length=80)] = "",
    element: Annotated[str, Query(max_length=80)] = "",
    status: Annotated[str, Query(max_length=40)] = "",
) -> dict[str, Any]:
    """The risk register, filtered by level, hazard, entry point (element) and decision status."""
    assessment = workbench_of(request).cache.decided(assessment_id)
    found = service.register(assessment, service.RegisterFilters(level, hazard, element, status))
    return {
        "total": found.total,
        "risks": [
            {
                "id": r.risk.id,
                "title": r.risk.title,
                "element": r.risk.element,
                "hazards": r.risk.hazards,
                "severity": r.risk.severity.level,
                "exploitability": r.risk.exploitability.level,
                "level": r.risk.level,
                "residual": r.risk.residual.level,
                "status": r.status,
            }
            for r in found.rows
        ],
    }


@router.get("/assessments/{assessment_id}/risks/{risk_id}")
def get_risk(request: Request, assessment_id: AssessmentId, risk_id: RiskId) -> dict[str, Any]:
    assessment = workbench_of(request).cache.decided(assessment_id)
    risk = service.risk_of(assessment, risk_id)
    return {
        "risk": risk.model_dump(mode="json"),
        "status": service.risk_status(assessment, risk_id),
        "impact": [
            f.model_dump(mode="json", exclude={"patients"})
            for f in assessment.impact
            if set(f.loss_scenarios) & set(risk.loss_scenarios)
        ],
        "ml_attacks": [
            a.model_dump(mode="json") for a in assessment.ml_attacks if a.id in risk.ml_attacks
        ],
    }


@router.get("/devices/{device_id}/decisions")
def list_decisions(request: Request, device_id: DeviceId) -> list[dict[str, Any]]:
    workspace = workbench_of(request).workspace
    service.device(workspace, device_id)
    return [d.__dict__ for d in workspace.decisions(device_id)]


@router.put("/devices/{device_id}/decisions/{key}")
def put_decision(
    request: Request, device_id: DeviceId, key: DecisionKey, body: DecisionRequest
) -> dict[str, Any]:
    """Record a decision on a finding (R-, LS-, SC-, TH- id, or CVE@scope), with the change
    in the audit trail; the decisions file the next analysis reads is rewritten."""
    row = service.set_decision(
        workbench_of(request).workspace,
        device_id,
        key,
        body.status,
        body.justification,
        body.owner,
        body.date or dt.date.today().isoformat(),
        body.vex_justification,
    )
    return row.__dict__


@router.get("/devices/{device_id}/audit")
def get_audit(request: Request, device_id: DeviceId) -> list[dict[str, Any]]:
    workspace = workbench_of(request).workspace
    service.device(workspace, device_id)
    return [entry.__dict__ for entry in workspace.audit_trail(device_id)]


@router.get("/devices/{device_id}/open-questions")
def get_open_questions(request: Request, device_id: DeviceId) -> list[dict[str, Any]]:
    """The rubric questions the latest assessment answered by the worst case."""
    bench = workbench_of(request)
    service.device(bench.workspace, device_id)
    assessments = bench.workspace.assessments(device_id)
    if not assessments:
        return []
    return [q.__dict__ for q in service.open_questions(bench.cache.raw(assessments[-1].id))]


@router.get("/devices/{device_id}/answers")
def get_answers(request: Request, device_id: DeviceId) -> dict[str, str]:
    workspace = workbench_of(request).workspace
    service.device(workspace, device_id)
    return {"text": workspace.answers_text(device_id)}


@router.post("/devices/{device_id}/answers")
def post_answer(request: Request, device_id: DeviceId, body: AnswerRequest) -> dict[str, str]:
    """Add a rubric answer to the device's answers file (checked against the rubric)."""
    text = service.set_answer(
        workbench_of(request).workspace,
        device_id,
        body.target,
        body.question,
        body.answer,
        body.justification,
    )
    return {"text": text}


@router.get("/compare")
def compare(
    request: Request, old: Annotated[int, Query(ge=1)], new: Annotated[int, Query(ge=1)]
) -> dict[str, Any]:
    """What changed between two assessments, by stable id (as ``mdrisk diff --json``)."""
    difference, _names = service.compare(workbench_of(request).cache, old, new)
    return difference.as_data()


@router.get("/assessments/{assessment_id}/package")
def get_package(
    request: Request,
    assessment_id: AssessmentId,
    formats: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """The evidence package as a zip (what ``mdrisk report`` writes)."""
    assessment = workbench_of(request).cache.decided(assessment_id)
    data, _notes = service.export_package(assessment, tuple(formats or service.DEFAULT_EXPORT))
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="assessment-{assessment_id}-package.zip"'
        },
    )
