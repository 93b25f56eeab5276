"""What every route reads, one per app: the workspace, the analyses, the assessment cache and
the security settings."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from mdrisk.web.render import PageCache
from mdrisk.web.runs import RunManager
from mdrisk.web.security import Security
from mdrisk.web.service import AssessmentCache
from mdrisk.web.workspace import Workspace


@dataclass
class Workbench:
    workspace: Workspace
    runs: RunManager
    cache: AssessmentCache
    security: Security
    pages: PageCache


def workbench_of(request: Request) -> Workbench:
    bench: Workbench = request.app.state.workbench
    return bench
