"""MITRE CAPEC attack patterns: the STIX 2.1 bundle from the mitre/cti repository."""

from __future__ import annotations

from mdrisk.kb.sync.base import FileSource, check_stix_bundle


class CapecSource(FileSource):
    name = "capec"
    description = "MITRE CAPEC attack patterns (STIX 2.1, github.com/mitre/cti)"
    default_base_url = "https://raw.githubusercontent.com/mitre/cti/master"
    paths = ("capec/2.1/stix-capec.json",)

    def check(self, path: str, body: bytes) -> None:
        check_stix_bundle(body, self.url(path))
