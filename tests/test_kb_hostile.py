"""Hostile knowledge-base files and stores (issue 13, ../shared/hostile-inputs/kb/): a cut
or one-entry catalogue release never shrinks the stored one silently, a damaged, foreign or
hand-edited store is refused with how to rebuild it, a typo in --store is an error, a store
on read-only media can be read, and a second writer waits, then says when it gives up.
Every case is bounded in time; the reproducers are read where they are."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import EXAMPLES

import mdrisk
from mdrisk.cli import main
from mdrisk.kb.importing import import_paths
from mdrisk.kb.store import Store, StoreBusy, StoreError

HOSTILE = Path(__file__).resolve().parents[2] / "shared" / "hostile-inputs" / "kb"
CUT_CWE = HOSTILE / "k53-cwe-xinclude.xml"
CUT_ATLAS = HOSTILE / "k62-atlas-truncated.yaml"
# A small importable record kept with the tests, for the tests about stores, not catalogues.
SMALL = (
    Path(__file__).resolve().parent
    / "corpus"
    / "kb"
    / "vulns"
    / "valid"
    / ("cve5-changes-and-cpes.json")
)
SECONDS = 20.0  # the bound for any one command here: every case is a refusal or a small read


def run(*args: str) -> Result:
    started = time.monotonic()
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert time.monotonic() - started < SECONDS, f"{args} took too long"
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def genuine(shared_data: Path) -> dict[str, Path]:
    if not HOSTILE.is_dir():
        pytest.skip(f"hostile reproducers not found at {HOSTILE}")
    return {
        "cwe": shared_data / "mitre-cwe" / "cwec_v4.14.xml",
        "atlas": shared_data / "mitre-atlas" / "ATLAS.yaml",
    }


@pytest.fixture(scope="module")
def catalogue_store(genuine: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the genuine CWE 4.14 and ATLAS releases (built once, copied per test)."""
    path = tmp_path_factory.mktemp("catalogues") / "kb.sqlite"
    with Store.open(path) as store:
        import_paths(store, [genuine["cwe"], genuine["atlas"]])
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def store_copy(catalogue_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "kb.sqlite"
    copy.write_bytes(catalogue_store.read_bytes())
    return copy


def counts(path: Path) -> dict[str, int]:
    with Store.open(path, read_only=True) as store:
        return store.counts()


# --- an import never shrinks a catalogue silently ----------------------------------------


def test_a_one_weakness_cwe_file_is_refused_naming_what_it_would_drop(store_copy):
    with Store.open(store_copy, read_only=True) as store:
        before = store.content_digest()
    started = time.monotonic()
    result = run("kb", "import", str(CUT_CWE), "--store", str(store_copy))
    refused_in = time.monotonic() - started
    assert result.exit_code == 2
    assert str(CUT_CWE) in result.output
    assert "holds 1 weakness record(s) where the knowledge base holds 1,372" in result.output
    assert "would drop 1,371" in result.output and "--replace" in result.output
    assert refused_in < 5.0
    with Store.open(store_copy, read_only=True) as store:
        assert store.content_digest() == before


def test_a_cut_atlas_file_is_refused_for_the_case_studies_it_drops(store_copy):
    result = run("kb", "import", str(CUT_ATLAS), "--store", str(store_copy))
    assert result.exit_code == 2
    assert str(CUT_ATLAS) in result.output
    assert "holds 0 case_study record(s) where the knowledge base holds 57" in result.output
    assert counts(store_copy)["case_study"] == 57


def test_replace_takes_the_smaller_release_and_the_genuine_one_then_comes_back(store_copy, genuine):
    replaced = run("kb", "import", str(CUT_CWE), "--replace", "--store", str(store_copy))
    assert replaced.exit_code == 0, replaced.output
    assert counts(store_copy)["weakness"] == 1
    shown = run("kb", "show", "CWE-1", "--store", str(store_copy))
    assert "root:" not in shown.output  # the XInclude of /etc/passwd was not followed
    again = run("kb", "import", str(genuine["cwe"]), "--store", str(store_copy))
    assert again.exit_code == 0, again.output
    assert "imported 1 file(s) as cwe" in again.output  # not "unchanged"
    assert counts(store_copy)["weakness"] == 1372
    repeated = run("kb", "import", str(genuine["cwe"]), "--store", str(store_copy))
    assert "unchanged: 1 file(s)" in repeated.output and "0 document(s)" in repeated.output


def test_a_cut_release_after_the_genuine_one_in_the_same_import_is_refused(tmp_path, genuine):
    path = tmp_path / "kb.sqlite"
    result = run("kb", "import", str(genuine["cwe"]), str(CUT_CWE), "--store", str(path))
    assert result.exit_code == 2
    assert "holds 1,372 (from cwec_v4.14.xml, earlier in this import)" in result.output
    with Store.open(path, read_only=True) as store:
        assert store.counts().get("weakness") is None  # nothing written


def test_a_growing_release_needs_no_replace(tmp_path, genuine):
    path = tmp_path / "kb.sqlite"
    assert run("kb", "import", str(CUT_CWE), "--store", str(path)).exit_code == 0
    result = run("kb", "import", str(genuine["cwe"]), "--store", str(path))
    assert result.exit_code == 0, result.output
    assert counts(path)["weakness"] == 1372


def test_two_files_of_one_catalogue_do_not_take_turns(tmp_path, shared_data):
    """KEV's JSON and CSV are the same catalogue: importing both again writes nothing."""
    kev = shared_data / "cisa-kev"
    path = tmp_path / "kb.sqlite"
    assert run("kb", "import", str(kev), "--store", str(path)).exit_code == 0
    with Store.open(path, read_only=True) as store:
        before = store.content_digest()
    again = run("kb", "import", str(kev), "--store", str(path))
    assert again.exit_code == 0 and "0 document(s) written" in again.output
    with Store.open(path, read_only=True) as store:
        assert store.content_digest() == before


# --- damaged, foreign and hand-edited stores ------------------------------------------------

READ_COMMANDS = (
    ("kb", "stats"),
    ("kb", "show", "CWE-79"),
    ("kb", "match", "--vendor", "MITRE", "--product", "ATLAS"),
)


def assert_refused_with_rebuild(result: Result, path: Path, what: str) -> None:
    assert result.exit_code == 2, result.output
    assert f"{path}: not a usable knowledge base" in result.output
    assert what in result.output
    assert "rebuild it" in result.output and "mdrisk kb import" in result.output


def test_another_applications_sqlite_file_is_refused_and_left_as_it_was(tmp_path):
    other = tmp_path / "app.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
        connection.execute("INSERT INTO customers VALUES (1, 'Ada')")
    connection.close()
    before = sha256(other)
    for command in (*READ_COMMANDS, ("kb", "import", str(CUT_CWE))):
        result = run(*command, "--store", str(other))
        assert result.exit_code == 2, (command, result.output)
        assert "SQLite file of another application (tables customers)" in result.output
    assert sha256(other) == before
    with sqlite3.connect(other) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
    connection.close()
    assert tables == [("customers",)]


def test_a_store_with_damaged_pages_is_refused(store_copy):
    data = bytearray(store_copy.read_bytes())
    for offset in range(8192, len(data), 65536):
        data[offset : offset + 200] = bytes(range(200))
    store_copy.write_bytes(bytes(data))
    for command in (*READ_COMMANDS, ("kb", "import", str(CUT_CWE))):
        result = run(*command, "--store", str(store_copy))
        assert result.exit_code == 2, (command, result.output)
        assert f"{store_copy}: not a usable knowledge base" in result.output
        assert "rebuild it" in result.output


def test_a_file_of_random_bytes_is_refused(tmp_path):
    path = tmp_path / "kb.sqlite"
    path.write_bytes(os.urandom(64 * 1024))
    for command in (*READ_COMMANDS, ("kb", "import", str(CUT_CWE))):
        assert_refused_with_rebuild(run(*command, "--store", str(path)), path, "")


def edit(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    with connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


def test_a_record_that_is_not_json_is_named(store_copy):
    edit(store_copy, "UPDATE records SET data='{not json' WHERE id='CWE-79'")
    result = run("kb", "show", "CWE-79", "--store", str(store_copy))
    assert_refused_with_rebuild(result, store_copy, "record weakness CWE-79 (document mitre-cwe)")


def test_affected_versions_that_are_not_json_are_named(tmp_path, shared_data):
    path = tmp_path / "kb.sqlite"
    advisory = shared_data / "cisa-csaf-icsma"
    assert run("kb", "import", str(advisory), "--store", str(path)).exit_code == 0
    edit(path, "UPDATE affected SET versions='xx' WHERE rowid=(SELECT MIN(rowid) FROM affected)")
    result = run("kb", "match", "--vendor", "Medtronic", "--product", "x", "--store", str(path))
    assert_refused_with_rebuild(result, path, "the affected versions of CVE-")
    model = EXAMPLES / "bgms.yaml"
    analysed = run("analyze", str(model), "--store", str(path), "--out", str(tmp_path / "out"))
    assert_refused_with_rebuild(analysed, path, "the affected versions of CVE-")


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        ("UPDATE meta SET value='abc' WHERE key='schema_version'", "schema_version is 'abc'"),
        ("UPDATE snapshots SET documents='many'", "documents 'many' are not numbers"),
        ("DROP TABLE relations", "table 'relations' is missing"),
        ("ALTER TABLE affected DROP COLUMN purl", "table 'affected' lacks column(s) purl"),
    ],
)
def test_a_hand_edited_store_is_refused_naming_what_is_wrong(store_copy, statement, what):
    edit(store_copy, statement)
    for command in (*READ_COMMANDS, ("kb", "import", str(CUT_CWE))):
        assert_refused_with_rebuild(run(*command, "--store", str(store_copy)), store_copy, what)


# --- where the store is: typos, read-only media ---------------------------------------------


def test_a_typo_in_store_is_an_error_for_every_reading_command(tmp_path):
    typo = tmp_path / "kb.sqllite"
    model = str(EXAMPLES / "bgms.yaml")
    for command in (
        *READ_COMMANDS,
        ("analyze", model, "--out", str(tmp_path / "out")),
        ("risk", model),
    ):
        result = run(*command, "--store", str(typo))
        assert result.exit_code == 2, (command, result.output)
        assert f"no knowledge base at {typo} (create one with 'mdrisk kb import" in result.output
        assert not typo.exists()
    created = run("kb", "import", str(SMALL), "--store", str(typo))
    assert created.exit_code == 0 and typo.is_file()


def test_reading_changes_nothing_in_the_file(store_copy):
    before = sha256(store_copy)
    for command in READ_COMMANDS:
        assert run(*command, "--store", str(store_copy)).exit_code in (0, 2)
    assert sha256(store_copy) == before


READ_ONLY_MOUNT = 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && shift 2 && exec "$@"'


def on_read_only_media(
    folder: Path, mount_point: Path, *command: str
) -> subprocess.CompletedProcess:
    """Run ``command`` where ``mount_point`` is ``folder`` mounted read-only (a private mount
    namespace: nothing outside the command sees it)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    mount_point.mkdir()
    probe = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            READ_ONLY_MOUNT,
            "sh",
            str(folder),
            str(mount_point),
            "true",
        ],
        capture_output=True,
        timeout=SECONDS,
    )
    if probe.returncode != 0:
        pytest.skip(f"no read-only mount here: {probe.stderr.decode(errors='replace')}")
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", READ_ONLY_MOUNT, "sh", str(folder), str(mount_point)]
        + list(command),
        capture_output=True,
        text=True,
        timeout=SECONDS,
        env={**os.environ, "PYTHONPATH": str(Path(mdrisk.__file__).parents[1])},
    )


def test_a_store_on_read_only_media_can_be_read(store_copy, tmp_path):
    media = tmp_path / "media"
    assert not store_copy.with_name("kb.sqlite-shm").exists()  # WAL store, no lock files
    result = on_read_only_media(
        store_copy.parent,
        media,
        sys.executable,
        "-c",
        "from mdrisk.cli import main; main()",
        "kb",
        "stats",
        "--store",
        str(media / store_copy.name),
    )
    assert result.returncode == 0, result.stderr
    assert "weakness" in result.stdout and "1372" in result.stdout


# --- two writers -----------------------------------------------------------------------------


@pytest.fixture
def held_lock(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """A store another connection holds a write transaction on until the event is set."""
    path = tmp_path / "kb.sqlite"
    Store.open(path).close()
    release = threading.Event()
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(timeout=SECONDS)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=5)
    yield path, release
    release.set()
    holder.join(timeout=SECONDS)


def test_a_second_writer_gives_up_after_the_busy_timeout_and_says_so(held_lock):
    path, _release = held_lock
    started = time.monotonic()
    with pytest.raises(StoreBusy, match="another process is writing .* after waiting 0.5 s"):
        with Store.open(path, busy_timeout=0.5) as store:
            import_paths(store, [SMALL])
    assert 0.4 < time.monotonic() - started < 5


def test_a_second_writer_waits_for_the_first_to_finish(held_lock):
    path, release = held_lock
    threading.Timer(1.0, release.set).start()
    started = time.monotonic()
    heard: list[str] = []
    with Store.open(path, busy_timeout=10, on_wait=heard.append) as store:
        summary = import_paths(store, [SMALL])
    assert summary.documents_changed == 1
    assert heard == [
        f"{path}: another process is writing to the knowledge base; waiting up to 10 s"
    ]
    assert 0.8 < time.monotonic() - started < 10


def test_kb_import_on_a_busy_store_exits_1_saying_it_gave_up(held_lock, monkeypatch):
    path, _release = held_lock
    monkeypatch.setattr("mdrisk.kb.store.BUSY_TIMEOUT_S", 0.3)
    result = run("kb", "import", str(SMALL), "--store", str(path))
    assert result.exit_code == 1
    assert "note: " in result.output and "waiting up to 0.3 s" in result.output
    assert "another process is writing to the knowledge base; gave up after waiting 0.3 s" in (
        result.output
    )


def test_store_error_is_the_one_refusal_type(tmp_path):
    assert issubclass(StoreBusy, StoreError)
    with pytest.raises(StoreError, match="no knowledge base at"):
        Store.open(tmp_path / "none.sqlite", read_only=True)
