"""Shared test settings: the real public data folder, the built-in examples, and a session
that never touches the user's own mdrisk folders or settings."""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT_ROOT / "src" / "mdrisk" / "examples"


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its example database under the current directory: keep it in the
    project's own (git-ignored) folder, whichever directory the tests are run from."""
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:
        return
    set_hypothesis_home_dir(PROJECT_ROOT / ".hypothesis")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """The order's seed also under -q, which hides pytest-randomly's header line."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.hasplugin("randomly") and isinstance(seed, int):
        terminalreporter.write_line(f"random test order: rerun it with --randomly-seed={seed}")


# Settings a developer may have exported that would change what a test sees: the endpoints and
# keys of online sources and LLMs, a reproducible-build clock, tracebacks on errors.
_USER_SETTINGS = ("MDRISK_DEBUG", "NVD_API_KEY", "OPENFDA_API_KEY", "SOURCE_DATE_EPOCH")
_USER_SETTING_PREFIXES = ("MDRISK_LLM_", "MDRISK_SYNC_")


@pytest.fixture(scope="session", autouse=True)
def isolated_user_folders(tmp_path_factory) -> Iterator[Path]:
    """The knowledge base ($MDRISK_HOME) and the cache ($MDRISK_CACHE_DIR: the unpacked
    bundled snapshot, the validated built-in data, trained forecasters) in a folder of this
    session (of this worker under xdist), never ~/.local/share or ~/.cache, so that no test
    reads what the user or another run left there, or leaves anything."""
    home = tmp_path_factory.mktemp("user")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MDRISK_HOME", str(home / "mdrisk"))
        patch.setenv("MDRISK_CACHE_DIR", str(home / "cache"))
        for name in list(os.environ):
            if name in _USER_SETTINGS or name.startswith(_USER_SETTING_PREFIXES):
                patch.delenv(name)
        yield home


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections for the whole test: bound, never
    listening, so no other test or worker can be given it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


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


def import_real_advisories(store: Any, shared_data: Path) -> Any:
    """The store with the shared CISA medical advisories (CSAF) and CVE records imported."""
    from mdrisk.kb.importing import import_paths

    import_paths(
        store,
        [shared_data / "cisa-csaf-icsma", shared_data / "cve-records-vulnrichment" / "records"],
    )
    return store


@pytest.fixture
def simglucose_tables() -> None:
    """The virtual patients' tables ship with simglucose: skip without it, fail under CI."""
    if importlib.util.find_spec("simglucose") is None:
        message = "simglucose is not installed: no patient tables (pip install -e '.[sim]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def isolated_model_cache(tmp_path_factory):
    """A fresh forecaster cache per test module, never the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MDRISK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


def example_models() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))
