"""What the workbench's tests share: a client on a fresh workspace, the CSRF token of a page,
an analysis run to its end, and a hostile model (script in its names)."""

from __future__ import annotations

import json
import re
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "mdrisk" / "examples"
BGMS_TEXT = (EXAMPLES / "bgms.yaml").read_text("utf-8")
SCRIPT = "<script>window.__pwned = 1; document.title = 'PWNED'</script>"


def hostile_model_text() -> str:
    """The glucose device with script in the device's and a component's name and in a
    description that also closes the editor's textarea."""
    text = BGMS_TEXT.replace(
        "  name: GlucoGuide insulin dosing advisor",
        f'  name: "Gluco {SCRIPT} <img src=x onerror=window.__pwned=2>"',
        1,
    )
    text = text.replace(
        "    name: CGM sensor and transmitter",
        f"    name: \"CGM {SCRIPT} <svg onload='window.__pwned=3'>\"",
        1,
    )
    return text.replace(
        "    description: The glucose-insulin dynamics of the person wearing the system.",
        f'    description: "</textarea>{SCRIPT}"',
        1,
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def run_to_end(client, device_id: int, **options: bool) -> dict:
    """Start an analysis through the API and follow its events to the last one."""
    started = client.post(f"/api/devices/{device_id}/runs", json=options)
    assert started.status_code == 202, started.text
    events = []
    with client.stream("GET", f"/api/runs/{started.json()['id']}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    run = client.get(f"/api/runs/{started.json()['id']}").json()
    run["streamed"] = events
    return run
