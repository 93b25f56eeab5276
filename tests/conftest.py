"""Shared test settings: the real public data folder and the built-in examples."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT_ROOT / "src" / "mdrisk" / "examples"


def data_dir() -> Path:
    return Path(os.environ.get("MDRISK_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data. Absent: skip, except under CI=true where it is a failure."""
    folder = data_dir()
    if not folder.is_dir():
        message = f"real public data not found at {folder} (set MDRISK_DATA_DIR)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture
def simglucose_tables() -> None:
    """The virtual patients' tables ship with simglucose: skip without it, fail under CI."""
    if importlib.util.find_spec("simglucose") is None:
        message = "simglucose is not installed: no patient tables (pip install -e '.[sim]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Never the user's ~/.cache: the bundled knowledge base
    is unpacked here and the built-in data cached, once per run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MDRISK_CACHE_DIR", str(tmp_path_factory.mktemp("session-cache")))
        yield


@pytest.fixture(scope="module")
def isolated_model_cache(tmp_path_factory):
    """A fresh forecaster cache per test module, never the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MDRISK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


def example_models() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))
