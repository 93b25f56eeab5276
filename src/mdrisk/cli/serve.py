"""``mdrisk serve``: the analyst's workbench, a local web app over the same pipeline."""

from __future__ import annotations

from pathlib import Path

import click

from mdrisk.cli.common import err_console, guarded, out_console


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workspace",
    "workspace_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("mdrisk-workspace"),
    show_default=True,
    help="Folder of the workspace: devices, models, assessments, decisions (SQLite), and the "
    "decisions and answers files each analysis reads.",
)
@click.option(
    "--token",
    default=None,
    help="Require this token (bearer header or sign-in). Off this computer (a --host other "
    "than 127.0.0.1) one is required: generated and printed when not given.",
)
@guarded
def serve(host: str, port: int, workspace_dir: Path, token: str | None) -> None:
    """Start the analyst's workbench: a local web app to model devices, run analyses, read
    and decide risks, answer rubric questions, compare and export.

    Needs the web extra: pip install 'mdrisk[web]'. Binds 127.0.0.1 unless told otherwise;
    on any other address every request needs the token.
    """
    try:
        import uvicorn

        from mdrisk.web import create_app
        from mdrisk.web.security import is_loopback, new_token
    except ImportError as missing:
        raise click.ClickException(
            f"the workbench needs {missing.name} (fix: pip install 'mdrisk[web]')"
        ) from None
    if token is None and not is_loopback(host):
        token = new_token()
        err_console.print(f"token (needed off localhost): {token}", markup=False)
    app = create_app(workspace_dir.resolve(), host=host, token=token)
    shown = f"[{host}]" if ":" in host else host
    out_console.print(
        f"mdrisk workbench on http://{shown}:{port}/ (workspace {workspace_dir.resolve()})",
        markup=False,
    )
    if token:
        out_console.print(f"sign in at http://{shown}:{port}/login", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")
