"""The built-in data cache: same objects as built from the files, and never a foreign entry."""

from __future__ import annotations

import os
import pickle

import pytest

from mdrisk import data_cache

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the data cache is POSIX only")


def _build():
    return {"built": True}


def test_a_cached_entry_is_read_back_instead_of_built(tmp_path, monkeypatch):
    monkeypatch.setenv("MDRISK_DATA_CACHE", str(tmp_path / "cache"))
    assert data_cache.cached("thing", [b"file"], _build) == {"built": True}
    (entry,) = (tmp_path / "cache").iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600
    assert data_cache.cached("thing", [b"file"], lambda: pytest.fail("built again")) == {
        "built": True
    }


def test_other_file_contents_are_another_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("MDRISK_DATA_CACHE", str(tmp_path))
    data_cache.cached("thing", [b"one"], _build)
    assert data_cache.cached("thing", [b"two"], lambda: "rebuilt") == "rebuilt"


@pytest.mark.parametrize("damage", ["truncated", "group-writable", "folder-writable"])
def test_a_damaged_or_foreign_entry_is_ignored(tmp_path, monkeypatch, damage):
    folder = tmp_path / "cache"
    monkeypatch.setenv("MDRISK_DATA_CACHE", str(folder))
    data_cache.cached("thing", [b"file"], _build)
    (entry,) = folder.iterdir()
    if damage == "truncated":
        entry.write_bytes(pickle.dumps({"built": True})[:5])
    elif damage == "group-writable":
        entry.chmod(0o620)
    else:
        folder.chmod(0o777)
    assert data_cache.cached("thing", [b"file"], lambda: "rebuilt") == "rebuilt"


def test_off_disables_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MDRISK_DATA_CACHE", "off")
    assert data_cache.cache_folder() is None
    assert data_cache.cached("thing", [b"file"], _build) == {"built": True}


def test_the_bundled_objects_survive_the_cache(tmp_path, monkeypatch):
    from mdrisk import bundled

    monkeypatch.setenv("MDRISK_DATA_CACHE", str(tmp_path))
    fresh = []
    for function in (
        bundled.technology_pack,
        bundled.attacker_profiles,
        bundled.scenario_rules,
        bundled.rubric,
        bundled.risk_matrix,
    ):
        function.cache_clear()
        first = function()
        function.cache_clear()
        second = function()  # from the cache folder this time
        fresh.append(first == second)
    assert all(fresh)
    assert len(list(tmp_path.iterdir())) == 5
