"""PDF: the HTML report's print variant, typeset by WeasyPrint (``pip install 'mdrisk[pdf]'``,
which needs the Pango library: Debian ``libpango-1.0-0 libpangoft2-1.0-0``) or, when
WeasyPrint is not installed, printed by headless Chromium (Debian ``chromium``).

The page has no script and loads nothing, so neither engine reaches the network: WeasyPrint
is given a URL fetcher that refuses every URL, Chromium runs with networking features off in
a fresh profile.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mdrisk.assessment import Assessment
from mdrisk.report.html import render_html
from mdrisk.report.interface import PdfEngineMissing, ReportWriter

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_TIMEOUT_S = 120.0


def chromium_executable() -> str | None:
    configured = os.environ.get("MDRISK_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else shutil.which(configured)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def pdf_engine() -> str | None:
    """ "weasyprint", "chromium", or None when neither is installed."""
    if importlib.util.find_spec("weasyprint") is not None:
        return "weasyprint"
    if chromium_executable() is not None:
        return "chromium"
    return None


def _refuse_fetch(url: str, *args: object, **kwargs: object) -> dict:
    raise ValueError(f"the report loads no external resource ({url[:80]})")


# Serialises the only process-wide setting a PDF render changes (see _font_timestamps).
_FONT_CLOCK = threading.Lock()


def _epoch_seconds(created: str) -> int:
    """The assessment's creation time in Unix seconds, 0 when it cannot be read."""
    try:
        moment = dt.datetime.fromisoformat(created)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0, int(moment.timestamp()))


@contextmanager
def _font_timestamps(epoch_seconds: int) -> Iterator[None]:
    """Without HarfBuzz-Subset, WeasyPrint subsets fonts with fontTools, which stamps each
    subset with the current time (the font's ``head.modified``) unless SOURCE_DATE_EPOCH is
    set: the same report would give other bytes every second. A SOURCE_DATE_EPOCH the user
    set is honoured (reproducible-builds convention); otherwise the assessment's own time is
    used for the duration of the render."""
    with _FONT_CLOCK:
        if os.environ.get("SOURCE_DATE_EPOCH"):
            yield
            return
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch_seconds)
        try:
            yield
        finally:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def _weasyprint(html: str, epoch_seconds: int) -> bytes:
    import weasyprint

    document = weasyprint.HTML(string=html, url_fetcher=_refuse_fetch, base_url=None)
    with _font_timestamps(epoch_seconds):
        return document.write_pdf()


def chromium_command(executable: str, profile: Path, source: Path, target: Path) -> list[str]:
    """Headless Chromium with nothing that reaches out (no sync, no component updates)."""
    return [
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={target}",
        source.as_uri(),
    ]


def _chromium(html: str) -> bytes:
    executable = chromium_executable()
    if executable is None:
        raise PdfEngineMissing("no Chromium browser found")
    with tempfile.TemporaryDirectory(prefix="mdrisk-pdf-") as folder:
        work = Path(folder)
        source, target = work / "report.html", work / "report.pdf"
        source.write_text(html, encoding="utf-8")
        completed = subprocess.run(
            chromium_command(executable, work / "profile", source, target),
            capture_output=True,
            timeout=CHROMIUM_TIMEOUT_S,
            check=False,
        )
        if completed.returncode != 0 or not target.is_file():
            tail = completed.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"Chromium could not print the report: {' '.join(tail)}")
        return target.read_bytes()


def render_pdf(assessment: Assessment, engine: str | None = None) -> bytes:
    """The PDF of the report. Raises PdfEngineMissing when no engine is installed."""
    engine = engine or pdf_engine()
    if engine is None:
        raise PdfEngineMissing(
            "PDF needs WeasyPrint (pip install 'mdrisk[pdf]'; Debian: apt-get install -y "
            "libpango-1.0-0 libpangoft2-1.0-0) or Chromium (Debian: apt-get install -y chromium)"
        )
    html = render_html(assessment, for_print=True)
    if engine == "weasyprint":
        return _weasyprint(html, _epoch_seconds(assessment.provenance.created))
    return _chromium(html)


class PdfWriter(ReportWriter):
    name = "pdf"
    file_name = "report.pdf"

    def render(self, assessment: Assessment) -> bytes:
        return render_pdf(assessment)
