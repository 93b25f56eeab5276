"""An output folder is replaced as a whole or not at all (issue 13: after SIGKILL, SIGINT or a
write error the folder held the new assessment.json beside the old report.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mdrisk import atomic
from mdrisk.atomic import MANIFEST, ForeignFiles, OutputFolderError, replace_folder
from mdrisk.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "mdrisk" / "examples"
SRC = Path(__file__).resolve().parents[1] / "src"


def _contents(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


def test_a_new_folder_gets_every_file_and_a_manifest(tmp_path):
    out = tmp_path / "out"
    replace_folder(out, {"a.json": b"1", "csv/t.csv": b"x"})
    assert _contents(out) == {"a.json": b"1", "csv/t.csv": b"x", MANIFEST: b"a.json\ncsv\n"}
    assert _siblings(out) == []


def test_a_second_run_replaces_the_first_whole_dropping_files_it_no_longer_writes(tmp_path):
    out = tmp_path / "out"
    replace_folder(out, {"a.json": b"old", "report.pdf": b"old"})
    replace_folder(out, {"a.json": b"new", "b.md": b"new"})
    assert _contents(out) == {"a.json": b"new", "b.md": b"new", MANIFEST: b"a.json\nb.md\n"}
    assert _siblings(out) == []


def test_a_write_error_leaves_the_old_folder_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out"
    replace_folder(out, {"assessment.json": b"old", "report.md": b"old"})
    before = _contents(out)
    real_write = atomic._write_tree

    def failing(root: Path, files: dict[str, bytes]) -> None:
        real_write(root, dict(list(files.items())[:1]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_write_tree", failing)
    with pytest.raises(OSError):
        replace_folder(out, {"assessment.json": b"new", "report.md": b"new"})
    assert _contents(out) == before
    assert _siblings(out) == []


def test_without_an_exchange_the_swap_still_gives_old_or_new(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    out = tmp_path / "out"
    replace_folder(out, {"a": b"old"})
    replace_folder(out, {"a": b"new"})
    assert _contents(out)["a"] == b"new" and _siblings(out) == []


def test_a_folder_with_files_mdrisk_did_not_write_is_refused_and_kept(tmp_path):
    out = tmp_path / "out"
    replace_folder(out, {"a.json": b"old"})
    (out / "notes.txt").write_text("mine", "utf-8")
    with pytest.raises(ForeignFiles) as raised:
        replace_folder(out, {"a.json": b"new"})
    assert raised.value.names == ["notes.txt"]
    assert (out / "notes.txt").read_text("utf-8") == "mine"
    assert (out / "a.json").read_bytes() == b"old"


def test_a_folder_from_before_manifests_is_replaced_when_it_holds_only_our_names(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "assessment.json").write_bytes(b"old")
    replace_folder(out, {"assessment.json": b"new"})
    assert (out / "assessment.json").read_bytes() == b"new"


def test_the_current_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputFolderError):
        replace_folder(Path("."), {"a": b"x"})
    with pytest.raises(OutputFolderError):
        replace_folder(tmp_path.parent, {"a": b"x"})


def test_the_cli_refuses_a_folder_with_foreign_files_with_exit_2(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", "utf-8")
    result = CliRunner().invoke(
        main, ["analyze", str(EXAMPLES / "bgms.yaml"), "--no-svg", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "notes.txt" in result.output and str(out) in result.output


def _run_and_signal(out: Path, model: Path, sig: int) -> None:
    """Start analyze into ``out`` and send ``sig`` as soon as anything in or beside ``out``
    changes: a staging folder appears beside it, or assessment.json is replaced (as the
    probe's killwatch.py did)."""

    def state() -> tuple[set[str], int]:
        try:
            inode = (out / "assessment.json").stat().st_ino
        except FileNotFoundError:
            inode = 0
        return {p.name for p in out.parent.iterdir()}, inode

    before = state()
    process = subprocess.Popen(
        [sys.executable, "-c", "from mdrisk.cli import main; main()"]
        + ["analyze", str(model), "--no-svg", "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if state() != before:  # a staging folder beside it, or a new assessment.json
                process.send_signal(sig)
                break
            time.sleep(0.001)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_killed_run_leaves_all_old_or_all_new(tmp_path, sig):
    """Old run: bgms; new run: another device. The folder must hold one device's files."""
    out = tmp_path / "out"
    first = CliRunner().invoke(
        main, ["analyze", str(EXAMPLES / "bgms.yaml"), "--no-svg", "--out", str(out)]
    )
    assert first.exit_code == 0, first.output
    _run_and_signal(out, EXAMPLES / "vital-signs.yaml", sig)
    if not out.exists():
        pytest.fail("the output folder vanished")
    assessment = (out / "assessment.json").read_text("utf-8")
    report = (out / "report.md").read_text("utf-8")
    old = "GlucoGuide" in assessment
    assert old == ("GlucoGuide" in report), "assessment.json and report.md from different runs"
    if sig == signal.SIGINT:
        assert _siblings(out) == [], "an interrupted run cleans up its staging folder"
    again = CliRunner().invoke(
        main, ["analyze", str(EXAMPLES / "bgms.yaml"), "--no-svg", "--out", str(out)]
    )
    assert again.exit_code == 0, again.output
    assert _siblings(out) == [], "the next run removes what a killed one left beside it"


def _dead_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_next_write_removes_staging_folders_a_killed_write_left(tmp_path):
    out = tmp_path / "out"
    replace_folder(out, {"a.txt": b"1"})
    dead = _dead_pid()
    left = [tmp_path / f".out.new-{dead}-abc123", tmp_path / f".out.old-{dead}-def456"]
    for folder in left:
        folder.mkdir()
        (folder / "assessment.json").write_text("{}")
    old_style = tmp_path / ".out.new-k3j4h5g6"  # written before staging names held a pid
    old_style.mkdir()
    os.utime(old_style, (time.time() - 2 * atomic.LEFT_OVER_AFTER_S,) * 2)
    replace_folder(out, {"a.txt": b"2"})
    assert (out / "a.txt").read_bytes() == b"2"
    assert _siblings(out) == []


def test_a_write_under_way_in_another_process_keeps_its_staging_folder(tmp_path):
    out = tmp_path / "out"
    alive = tmp_path / f".out.new-{os.getpid()}-abc123"  # this process stands for the writer
    alive.mkdir()
    recent = tmp_path / ".out.new-k3j4h5g6"
    recent.mkdir()
    other = tmp_path / f".outer.new-{_dead_pid()}-abc123"  # another folder's: not ours
    other.mkdir()
    replace_folder(out, {"a.txt": b"1"})
    assert alive.is_dir() and recent.is_dir() and other.is_dir()
