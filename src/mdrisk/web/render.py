"""The pages' templates (Jinja2, autoescaped: model text is always escaped) and the few static
files the pages load: the report's style sheet, the workbench's own, and its one script."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
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


class PageCache:
    """Rendered pages that are a function of their key alone (no CSRF token, nothing of the
    visitor's): the register pages, read far more often than anything they show changes."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: str) -> None:
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def rendered(template: str, request: Request, **context: Any) -> str:
    return (
        environment()
        .get_template(template)
        .render(request=request, csrf_token=request.state.csrf, **context)
    )


@lru_cache(maxsize=8)
def static_file(name: str) -> tuple[bytes, str] | None:
    entry = STATIC_FILES.get(name)
    if entry is None:
        return None
    package, path, media = entry
    return (resources.files(package) / path).read_bytes(), media
