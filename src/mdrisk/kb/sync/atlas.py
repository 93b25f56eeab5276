"""MITRE ATLAS: the compiled ``dist/ATLAS.yaml`` from mitre-atlas/atlas-data."""

from __future__ import annotations

import re

from mdrisk.kb.sync.base import FileSource, preview
from mdrisk.kb.sync.errors import UnexpectedContent

# The compiled file starts with top-level id/name/version and holds a top-level matrices list;
# checking for those keys is enough to refuse an error page without parsing 2 MB of YAML twice.
_TOP_LEVEL = re.compile(r"^(id|matrices):", re.MULTILINE)


class AtlasSource(FileSource):
    name = "atlas"
    description = "MITRE ATLAS tactics, techniques, mitigations, case studies (ATLAS.yaml)"
    default_base_url = "https://raw.githubusercontent.com/mitre-atlas/atlas-data/main"
    paths = ("dist/ATLAS.yaml",)

    def check(self, path: str, body: bytes) -> None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UnexpectedContent(
                f"{self.url(path)}: expected ATLAS YAML, got bytes that are not UTF-8 ({error})"
            ) from None
        if {m.group(1) for m in _TOP_LEVEL.finditer(text)} != {"id", "matrices"}:
            raise UnexpectedContent(
                f"{self.url(path)}: expected ATLAS YAML with top-level "
                f"'id' and 'matrices', got text starting {preview(body)}"
            )
