"""The pages' templates (Jinja2, autoescaped: model text is always escaped) and the few static
files the pages load: the report's style sheet, the workbench's own, and its one script."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mdrisk import __version__
from mdrisk.report.heatmap import colour_of

# name -> (package, file, media type)
STATIC_FILES = {
    "report.css": ("mdrisk", "templates/report.css", "text/css"),
    "web.css": ("mdrisk.web", "static/web.css", "text/css"),
    "web.js": ("mdrisk.web", "static/web.js", "text/javascript"),
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mdrisk.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.filters["level_colour"] = colour_of
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    page = (
        environment()
        .get_template(template)
        .render(request=request, csrf_token=request.state.csrf, **context)
    )
    return HTMLResponse(page, status_code=status_code)


@lru_cache(maxsize=8)
def static_file(name: str) -> tuple[bytes, str] | None:
    entry = STATIC_FILES.get(name)
    if entry is None:
        return None
    package, path, media = entry
    return (resources.files(package) / path).read_bytes(), media
