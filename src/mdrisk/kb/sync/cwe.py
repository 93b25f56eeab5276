"""MITRE CWE: the latest XML catalogue, a zip from cwe.mitre.org, unpacked safely."""

from __future__ import annotations

from mdrisk.kb.sync.archives import unzip_capped
from mdrisk.kb.sync.base import FileSource, preview
from mdrisk.kb.sync.client import Response
from mdrisk.kb.sync.errors import UnexpectedContent


class CweSource(FileSource):
    name = "cwe"
    description = "MITRE CWE weakness catalogue (XML in a zip, cwe.mitre.org)"
    default_base_url = "https://cwe.mitre.org/data/xml"
    paths = ("cwec_latest.xml.zip",)

    def unpack(self, path: str, response: Response) -> list[tuple[str, bytes]]:
        where = self.url(path)
        members = unzip_capped(
            response.body, r"cwec_v[0-9.]+\.xml", self.options.max_unpacked_bytes, where
        )
        if not members:
            raise UnexpectedContent(f"{where}: the zip holds no cwec_v*.xml catalogue")
        for name, content in members.items():
            if b"Weakness_Catalog" not in content[:4096]:
                raise UnexpectedContent(
                    f"{where}: {name} is not a CWE Weakness_Catalog (it starts {preview(content)})"
                )
        return sorted(members.items())
