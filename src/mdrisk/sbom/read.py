"""Read an SBOM file of any supported format, bounded in size, refusing what is not one.

Formats: CycloneDX JSON and XML (1.2-1.6), SPDX 2.2/2.3 JSON and tag-value. The file must
be a regular file (not a device or a pipe, whose size cannot be known) of at most
``MAX_SBOM_BYTES``; JSON goes through the strict reader (no NaN, bounded nesting), XML
through the reader that refuses entities. Every refusal is an InputError naming the file and
the field (e.g. ``components[3].purl``).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from mdrisk.errors import InputError, Problem
from mdrisk.parsing.errors import refuse
from mdrisk.parsing.shape import located_refusals
from mdrisk.parsing.strict_json import parse_json
from mdrisk.sbom.cyclonedx import read_cyclonedx
from mdrisk.sbom.cyclonedx_xml import cyclonedx_xml_document
from mdrisk.sbom.records import Sbom
from mdrisk.sbom.spdx import read_spdx
from mdrisk.sbom.spdx_tag_value import looks_like_spdx_tag_value, spdx_tag_value_document

MAX_SBOM_BYTES = 64 * 1024 * 1024
HEAD_BYTES = 64 * 1024
# Keys may be written sorted, bomFormat last: a bom-ref (SPDXID) in the head tells too.
_CYCLONEDX_JSON = re.compile(
    r'"bomFormat"\s*:\s*"CycloneDX"|"\$schema"\s*:\s*"https?://cyclonedx\.org/|"bom-ref"\s*:'
)
_SPDX_JSON = re.compile(r'"spdxVersion"\s*:\s*"SPDX-|"SPDXID"\s*:\s*"SPDXRef-')
_CYCLONEDX_XML = re.compile(r"<(?:\w+:)?bom\b[^>]*cyclonedx\.org/schema/bom/")
_SPDX_3 = re.compile(r'"@context"\s*:\s*"https://spdx\.org/rdf/3')
_SUPPORTED = "CycloneDX JSON or XML (1.2-1.6), SPDX 2.2/2.3 JSON or tag-value"


def sbom_format(head: str) -> str | None:
    """The SBOM format the start of a file shows, or None when it shows none."""
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        if _CYCLONEDX_JSON.search(head):
            return "CycloneDX JSON"
        if _SPDX_JSON.search(head):
            return "SPDX JSON"
        if _SPDX_3.search(head):
            return "SPDX 3 JSON-LD"
        return None
    if stripped.startswith("<"):
        return "CycloneDX XML" if _CYCLONEDX_XML.search(head) else None
    return "SPDX tag-value" if looks_like_spdx_tag_value(head) else None


def sbom_format_of_file(path: Path) -> str | None:
    """``sbom_format`` of the head of a regular file; None for anything else."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    return sbom_format(head.decode("utf-8", errors="replace"))


def read_sbom(path: Path) -> Sbom:
    raw = _bounded_bytes(path)
    text = _utf8(path, raw)
    found = sbom_format(text[:HEAD_BYTES])
    if found is None and text.lstrip("\ufeff \t\r\n").startswith("{"):
        found = _json_kind(path, text)
    with located_refusals(path):
        if found == "CycloneDX JSON":
            return read_cyclonedx(parse_json(path, text, "bom"))
        if found == "SPDX JSON":
            return read_spdx(parse_json(path, text, "document"))
        if found == "CycloneDX XML":
            return read_cyclonedx(cyclonedx_xml_document(path), "CycloneDX XML")
        if found == "SPDX tag-value":
            document, places = spdx_tag_value_document(text)
            return read_spdx(document, "SPDX tag-value", places)
    what = "SPDX 3 (JSON-LD) is not supported yet" if found else "not an SBOM mdrisk reads"
    raise refuse(path, what, fix=f"give an SBOM as {_SUPPORTED}")


def _json_kind(path: Path, text: str) -> str | None:
    """A JSON SBOM whose telling key comes after the head (keys written sorted)."""
    document = parse_json(path, text)
    if isinstance(document, dict):
        if "bomFormat" in document:
            return "CycloneDX JSON"
        if "spdxVersion" in document:
            return "SPDX JSON"
    return None


def _bounded_bytes(path: Path) -> bytes:
    file = str(path)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device or pipe)"
            raise InputError(file, [Problem(f"the SBOM is {what}", fix="name an SBOM file")])
        with path.open("rb") as handle:
            raw = handle.read(MAX_SBOM_BYTES + 1)
    except OSError as exc:
        raise InputError(
            file, [Problem(f"cannot read the SBOM: {exc.strerror}", fix="check the path")]
        ) from None
    if len(raw) > MAX_SBOM_BYTES:
        raise InputError(
            file,
            [
                Problem(
                    f"the SBOM is over the {MAX_SBOM_BYTES // (1024 * 1024)} MB limit",
                    fix="check it is the right file, or split the SBOM per component",
                )
            ],
        )
    return raw


def _utf8(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(
            path,
            f"not UTF-8 text (byte {exc.start} cannot be decoded)",
            line=raw.count(b"\n", 0, exc.start) + 1,
            fix="save the SBOM as UTF-8",
        ) from None
