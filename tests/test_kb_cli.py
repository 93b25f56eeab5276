"""The knowledge base as an analyst drives it from the command line, on all the shared data."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mdrisk.cli import main
from mdrisk.kb.store import Store


@pytest.fixture(scope="module")
def full_store(shared_data, tmp_path_factory):
    store_path = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    result = CliRunner().invoke(
        main, ["kb", "import", str(shared_data), "--store", str(store_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return store_path, result.output


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_everything_under_the_shared_data_imports(full_store):
    store_path, output = full_store
    for importer in ("atlas", "attack", "capec", "csaf", "cve5", "cwe", "cyclonedx", "kev"):
        assert f"as {importer}" in output
    with Store.open(store_path) as store:
        counts = store.counts()
    for kind in (
        "vulnerability",
        "advisory",
        "kev",
        "weakness",
        "attack_pattern",
        "technique",
        "mitigation",
        "sbom_component",
    ):
        assert counts.get(kind, 0) > 0, kind


def test_a_repeated_import_of_everything_changes_nothing(full_store, shared_data):
    store_path, _ = full_store
    with Store.open(store_path) as store:
        before = store.content_digest()
    result = run("kb", "import", str(shared_data), "--store", str(store_path))
    assert result.exit_code == 0
    assert "0 document(s) written" in result.output
    with Store.open(store_path) as store:
        assert store.content_digest() == before


@pytest.mark.parametrize(
    "identifier",
    ["CVE-2020-27256", "CWE-287", "CAPEC-94", "T0830", "T1557", "AML.T0043", "ICSMA-21-012-01"],
)
def test_show_finds_each_kind_of_id(full_store, identifier):
    store_path, _ = full_store
    result = run("kb", "show", identifier, "--store", str(store_path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] == identifier


def test_show_of_an_unknown_id_exits_2(full_store):
    store_path, _ = full_store
    assert run("kb", "show", "CVE-1999-99999", "--store", str(store_path)).exit_code == 2


def test_match_json_gives_id_confidence_and_reason_and_a_fixed_version_does_not_match(full_store):
    store_path, _ = full_store
    base = [
        "kb",
        "match",
        "--store",
        str(store_path),
        "--vendor",
        "SOOIL",
        "--product",
        "Dana Diabecare RS",
        "--json",
    ]
    affected = json.loads(run(*base, "--version", "2.9").output)
    assert {"CVE-2020-27256", "CVE-2020-27269"} <= {m["id"] for m in affected}
    assert all(0 <= m["confidence"] <= 1 and m["reason"] for m in affected)
    fixed = json.loads(run(*base, "--version", "3.0").output)
    assert not {m["id"] for m in fixed} & {"CVE-2020-27256", "CVE-2020-27269"}


def test_stats_lists_the_snapshots(full_store):
    store_path, _ = full_store
    result = run("kb", "stats", "--store", str(store_path), "--json")
    data = json.loads(result.output)
    assert len(data["snapshots"]) > 300
    assert all(len(s["sha256"]) == 64 for s in data["snapshots"])


@pytest.mark.parametrize("group", ["kb"])
def test_every_kb_subcommand_has_help(group):
    for name in main.get_command(None, group).commands:
        result = run(group, name, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output
