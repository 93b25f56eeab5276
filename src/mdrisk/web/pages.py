"""The pages: server-rendered HTML over the service operations. Every form POST carries its
CSRF token; every id in a path is an integer or a pattern-checked finding id."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mdrisk.assessment.decisions import DECISION_STATUSES
from mdrisk.errors import InputError, Problem
from mdrisk.web import service
from mdrisk.web.bench import workbench_of
from mdrisk.web.render import render, rendered, static_file
from mdrisk.web.runs import RUN_ID_PATTERN
from mdrisk.web.security import CSRF_FIELD, SESSION_COOKIE, UNSAFE_METHODS
from mdrisk.web.workspace import AssessmentRow

MAX_FORM_PART = 4 * 1024 * 1024
RISK_ID = r"^R-[0-9a-f]{6,64}$"
DeviceId = Annotated[int, Path(ge=1, le=2**62)]
AssessmentId = Annotated[int, Path(ge=1, le=2**62)]
RiskId = Annotated[str, Path(pattern=RISK_ID)]
RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN)]


async def csrf_checked(request: Request) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    form = await request.form(max_files=20, max_fields=200, max_part_size=MAX_FORM_PART)
    given = form.get(CSRF_FIELD, "")
    security = workbench_of(request).security
    if not isinstance(given, str) or not security.csrf_valid(request, given):
        raise HTTPException(
            403,
            "the form's CSRF token is missing or out of date: reload the page and send it again",
        )


router = APIRouter(dependencies=[Depends(csrf_checked)], include_in_schema=False)


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _read(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    service.check_size(data, limit, upload.filename or "the upload")
    return data


def _text(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            file, [Problem(f"not UTF-8 text (byte {error.start})", fix="save the file as UTF-8")]
        ) from None


@router.get("/static/{name}")
def static(name: Annotated[str, Path(pattern=r"^[a-z]+\.(css|js)$")]) -> Response:
    found = static_file(name)
    if found is None:
        raise service.NotFound(f"no static file {name}")
    data, media = found
    return Response(data, media_type=media, headers={"Cache-Control": "max-age=300"})


# Signing in (only when the server has a token).


@router.get("/login")
def login_page(request: Request, token: str = "") -> Response:
    security = workbench_of(request).security
    if security.token is None:
        return _see("/")
    if token:
        return _signed_in(request, token)
    return render(request, "login.html.j2", title="Sign in", failed=False)


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()] = "") -> Response:
    return _signed_in(request, token)


def _signed_in(request: Request, token: str) -> Response:
    security = workbench_of(request).security
    if not security.token_matches(token):
        return render(request, "login.html.j2", status_code=401, title="Sign in", failed=True)
    response = _see("/")
    response.set_cookie(
        SESSION_COOKIE, security.session_value, httponly=True, samesite="strict", path="/"
    )
    return response


# Devices.


@router.get("/")
def index(request: Request) -> Response:
    bench = workbench_of(request)
    devices = bench.workspace.devices()
    latest: dict[int, AssessmentRow | None] = {}
    for device in devices:
        rows = bench.workspace.assessments(device.id)
        latest[device.id] = rows[-1] if rows else None
    return render(
        request,
        "index.html.j2",
        title="Devices",
        devices=devices,
        latest=latest,
        examples=service.examples(),
    )


@router.post("/devices/from-example")
def from_example(
    request: Request, example: Annotated[str, Form()], name: Annotated[str, Form()] = ""
) -> Response:
    device = service.create_from_example(workbench_of(request).workspace, example, name)
    return _see(f"/devices/{device.id}")


@router.post("/devices/from-model")
async def from_model(
    request: Request, model: UploadFile, name: Annotated[str, Form()] = ""
) -> Response:
    text = _text(await _read(model, service.MAX_MODEL_BYTES), model.filename or "model.yaml")
    device = service.create_from_text(
        workbench_of(request).workspace, name, text, f"upload {model.filename or 'model'}"
    )
    return _see(f"/devices/{device.id}")


@router.post("/devices/from-documents")
async def from_documents(
    request: Request, documents: list[UploadFile], name: Annotated[str, Form()] = ""
) -> Response:
    files = [
        (upload.filename or "document", await _read(upload, service.MAX_UPLOAD_BYTES))
        for upload in documents
        if upload.filename
    ]
    device = service.create_from_documents(workbench_of(request).workspace, files, name)
    return _see(f"/devices/{device.id}")


@router.post("/devices/from-sbom")
async def from_sbom(
    request: Request, sbom: UploadFile, name: Annotated[str, Form()] = ""
) -> Response:
    data = await _read(sbom, service.MAX_UPLOAD_BYTES)
    device = service.create_from_sbom(
        workbench_of(request).workspace, sbom.filename or "", data, name
    )
    return _see(f"/devices/{device.id}")


def _device_page(
    request: Request,
    device_id: int,
    *,
    text: str | None = None,
    problems: list[Problem] | None = None,
    status_code: int = 200,
    saved: int | None = None,
) -> Response:
    bench = workbench_of(request)
    device = service.device(bench.workspace, device_id)
    versions = bench.workspace.model_versions(device_id)
    latest = versions[-1]
    shown = latest.text if text is None else text
    flagged = {p.line for p in problems or [] if p.line}
    lines = shown.splitlines()
    listing = [
        (number, lines[number - 1], number in flagged)
        for number in sorted(
            {n for line in flagged for n in range(line - 2, line + 3) if 1 <= n <= len(lines)}
        )
    ]
    assessments = bench.workspace.assessments(device_id)
    return render(
        request,
        "device.html.j2",
        status_code=status_code,
        title=device.name,
        device=device,
        versions=versions,
        latest=latest,
        text=shown,
        problems=problems or [],
        listing=listing,
        saved=saved,
        assessments=assessments,
        runs=[r for r in bench.runs.runs_of(device_id) if r.state == "running"],
        decisions=bench.workspace.decisions(device_id),
    )


@router.get("/devices/{device_id}")
def device_page(
    request: Request, device_id: DeviceId, saved: Annotated[int | None, Query()] = None
) -> Response:
    return _device_page(request, device_id, saved=saved)


@router.post("/devices/{device_id}/model")
def save_model(
    request: Request,
    device_id: DeviceId,
    text: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    bench = workbench_of(request)
    service.device(bench.workspace, device_id)
    text = text.replace("\r\n", "\n")
    try:
        version = service.save_model(bench.workspace, device_id, text, note)
    except InputError as error:
        return _device_page(request, device_id, text=text, problems=error.problems, status_code=422)
    return _see(f"/devices/{device_id}?saved={version.number}#model")


@router.get("/devices/{device_id}/diagram.svg")
def diagram(request: Request, device_id: DeviceId) -> Response:
    version = service.latest_model(workbench_of(request).workspace, device_id)
    return Response(service.diagram_svg(version.text), media_type="image/svg+xml")


# Analyses.


@router.post("/devices/{device_id}/runs")
def start_run(
    request: Request,
    device_id: DeviceId,
    kb: Annotated[bool, Form()] = False,
    simulate: Annotated[bool, Form()] = False,
    ml_attacks: Annotated[bool, Form()] = False,
) -> Response:
    bench = workbench_of(request)
    service.device(bench.workspace, device_id)
    run = bench.runs.start(device_id, use_kb=kb, simulate=simulate, ml_attacks=ml_attacks)
    return _see(f"/runs/{run.id}")


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: RunId) -> Response:
    bench = workbench_of(request)
    run = bench.runs.get(run_id)
    if run is None:
        raise service.NotFound(f"no analysis {run_id} (analyses are kept while the server runs)")
    device = service.device(bench.workspace, run.device_id)
    return render(request, "run.html.j2", title="Analysis", run=run, device=device)


@router.post("/runs/{run_id}/cancel")
def cancel_run(request: Request, run_id: RunId) -> Response:
    if workbench_of(request).runs.cancel(run_id) is None:
        raise service.NotFound(f"no analysis {run_id}")
    return _see(f"/runs/{run_id}")


# The register, a risk, decisions.


@router.get("/assessments/{assessment_id}")
def register_page(
    request: Request,
    assessment_id: AssessmentId,
    level: str = "",
    hazard: str = "",
    element: str = "",
    status: str = "",
) -> Response:
    from mdrisk.report.risk_view import heatmap

    bench = workbench_of(request)
    row = bench.workspace.assessment(assessment_id)
    if row is None:
        raise service.NotFound(f"no assessment {assessment_id}")
    filters = service.RegisterFilters(level, hazard, element, status)
    others = [a for a in bench.workspace.assessments(row.device_id) if a.id != assessment_id]
    # Everything the page shows, so a page rendered for this key is this page.
    key = (
        "register",
        assessment_id,
        filters,
        tuple(bench.workspace.decisions(row.device_id)),
        tuple(others),
    )
    page = bench.pages.get(key)
    if page is None:
        assessment = bench.cache.decided(assessment_id)
        device = service.device(bench.workspace, row.device_id)
        page = rendered(
            "register.html.j2",
            request,
            title=f"Risk register: {device.name}",
            device=device,
            row=row,
            assessment=assessment,
            register=service.register(assessment, filters),
            filters=filters,
            heat=heatmap(assessment),
            formats=service.EXPORT_FORMATS,
            default_formats=service.DEFAULT_EXPORT,
            others=others,
        )
        bench.pages.put(key, page)
    return HTMLResponse(page)


@router.get("/assessments/{assessment_id}/risks/{risk_id}")
def risk_page(
    request: Request,
    assessment_id: AssessmentId,
    risk_id: RiskId,
    saved: Annotated[int | None, Query()] = None,
) -> Response:
    bench = workbench_of(request)
    assessment = bench.cache.decided(assessment_id)
    risk = service.risk_of(assessment, risk_id)
    row = bench.workspace.assessment(assessment_id)
    assert row is not None
    device = service.device(bench.workspace, row.device_id)
    current = {d.key: d for d in bench.workspace.decisions(device.id)}.get(risk_id)
    return render(
        request,
        "risk.html.j2",
        title=risk.id,
        device=device,
        row=row,
        risk=risk,
        status=service.risk_status(assessment, risk_id),
        current=current,
        loss_scenarios=[ls for ls in assessment.loss_scenarios if ls.id in risk.loss_scenarios],
        scenarios=[sc for sc in assessment.scenarios if sc.id in risk.scenarios],
        impact=[f for f in assessment.impact if set(f.loss_scenarios) & set(risk.loss_scenarios)],
        hazards={h.id: h.description for h in assessment.device.hazards},
        audit=bench.workspace.audit_trail(device.id, risk_id),
        statuses=DECISION_STATUSES,
        saved=saved,
    )


@router.post("/assessments/{assessment_id}/risks/{risk_id}/decision")
def decide(
    request: Request,
    assessment_id: AssessmentId,
    risk_id: RiskId,
    status: Annotated[str, Form()],
    owner: Annotated[str, Form()],
    justification: Annotated[str, Form()] = "",
) -> Response:
    bench = workbench_of(request)
    row = bench.workspace.assessment(assessment_id)
    if row is None:
        raise service.NotFound(f"no assessment {assessment_id}")
    service.risk_of(bench.cache.raw(assessment_id), risk_id)
    service.set_decision(
        bench.workspace,
        row.device_id,
        risk_id,
        status,
        justification,
        owner,
        dt.date.today().isoformat(),
    )
    return _see(f"/assessments/{assessment_id}/risks/{risk_id}?saved=1")


@router.get("/devices/{device_id}/audit")
def audit_page(request: Request, device_id: DeviceId) -> Response:
    bench = workbench_of(request)
    device = service.device(bench.workspace, device_id)
    return render(
        request,
        "audit.html.j2",
        title=f"Decisions: {device.name}",
        device=device,
        decisions=bench.workspace.decisions(device_id),
        audit=bench.workspace.audit_trail(device_id),
    )


# Answers, compare, export.


@router.get("/devices/{device_id}/answers")
def answers_page(
    request: Request, device_id: DeviceId, saved: Annotated[int | None, Query()] = None
) -> Response:
    bench = workbench_of(request)
    device = service.device(bench.workspace, device_id)
    assessments = bench.workspace.assessments(device_id)
    questions = service.open_questions(bench.cache.raw(assessments[-1].id)) if assessments else []
    return render(
        request,
        "answers.html.j2",
        title=f"Open questions: {device.name}",
        device=device,
        assessment=assessments[-1] if assessments else None,
        questions=questions,
        answers_text=bench.workspace.answers_text(device_id),
        saved=saved,
    )


@router.post("/devices/{device_id}/answers")
def answer(
    request: Request,
    device_id: DeviceId,
    question: Annotated[str, Form(max_length=20)],
    answer: Annotated[str, Form(max_length=80)],
    justification: Annotated[str, Form(max_length=4000)],
    target: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    service.set_answer(
        workbench_of(request).workspace, device_id, target, question, answer, justification
    )
    return _see(f"/devices/{device_id}/answers?saved=1")


@router.get("/devices/{device_id}/compare")
def compare_page(
    request: Request,
    device_id: DeviceId,
    old: Annotated[int, Query(ge=1)],
    new: Annotated[int, Query(ge=1)],
) -> Response:
    bench = workbench_of(request)
    device = service.device(bench.workspace, device_id)
    for assessment_id in (old, new):
        found = bench.workspace.assessment(assessment_id)
        if found is None or found.device_id != device_id:
            raise service.NotFound(f"no assessment {assessment_id} of this device")
    difference, names = service.compare(bench.cache, old, new)
    return render(
        request,
        "compare.html.j2",
        title=f"Compare {old} and {new}",
        device=device,
        old=old,
        new=new,
        difference=difference,
        names=names,
    )


@router.get("/assessments/{assessment_id}/package.zip")
def package(
    request: Request,
    assessment_id: AssessmentId,
    formats: Annotated[list[str] | None, Query()] = None,
) -> Response:
    bench = workbench_of(request)
    assessment = bench.cache.decided(assessment_id)
    data, _notes = service.export_package(assessment, tuple(formats or service.DEFAULT_EXPORT))
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="assessment-{assessment_id}-package.zip"'
        },
    )
