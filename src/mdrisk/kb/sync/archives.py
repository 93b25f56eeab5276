"""Unpack downloaded archives safely: a size cap on what comes out, no path leaving its folder.

Both functions work on bytes in memory and return bytes; nothing is written here, so a refused
archive leaves no trace on disk.
"""

from __future__ import annotations

import gzip
import io
import re
import stat
import zipfile
import zlib
from pathlib import PurePosixPath

from mdrisk.kb.sync.errors import UnsafeArchive

DEFAULT_MAX_UNPACKED = 512 * 1024 * 1024
MAX_MEMBERS = 1000
_CHUNK = 1 << 16
_DRIVE = re.compile(r"^[A-Za-z]:")


def gunzip_capped(
    data: bytes, max_bytes: int = DEFAULT_MAX_UNPACKED, name: str = "download"
) -> bytes:
    """The decompressed content of a gzip file, refused once it grows past ``max_bytes``.

    Decompresses in bounded steps, so a gzip bomb is stopped at the cap instead of filling
    memory.
    """
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(_CHUNK):
                if out.tell() + len(chunk) > max_bytes:
                    raise UnsafeArchive(
                        f"{name}: refused, unpacks to more than "
                        f"{max_bytes:,} bytes (a gzip bomb or the wrong file)"
                    )
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise UnsafeArchive(f"{name}: not a complete gzip file ({error})") from None
    return out.getvalue()


def safe_member_name(name: str) -> str | None:
    """Why a zip member name is unsafe (absolute, drive, backslash, ``..``), or None."""
    if not name or name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "an absolute path"
    if "\\" in name:
        return "a backslash in the path"
    if any(part == ".." for part in PurePosixPath(name).parts):
        return "a '..' path leaving the folder"
    if "\x00" in name:
        return "a NUL byte in the name"
    return None


def unzip_capped(
    data: bytes, pattern: str, max_bytes: int = DEFAULT_MAX_UNPACKED, name: str = "download"
) -> dict[str, bytes]:
    """The members whose base name matches ``pattern`` (a regex), keyed by base name.

    The whole archive is refused, before anything is unpacked, if any member is unsafe:
    a path that is absolute or leaves the folder, a symbolic link, an encrypted member, too
    many members, or declared sizes above ``max_bytes``. Reading then stops at the cap even
    if the declared sizes lied.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise UnsafeArchive(f"{name}: not a zip file ({error})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise UnsafeArchive(f"{name}: refused, {len(members)} members (limit {MAX_MEMBERS})")
        declared = 0
        for member in members:
            why = safe_member_name(member.filename)
            if why:
                raise UnsafeArchive(f"{name}: refused, member {member.filename!r} has {why}")
            if stat.S_ISLNK(member.external_attr >> 16):
                raise UnsafeArchive(
                    f"{name}: refused, member {member.filename!r} is a symbolic link"
                )
            if member.flag_bits & 0x1:
                raise UnsafeArchive(f"{name}: refused, member {member.filename!r} is encrypted")
            declared += member.file_size
        if declared > max_bytes:
            raise UnsafeArchive(
                f"{name}: refused, unpacks to {declared:,} bytes, more than {max_bytes:,}"
            )
        wanted = re.compile(pattern)
        found: dict[str, bytes] = {}
        unpacked = 0
        for member in members:
            base = PurePosixPath(member.filename).name
            if member.is_dir() or not wanted.fullmatch(base):
                continue
            out = io.BytesIO()
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > max_bytes:
                            raise UnsafeArchive(
                                f"{name}: refused, unpacks to more than {max_bytes:,} bytes"
                            )
                        out.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
                raise UnsafeArchive(
                    f"{name}: member {member.filename!r} is damaged ({error})"
                ) from None
            if base in found:
                raise UnsafeArchive(f"{name}: refused, two members named {base!r}")
            found[base] = out.getvalue()
    return found
