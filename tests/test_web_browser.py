"""The workbench in a real browser (issue 15): Playwright drives Debian's Chromium, headless,
through the analyst's whole journey, and a hostile model runs no script in any page.

The server runs in a thread of this process on a free port. Screenshots go to
tests/artifacts/web/ (git-ignored; the folder is printed). Chromium is Debian's
(/usr/bin/chromium, apt-get install chromium): 'playwright install' is never needed.
"""

from __future__ import annotations

import io
import re
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip(
    "fastapi", reason="the workbench needs the web extra: pip install 'mdrisk[web]'"
)
pytest.importorskip(
    "uvicorn", reason="the workbench needs the web extra: pip install 'mdrisk[web]'"
)
pytest.importorskip("playwright", reason="browser tests need Playwright: pip install playwright")

import uvicorn  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from web_support import BGMS_TEXT, hostile_model_text  # noqa: E402

from mdrisk.web import create_app  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "web"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ANALYSIS_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
)


class ServerThread(threading.Thread):
    """uvicorn serving the app on a socket this test bound (a free port)."""

    def __init__(self, app, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.sock = sock

    def run(self) -> None:
        self.server.run(sockets=[self.sock])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say they are TCP
    # (without it every keep-alive response waits ~40 ms for a delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = ServerThread(create_app(tmp_path_factory.mktemp("workspace")), sock)
    thread.start()
    started = threading.Event()
    while not started.wait(0.02):  # readiness, bounded: uvicorn says when it listens
        if thread.server.started or not thread.is_alive():
            break
    assert thread.server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    thread.server.should_exit = True
    thread.join(timeout=30)
    sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    opened.dialogs = []  # type: ignore[attr-defined]
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
    yield opened
    context.close()


class Shots:
    def __init__(self, page: Page, name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        print(f"screenshots: {self.folder}")

    def take(self, label: str) -> None:
        self.count += 1
        self.page.screenshot(
            path=str(self.folder / f"{self.count:02d}-{label}.png"), full_page=True
        )


def _run_analysis(page: Page) -> None:
    page.get_by_role("button", name="Run analysis").click()
    expect(page.locator("#register-link")).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
    expect(page.locator("#run-state")).to_have_text("done")
    page.locator("#register-link").click()
    expect(page.locator("#risks")).to_be_visible()


def test_the_analysts_journey(page: Page, base_url: str):
    shots = Shots(page, "journey")
    page.goto(base_url)
    expect(page.get_by_role("heading", name="Devices", exact=True)).to_be_visible()
    shots.take("devices")

    # Create a device from the built-in glucose device.
    page.locator("#from-example select[name=example]").select_option("bgms")
    page.get_by_role("button", name="Create from example").click()
    expect(page.get_by_role("heading", name="GlucoGuide insulin dosing advisor")).to_be_visible()
    device_url = page.url
    shots.take("device")

    # Edit it: a misspelt kind is shown at its line, live and on save, with the fix.
    broken = BGMS_TEXT.replace("kind: sensor", "kind: sensr", 1)
    line = broken[: broken.index("kind: sensr")].count("\n") + 1
    page.locator("#model-text").fill(broken)
    expect(page.locator("#live-problems")).to_contain_text(f"line {line}")
    page.get_by_role("button", name="Save model").click()
    expect(page.locator("#problems")).to_contain_text(f"line {line}")
    expect(page.locator("#problems")).to_contain_text("fix: use one of")
    expect(page.locator("#listing .flagged")).to_contain_text("kind: sensr")
    shots.take("located-error")

    # Fix it: saved as version 2, the diagram redrawn.
    fixed = BGMS_TEXT.replace("GlucoGuide insulin dosing", "GlucoGuide II insulin dosing", 1)
    page.locator("#model-text").fill(fixed)
    expect(page.locator("#live-problems")).to_contain_text("Valid")
    page.get_by_role("button", name="Save model").click()
    expect(page.locator("#saved")).to_contain_text("model version 2")
    page.wait_for_function(
        "() => { const d = document.getElementById('diagram');"
        " return d.complete && d.naturalWidth > 0 && d.src.endsWith('v=2'); }"
    )
    shots.take("fixed")

    # Run the analysis and follow it to the register.
    _run_analysis(page)
    register_url = page.url.split("?")[0]
    total = int(re.search(r"of (\d+)\)", page.locator("#register h2").inner_text()).group(1))
    shots.take("register")

    # Filter the register by level and by entry point.
    level = page.locator("#risks tbody tr").first.locator("td").nth(5).inner_text().strip()
    page.locator("#filters select[name=level]").select_option(level)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"level="))
    levels = page.locator("#risks tbody tr td:nth-child(6)").all_inner_texts()
    assert levels and {text.strip() for text in levels} == {level}
    element = page.locator("#risks tbody tr").first.locator("td").nth(1).inner_text().strip()
    page.locator("#filters select[name=element]").select_option(element)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"element="))
    kept = page.locator("#risks tbody tr td:nth-child(2)").all_inner_texts()
    assert kept and {text.strip() for text in kept} == {element} and len(kept) <= total
    shots.take("filtered")

    # Record a decision on the first risk.
    first = page.locator("#risks tbody tr").first.locator("td a").first
    risk_id = first.inner_text().strip()
    first.click()
    expect(page.get_by_role("heading", name=risk_id, exact=True)).to_be_visible()
    page.locator("#decision-form select[name=status]").select_option("accepted")
    page.locator("#decision-form textarea[name=justification]").fill(
        "Accepted by the risk review board (RRB-2026-14)."
    )
    page.locator("#decision-form input[name=owner]").fill("J. Rivera")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#decision-saved")).to_be_visible()
    expect(page.locator("#decision-status")).to_have_text("accepted")
    expect(page.locator("#audit")).to_contain_text("J. Rivera")
    shots.take("decision")

    # Re-run: the decision is kept.
    page.goto(device_url)
    _run_analysis(page)
    assert page.url.split("?")[0] != register_url
    page.locator("#filters select[name=status]").select_option("accepted")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#risks")).to_contain_text(risk_id)
    shots.take("decision-kept")

    # Compare the two assessments.
    page.goto(device_url)
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#diff-risks")).to_be_visible()
    shots.take("compare")

    # Download the evidence package.
    page.go_back()
    page.locator("#assessments a", has_text="Risk register").first.click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download package (zip)").click()
    download = download_info.value
    saved = ARTIFACTS / "journey" / download.suggested_filename
    download.save_as(saved)
    names = zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist()
    assert {"report.html", "assessment.json"} <= set(names)
    assert any(name.startswith("csv/") for name in names)
    shots.take("exported")
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_a_hostile_model_runs_no_script(page: Page, base_url: str, tmp_path):
    shots = Shots(page, "hostile")
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    model = tmp_path / "hostile.yaml"
    model.write_text(hostile_model_text(), "utf-8")
    page.goto(base_url)
    page.locator("#from-model input[name=model]").set_input_files(str(model))
    page.get_by_role("button", name="Upload model").click()
    expect(page.locator("#model-text")).to_contain_text("<script>")  # shown as text
    _assert_no_script_ran(page)
    shots.take("device")
    _run_analysis(page)
    _assert_no_script_ran(page)
    shots.take("register")
    page.locator("#risks tbody tr td a").first.click()
    expect(page.locator("#decision-form")).to_be_visible()
    _assert_no_script_ran(page)
    shots.take("risk")
    page.goto(base_url)
    expect(page.locator("#devices")).to_contain_text("<script>")
    _assert_no_script_ran(page)
    shots.take("devices")
    assert violations == []  # nothing injected even reached the policy


def _assert_no_script_ran(page: Page) -> None:
    assert page.evaluate("() => window.__pwned") is None
    assert page.title() != "PWNED"  # the name itself is in the title, as text
    assert page.locator("script:not([src='/static/web.js'])").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]
