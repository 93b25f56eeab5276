"""The LLM client against the hostile endpoint of the probe (../shared/hostile-inputs/
scripts/server.py, one behaviour per path segment) on 127.0.0.1: every answer ends within its
timeout however the server paces its bytes, Retry-After is capped by a minute and by the time
left, and oversized or absurdly nested JSON is refused, never a crash."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, PROJECT_ROOT

from mdrisk.cli import main
from mdrisk.llm.client import MAX_RETRY_AFTER, ChatClient, Message
from mdrisk.llm.config import EndpointConfig
from mdrisk.llm.errors import EndpointBadResponse, EndpointHTTPError, EndpointTimeout
from mdrisk.llm.validate import parse_json_object
from mdrisk.model import load_model
from mdrisk.pipeline import assess
from mdrisk.report.canonical_json import canonical_json

HOSTILE = Path(
    os.environ.get("MDRISK_HOSTILE_DIR", PROJECT_ROOT.parent / "shared" / "hostile-inputs")
)
SERVER = HOSTILE / "scripts" / "server.py"
MESSAGES = [Message("user", "Narrate scenario SC-1.")]

pytestmark = pytest.mark.skipif(not SERVER.is_file(), reason=f"no hostile server at {SERVER}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def hostile_base() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(SERVER), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.monotonic()
        while time.monotonic() - started < 10:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("the hostile server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _client(base: str, mode: str, timeout: float, retries: int = 2) -> tuple[ChatClient, Sleeps]:
    sleeps = Sleeps()
    config = EndpointConfig(f"{base}/{mode}/v1", "tiny", timeout=timeout, retries=retries)
    return ChatClient(config, sleep=sleeps), sleeps


@pytest.mark.parametrize("mode", ["drip", "slowhead"])
def test_an_answer_ends_within_its_timeout_however_slowly_the_bytes_come(hostile_base, mode):
    client, sleeps = _client(hostile_base, mode, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(EndpointTimeout, match="did not answer within 1 s"):
        client.complete(MESSAGES)
    assert time.monotonic() - started < 3  # drip took 109 s
    assert sleeps == []


def test_retry_after_is_capped_at_a_minute(hostile_base):
    client, sleeps = _client(hostile_base, "e429", timeout=600.0, retries=2)
    with pytest.raises(EndpointHTTPError) as refused:
        client.complete(MESSAGES)
    assert refused.value.status == 429
    assert sleeps == [MAX_RETRY_AFTER, MAX_RETRY_AFTER]  # it asked for 100000 s


def test_a_retry_after_past_the_time_left_gives_up_at_once_and_says_why(hostile_base):
    client, sleeps = _client(hostile_base, "e429", timeout=5.0, retries=2)
    started = time.monotonic()
    with pytest.raises(EndpointHTTPError, match="asks to wait 100000 s") as refused:
        client.complete(MESSAGES)
    assert time.monotonic() - started < 3 and sleeps == []
    assert "--timeout" in str(refused.value)


@pytest.mark.parametrize(
    ("mode", "words"),
    [("huge", "more than"), ("deepouter", "nested deeper than"), ("garbage", "not JSON")],
)
def test_oversized_nested_or_garbage_bodies_are_refused(hostile_base, mode, words):
    client, _ = _client(hostile_base, mode, timeout=10.0, retries=0)
    with pytest.raises(EndpointBadResponse, match=words):
        client.complete(MESSAGES)


def test_a_deeply_nested_answer_is_a_rejected_answer_not_a_crash(hostile_base):
    client, _ = _client(hostile_base, "deep", timeout=10.0, retries=0)
    content = client.complete(MESSAGES).content
    with pytest.raises(ValueError, match="nested deeper than"):
        parse_json_object(content)


def test_enrich_with_a_one_second_timeout_against_a_dripping_server_ends_in_seconds(
    hostile_base, tmp_path
):
    source = tmp_path / "assessment.json"
    loaded = load_model(EXAMPLES / "bgms.yaml")
    source.write_text(canonical_json(assess(loaded, "2026-01-01T00:00:00Z")), encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(
        main,
        [
            "enrich",
            str(source),
            "--out",
            str(tmp_path / "out"),
            "--base-url",
            f"{hostile_base}/drip/v1",
            "--model",
            "tiny",
            "--timeout",
            "1",
            "--limit",
            "1",
            "--attempts",
            "1",
        ],
    )
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"took {elapsed:.1f} s"  # was 109 s
    assert "did not answer within 1 s" in result.output
    assert "internal error" not in result.output
