"""The FastAPI application: the workspace, the analyses, the pages and the API, behind the
checks of :mod:`mdrisk.web.security`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mdrisk import __version__
from mdrisk.web.bench import Workbench
from mdrisk.web.render import PageCache
from mdrisk.web.runs import RunManager
from mdrisk.web.security import (
    CSRF_COOKIE,
    HEADERS,
    MAX_BODY_BYTES,
    UNSAFE_METHODS,
    Security,
)
from mdrisk.web.service import AssessmentCache
from mdrisk.web.workspace import Workspace


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _refusal(request: Request, status: int, message: str) -> Response:
    if _is_api(request) or request.method not in ("GET", "HEAD"):
        return JSONResponse({"detail": message}, status_code=status)
    return Response(message + "\n", status_code=status, media_type="text/plain")


def create_app(
    workspace_dir: Path,
    *,
    host: str = "127.0.0.1",
    token: str | None = None,
    allowed_hosts: set[str] | None = None,
) -> FastAPI:
    """The workbench over the workspace in ``workspace_dir`` (created when missing).
    ValueError when ``host`` is not a loopback address and no ``token`` is given."""
    security = Security(host=host, token=token, allowed_hosts=set(allowed_hosts or ()))
    workspace = Workspace(workspace_dir)
    runs = RunManager(workspace)
    bench = Workbench(workspace, runs, AssessmentCache(workspace), security, PageCache())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runs.warm_up()
        yield
        runs.shutdown()

    app = FastAPI(
        title="mdrisk workbench",
        version=__version__,
        description="The analyst's workbench over the mdrisk pipeline: devices, models, "
        "analyses, the risk register, decisions, answers, diffs and evidence packages.",
        # The interactive documentation pages load scripts from a CDN: only the description.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.workbench = bench

    app.add_middleware(Guard, security=security)

    from mdrisk.web import api, errors, pages

    errors.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


class Guard:
    """Every request's checks (:mod:`mdrisk.web.security`) and every response's headers, as
    plain ASGI middleware (it neither reads nor buffers a body, so event streams pass)."""

    def __init__(self, app: ASGIApp, security: Security) -> None:
        self.app = app
        self.security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        csrf = self.security.csrf_of(request)
        scope.setdefault("state", {})["csrf"] = csrf
        new_cookie = request.cookies.get(CSRF_COOKIE) != csrf

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if new_cookie:
                    headers.append(
                        "set-cookie", f"{CSRF_COOKIE}={csrf}; HttpOnly; Path=/; SameSite=strict"
                    )
            await send(message)

        refusal = _refusal_of(request, self.security)
        await (refusal or self.app)(scope, receive, send_with_headers)


def _refusal_of(request: Request, security: Security) -> Response | None:
    """The answer to a request the checks refuse, None when it may go on."""
    if not security.host_allowed(request):
        return _refusal(request, 400, "this server answers only requests to localhost")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return _refusal(request, 413, f"the request is over {MAX_BODY_BYTES} bytes")
    if not security.authenticated(request):
        if not _is_api(request) and request.method in ("GET", "HEAD"):
            return RedirectResponse("/login", status_code=303)
        return _refusal(
            request, 401, "a token is needed: send 'Authorization: Bearer TOKEN' or log in"
        )
    if request.method in UNSAFE_METHODS:
        if not security.same_origin(request):
            return _refusal(request, 403, "a request from another site was refused")
        if _is_api(request) and not security.api_write_allowed(request):
            return _refusal(request, 415, "send JSON (Content-Type: application/json) to the API")
    return None
