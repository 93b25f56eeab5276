"""Read an input file with a hard byte limit, and only if it is a regular file.

The size a file reports is not trusted: ``/dev/zero`` reports 0 bytes and never ends, a FIFO
reports 0 and blocks until a writer comes. The file is opened without blocking, refused
unless it is a regular file, and read up to one byte past the limit, so that no input can
make a reader use more than the limit in memory or wait for data that never comes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mdrisk.errors import InputError, Problem

_CHUNK = 1024 * 1024


def _kind(mode: int) -> str | None:
    """What a file that is not a regular file is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse(file: str, message: str, fix: str) -> InputError:
    return InputError(file, [Problem(message, fix=fix)])


def read_limited(path: Path | str, limit: int, what: str = "this input") -> bytes:
    """The bytes of the regular file ``path``; InputError naming the file when it cannot be
    read, is not a regular file (folder, FIFO, device, socket) or holds more than ``limit``
    bytes. ``what`` names the kind of input in the size message ("a device document")."""
    file = str(path)
    try:
        kind = _kind(os.stat(file).st_mode)
        if kind is not None:
            raise _refuse(
                file, f"is {kind}, not a regular file", "name a regular file (not a pipe or device)"
            )
        # O_NONBLOCK: a file swapped for a FIFO after the check must not hang the open.
        descriptor = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise _refuse(
            file, f"cannot read the file: {error.strerror}", "check the path and its permissions"
        ) from None
    try:
        kind = _kind(os.fstat(descriptor).st_mode)
        if kind is not None:
            raise _refuse(
                file, f"is {kind}, not a regular file", "name a regular file (not a pipe or device)"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise _refuse(
            file, f"cannot read the file: {error.strerror}", "check the path and its permissions"
        ) from None
    finally:
        os.close(descriptor)
    if size > limit:
        raise _refuse(
            file,
            f"the file is over the {limit}-byte limit for {what}",
            "check it is the right file; split it or pass the relevant part",
        )
    return b"".join(chunks)
