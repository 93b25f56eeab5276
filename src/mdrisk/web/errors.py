"""Bad input, unknown ids and oversized uploads, answered with a 4xx and a clear message:
JSON under /api/, a page elsewhere. Nothing was changed when one of these is raised."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mdrisk.errors import InputError, Problem
from mdrisk.intake.readers.pdf import PdfSupportMissing
from mdrisk.web.render import render
from mdrisk.web.service import NotFound, TooLarge


def problem_data(problem: Problem) -> dict[str, object]:
    return {
        "message": problem.message,
        "field": problem.field,
        "line": problem.line,
        "fix": problem.fix,
    }


def _answer(
    request: Request, status: int, message: str, problems: list[Problem] | None = None
) -> Response:
    if request.url.path.startswith("/api/"):
        body: dict[str, object] = {"detail": message}
        if problems is not None:
            body["problems"] = [problem_data(p) for p in problems]
        return JSONResponse(body, status_code=status)
    return render(
        request,
        "error.html.j2",
        status_code=status,
        title="Not done" if status != 404 else "Not found",
        message=message,
        problems=problems or [],
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def bad_input(request: Request, error: InputError) -> Response:
        return _answer(
            request,
            422,
            f"{len(error.problems)} problem(s) in {error.file}; nothing was changed",
            error.problems,
        )

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> Response:
        return _answer(request, 404, str(error))

    @app.exception_handler(TooLarge)
    async def too_large(request: Request, error: TooLarge) -> Response:
        return _answer(request, 413, f"{error}; nothing was changed")

    @app.exception_handler(PdfSupportMissing)
    async def no_pdf_reader(request: Request, error: PdfSupportMissing) -> Response:
        # Not the document's fault: this installation cannot read PDFs.
        return _answer(request, 501, f"{error}; nothing was changed")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = [
            Problem(
                str(item.get("msg", "invalid")),
                field=".".join(str(part) for part in item.get("loc", ())),
            )
            for item in error.errors()
        ]
        return _answer(request, 422, "the request is not valid; nothing was changed", problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        return _answer(request, error.status_code, str(error.detail))
