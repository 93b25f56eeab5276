"""pipeline.run and report.package, the two steps every command that analyses shares."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from conftest import EXAMPLES

from mdrisk.kb.store import Store, StoreError
from mdrisk.model import load_model
from mdrisk.pipeline import assess, open_knowledge, run
from mdrisk.report.package import UnknownFormat, render_package, resolve_formats

BGMS = EXAMPLES / "bgms.yaml"
CREATED = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def bgms():
    return run(BGMS, created=CREATED)


def test_run_is_load_then_assess(bgms):
    assessment, notes = bgms
    assert notes == []
    assert assessment == assess(load_model(BGMS), created=CREATED)


def test_without_a_store_the_knowledge_is_the_pack_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setenv("MDRISK_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("mdrisk.kb.store_location.BundledSnapshot.find", lambda: None)
    with ExitStack() as stack:
        knowledge, notes = open_knowledge(stack)
    assert knowledge.matcher is None and knowledge.pack.sha256
    assert notes == [
        f"no knowledge base at {tmp_path / 'home' / 'kb.sqlite'}: technology-pack rules "
        "only (add data with 'mdrisk kb import')"
    ]


def test_a_store_named_where_there_is_none_is_an_error(tmp_path):
    with pytest.raises(StoreError, match="no knowledge base at .*none.sqlite"), ExitStack() as s:
        open_knowledge(s, tmp_path / "none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()


def test_an_empty_store_says_so_and_a_store_path_implies_the_knowledge(tmp_path):
    path = tmp_path / "kb.sqlite"
    Store.open(path).close()
    assessment, notes = run(BGMS, store_path=path, created=CREATED)
    assert notes == [f"the knowledge base at {path} is empty: technology-pack rules only"]
    assert assessment.threats


def test_a_file_that_is_no_store_is_refused(tmp_path):
    path = tmp_path / "kb.sqlite"
    path.write_bytes(b"not a database " * 20)
    with pytest.raises(StoreError), ExitStack() as stack:
        open_knowledge(stack, path)


def test_the_package_always_has_the_diagram_and_renders_each_format_once(bgms):
    assessment, _ = bgms
    seen: list[str] = []
    package = render_package(
        assessment, ("json", "markdown", "json"), svg=False, on_format=seen.append
    )
    assert seen == ["json", "markdown"]
    assert set(package.files) == {"assessment.json", "report.md", "control-structure.dot"}


def test_format_names_resolve_aliases_and_refuse_unknown_ones():
    assert resolve_formats(["html,md", "cdx html"]) == ("html", "markdown", "vex")
    with pytest.raises(UnknownFormat, match="docx"):
        resolve_formats(["docx"])
