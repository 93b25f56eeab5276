"""The analyst's workbench: a local web app over the same pipeline the CLI runs.

``workspace``: devices, model versions, assessments and decisions (with their audit trail) in
SQLite in the workspace folder, and the decisions and answers files the CLI reads;
``runs``: analyses in a worker process, their progress and cancellation; ``service``: the
operations pages and API share; ``security``: token, session, CSRF and headers; ``pages``
(HTML) and ``api`` (JSON under /api/) over them; ``app``: the FastAPI application.
No analysis here: every finding comes from ``mdrisk.pipeline`` and the stages' loaders.
"""

from mdrisk.web.app import create_app

__all__ = ["create_app"]
