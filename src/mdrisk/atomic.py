"""Write files so that a reader sees the old content or the new, never half of one."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import tempfile
import threading
import time
from glob import escape as glob_escape
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back.
    current = os.umask(0o022)
    os.umask(current)
    return current


# The list of what mdrisk wrote into an output folder: what it may replace next time.
MANIFEST = ".mdrisk-output"


class OutputFolderError(Exception):
    """An output folder mdrisk will not replace; the message says why and what to do."""


class ForeignFiles(OutputFolderError):
    """The output folder holds entries mdrisk did not write."""

    def __init__(self, names: list[str]) -> None:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        super().__init__(
            f"holds entries mdrisk did not write ({shown}); mdrisk replaces its output folder "
            "as a whole and never deletes what it did not make (fix: name a new or empty "
            "folder, or move those entries out)"
        )
        self.names = names


def _top_names(files: dict[str, bytes]) -> set[str]:
    return {Path(name).parts[0] for name in files}


def _ours(out_dir: Path, writing: set[str]) -> set[str]:
    """The entries of an existing output folder that mdrisk wrote: those its manifest lists,
    and (for a folder written before manifests) those this run writes again."""
    manifest = out_dir / MANIFEST
    listed: set[str] = set()
    if manifest.is_file():
        listed = set(manifest.read_text("utf-8", errors="replace").splitlines())
    return listed | writing | {MANIFEST}


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in sorted(files.items()):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, 0o666 & ~_umask())


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system
    cannot, and nothing was changed."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return result == 0


def _interrupts(how: int) -> None:
    """Block or unblock Ctrl-C and SIGTERM (main thread only; elsewhere nothing)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(how, {signal.SIGINT, signal.SIGTERM})


# A staging folder of an earlier mdrisk (no process id in its name) is left over once older.
LEFT_OVER_AFTER_S = 3600.0


def _writer_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_left_over(out_dir: Path) -> None:
    """Remove the hidden ``.NAME.new-PID-…`` / ``.NAME.old-PID-…`` folders a killed write of
    ``out_dir`` left beside it: those whose writer process is gone (a write under way in
    another process keeps its own), and those without a process id older than an hour."""
    for kind in ("new", "old"):
        for entry in out_dir.parent.glob(f".{glob_escape(out_dir.name)}.{kind}-*"):
            if not entry.is_dir() or entry.is_symlink():
                continue
            pid_text, _, rest = entry.name[len(f".{out_dir.name}.{kind}-") :].partition("-")
            if rest and pid_text.isdigit():
                stale = not _writer_alive(int(pid_text))
            else:
                try:
                    stale = time.time() - entry.stat().st_mtime > LEFT_OVER_AFTER_S
                except OSError:
                    continue
            if stale:
                shutil.rmtree(entry, ignore_errors=True)


def replace_folder(out_dir: Path, files: dict[str, bytes]) -> None:
    """Make ``out_dir`` hold exactly ``files`` (names relative to it), all new or all old:
    everything is written into a sibling folder first, then the two are swapped, then the
    old one is removed. ForeignFiles when the folder holds entries mdrisk did not write
    (mdrisk replaces its output folder as a whole and does not delete what it did not make).
    """
    out_dir = Path(os.path.abspath(out_dir))
    writing = _top_names(files)
    here = Path.cwd()
    if here == out_dir or out_dir in here.parents:
        raise OutputFolderError(
            "is the current folder or holds it: replacing it would leave the shell in a "
            "deleted folder (fix: name a subfolder, e.g. --out out)"
        )
    if out_dir.exists():
        if not out_dir.is_dir():
            raise NotADirectoryError(str(out_dir))
        foreign = sorted(
            entry.name for entry in out_dir.iterdir() if entry.name not in _ours(out_dir, writing)
        )
        if foreign:
            raise ForeignFiles(foreign)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_left_over(out_dir)
    # An interrupt waits until the staging folder's name is known and its clean-up armed.
    _interrupts(signal.SIG_BLOCK)
    try:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{out_dir.name}.new-{os.getpid()}-", dir=out_dir.parent)
        )
    except BaseException:
        _interrupts(signal.SIG_UNBLOCK)
        raise
    try:
        _interrupts(signal.SIG_UNBLOCK)
        _write_tree(staging, {**files, MANIFEST: "\n".join(sorted(writing)).encode() + b"\n"})
        os.chmod(staging, 0o777 & ~_umask())
        if not out_dir.exists():
            os.rename(staging, out_dir)
            return
        if _exchange(staging, out_dir):
            old = staging  # after the exchange the staging name holds the old folder
        else:
            old = Path(
                tempfile.mkdtemp(prefix=f".{out_dir.name}.old-{os.getpid()}-", dir=out_dir.parent)
            )
            os.rmdir(old)
            os.rename(out_dir, old)
            try:
                os.rename(staging, out_dir)
            except BaseException:
                os.rename(old, out_dir)  # put the old folder back: all old, not none
                raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if staging.exists() and staging != out_dir:
            shutil.rmtree(staging, ignore_errors=True)
        raise
