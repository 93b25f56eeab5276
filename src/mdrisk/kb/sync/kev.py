"""CISA Known Exploited Vulnerabilities: the catalog's JSON feed, one file."""

from __future__ import annotations

from mdrisk.kb.sync.base import FileSource, parse_json
from mdrisk.kb.sync.errors import UnexpectedContent


class KevSource(FileSource):
    name = "kev"
    description = "CISA Known Exploited Vulnerabilities catalog (JSON feed)"
    default_base_url = "https://www.cisa.gov/sites/default/files/feeds"
    paths = ("known_exploited_vulnerabilities.json",)

    def check(self, path: str, body: bytes) -> None:
        where = self.url(path)
        catalog = parse_json(body, where, "the KEV catalog")
        if (
            not isinstance(catalog, dict)
            or not isinstance(catalog.get("vulnerabilities"), list)
            or "catalogVersion" not in catalog
        ):
            raise UnexpectedContent(
                f"{where}: expected the KEV catalog (catalogVersion and "
                "vulnerabilities), got another JSON document"
            )
