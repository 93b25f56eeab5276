"""MITRE ATT&CK Enterprise and ICS: STIX 2.1 bundles from mitre-attack/attack-stix-data."""

from __future__ import annotations

from mdrisk.kb.sync.base import FileSource, check_stix_bundle


class AttackSource(FileSource):
    name = "attack"
    description = (
        "MITRE ATT&CK Enterprise and ICS (STIX 2.1, github.com/mitre-attack/attack-stix-data)"
    )
    default_base_url = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master"
    paths = ("enterprise-attack/enterprise-attack.json", "ics-attack/ics-attack.json")

    def check(self, path: str, body: bytes) -> None:
        check_stix_bundle(body, self.url(path))
