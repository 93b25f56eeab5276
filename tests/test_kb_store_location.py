"""The knowledge-base snapshot that ships with mdrisk, and the store each command opens."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, PROJECT_ROOT

from mdrisk import bundled as builtin
from mdrisk.cli import main
from mdrisk.kb import store_location
from mdrisk.kb.importing import import_paths
from mdrisk.kb.matching.matcher import Matcher
from mdrisk.kb.matching.query import ComponentQuery
from mdrisk.kb.snapshot import BUNDLE_IMPORTER, SOURCE_FOLDERS, build
from mdrisk.kb.store import Store, StoreError

BGMS = EXAMPLES / "bgms.yaml"
SHIPPED = PROJECT_ROOT / "src" / "mdrisk" / "data" / "kb"
# ICSMA-20-345-01: SOOIL Dana Diabecare RS before 3.0 (the bgms insulin pump).
DANA_CVES = {"CVE-2020-27256", "CVE-2020-27258", "CVE-2020-27264", "CVE-2020-27276"}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def fresh_user(tmp_path, monkeypatch) -> Path:
    """A user with no knowledge base of their own and an empty cache."""
    monkeypatch.setenv("MDRISK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MDRISK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def manifest() -> dict:
    return json.loads((SHIPPED / "kb-snapshot.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rebuilt(shared_data, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("snapshot")
    build(shared_data, folder)
    return folder


def test_the_snapshot_is_small_and_its_notices_ship_with_it():
    shipped = manifest()
    assert (SHIPPED / shipped["file"]).stat().st_size == shipped["xz_bytes"] < 3_000_000
    notice = (SHIPPED / "NOTICE.md").read_text(encoding="utf-8")
    for name in ("ICSMA", "Known Exploited", "Vulnrichment", "ATLAS", "CAPEC", "CWE", "ATT&CK"):
        assert name in notice
    for licence in (
        "ATLAS-LICENSE.txt",
        "LICENSE-Apache-2.0.txt",
        "ATTACK-LICENSE.txt",
        "CAPEC-LICENSE.txt",
        "CWE-TERMS-OF-USE.txt",
    ):
        assert licence in notice and (SHIPPED / licence).is_file()
    assert '"data/kb/*"' in (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_snapshot_holds_what_importing_the_shared_data_gives(shared_data, fresh_user):
    with Store.open(fresh_user / "fresh.sqlite") as fresh:
        import_paths(fresh, [shared_data / name for name in SOURCE_FOLDERS])
        expected_counts, expected_digest = fresh.counts(), fresh.content_digest()
        expected_files = {(s.importer, s.file, s.sha256) for s in fresh.snapshots()}
    with Store.open(store_location.store_to_read(None)) as snapshot:
        assert snapshot.counts() == expected_counts == manifest()["counts"]
        rows = snapshot.snapshots()
    assert {(s.importer, s.file, s.sha256) for s in rows[:-1]} == expected_files
    assert (rows[-1].importer, rows[-1].sha256) == (BUNDLE_IMPORTER, expected_digest)
    assert manifest()["content_digest"] == expected_digest
    assert expected_counts["advisory"] == 124 and expected_counts["kev"] == 1404
    sources = manifest()["sources"]
    assert set(sources) == set(SOURCE_FOLDERS)
    assert sources["cisa-csaf-icsma"]["documents"] == 124
    assert sources["cve-records-vulnrichment"]["documents"] == 230


def test_the_build_is_reproducible(rebuilt, shared_data, tmp_path):
    build(shared_data, tmp_path)
    for name in ("kb-snapshot.sqlite.xz", "kb-snapshot.json"):
        assert (tmp_path / name).read_bytes() == (rebuilt / name).read_bytes()
    assert (
        json.loads((rebuilt / "kb-snapshot.json").read_text())["content_digest"]
        == (manifest()["content_digest"])
    )


def test_a_known_advisory_product_finds_its_cves_through_the_default(fresh_user):
    path = store_location.store_to_read(None)
    assert path.parent == fresh_user / "cache"  # unpacked into the cache, not site-packages
    with Store.open(path) as store:
        matches = Matcher.from_store(store, builtin.vendor_aliases()).match(
            ComponentQuery(vendor="SOOIL", product="Dana Diabecare RS", version="2.9")
        )
    assert DANA_CVES <= {m.id for m in matches}
    result = run("kb", "match", "--vendor", "SOOIL", "--product", "Dana Diabecare RS")
    assert result.exit_code == 0 and "CVE-2020-27256" in result.output
    assert not (fresh_user / "home").exists()  # reading never creates the user's store


def test_analyze_with_kb_uses_the_snapshot_and_says_so(fresh_user):
    out = fresh_user / "out"
    result = run("analyze", str(BGMS), "--kb", "--out", str(out), "--no-svg")
    assert result.exit_code == 0, result.output
    data = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    found = {v["id"] for threat in data["threats"] for v in threat["vulnerabilities"]}
    assert DANA_CVES <= found
    sources = [s["source"] for s in data["provenance"]["kb_snapshots"]]
    assert f"{BUNDLE_IMPORTER}/{manifest()['label']}" in sources
    assert "csaf/icsma-20-345-01.json" in sources
    assert "no knowledge base" not in result.output
    # read only: not even its header changed, no lock files beside it (the cache also holds
    # the validated built-in data, in data/)
    (unpacked,) = (p for p in (fresh_user / "cache").iterdir() if p.name.startswith("kb-"))
    assert store_location.sha256_hex(unpacked.read_bytes()) == manifest()["sqlite_sha256"]


def test_a_user_store_takes_precedence(fresh_user):
    own = fresh_user / "home" / "kb.sqlite"
    Store.open(own).close()
    assert store_location.store_to_read(None) == own
    out = fresh_user / "out"
    result = run("analyze", str(BGMS), "--kb", "--out", str(out), "--no-svg")
    assert result.exit_code == 0, result.output
    assert "is empty" in result.output
    data = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    assert [s["source"] for s in data["provenance"]["kb_snapshots"]] == [
        "technology-pack/mdrisk/data/technology-pack.yaml"
    ]
    named = fresh_user / "named.sqlite"
    with pytest.raises(StoreError, match="no knowledge base at"):
        store_location.store_to_read(named)  # a typo is not an empty knowledge base
    Store.open(named).close()
    assert store_location.store_to_read(named) == named


def test_an_import_into_the_default_store_starts_from_the_snapshot(fresh_user, shared_data):
    sbom = shared_data / "medical-device-sboms" / "case-study-narrow.sbom.cdx.json"
    result = run("kb", "import", str(sbom))
    assert result.exit_code == 0, result.output
    with Store.open(fresh_user / "home" / "kb.sqlite") as store:
        counts = store.counts()
        importers = {s.importer for s in store.snapshots()}
    assert counts["kev"] == 1404 and counts["advisory"] == 124
    assert {"cyclonedx", BUNDLE_IMPORTER, "csaf"} <= importers
    stats = run("kb", "stats")
    assert str(fresh_user / "home" / "kb.sqlite") in stats.output


def _tampered(tmp_path: Path, monkeypatch, change) -> None:
    folder = tmp_path / "shipped"
    shutil.copytree(SHIPPED, folder)
    change(folder)
    monkeypatch.setattr(store_location, "snapshot_folder", lambda: folder)


def _flip_a_byte(folder: Path) -> None:
    path = folder / "kb-snapshot.sqlite.xz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate_and_rehash(folder: Path) -> None:
    """Corrupt, with a manifest that agrees: only unpacking can tell."""
    path = folder / "kb-snapshot.sqlite.xz"
    path.write_bytes(path.read_bytes()[:5000])
    record = json.loads((folder / "kb-snapshot.json").read_text())
    record["xz_sha256"] = store_location.sha256_hex(path.read_bytes())
    (folder / "kb-snapshot.json").write_text(json.dumps(record))


def _garble_the_manifest(folder: Path) -> None:
    (folder / "kb-snapshot.json").write_text('{"format": 1}')


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_flip_a_byte, "does not match its manifest's sha256"),
        (_truncate_and_rehash, "cannot be unpacked"),
        (_garble_the_manifest, "not a usable snapshot manifest"),
    ],
)
def test_a_damaged_snapshot_is_a_clear_error_and_nothing_is_cached(
    fresh_user, monkeypatch, change, message
):
    _tampered(fresh_user, monkeypatch, change)
    result = run("analyze", str(BGMS), "--kb", "--out", str(fresh_user / "out"), "--no-svg")
    assert result.exit_code == 2, result.output
    assert message in result.output and "reinstall mdrisk" in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not (fresh_user / "out").exists()
    cache = fresh_user / "cache"
    assert not cache.exists() or list(cache.iterdir()) == []
    imported = run("kb", "import", str(BGMS))
    assert imported.exit_code == 2 and "reinstall mdrisk" in imported.output
    assert not (fresh_user / "home" / "kb.sqlite").exists()


def test_without_a_shipped_snapshot_the_default_path_is_used(fresh_user, monkeypatch):
    monkeypatch.setattr(store_location, "snapshot_folder", lambda: fresh_user / "nothing")
    assert store_location.store_to_read(None) == fresh_user / "home" / "kb.sqlite"
    result = run("analyze", str(BGMS), "--kb", "--out", str(fresh_user / "out"), "--no-svg")
    assert result.exit_code == 0 and "no knowledge base at" in result.output
