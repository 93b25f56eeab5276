"""FIRST EPSS: today's scores for every CVE, a gzip-compressed CSV, unpacked with a size cap."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from mdrisk.kb.sync.archives import gunzip_capped
from mdrisk.kb.sync.base import FileSource, preview
from mdrisk.kb.sync.client import Response
from mdrisk.kb.sync.errors import UnexpectedContent

_SCORE_DATE = re.compile(r"score_date:(\d{4}-\d{2}-\d{2})")
_DATED_NAME = re.compile(r"epss_scores-(\d{4}-\d{2}-\d{2})\.csv\.gz")


class EpssSource(FileSource):
    name = "epss"
    description = "FIRST EPSS exploit-prediction scores, the daily CSV (.csv.gz)"
    default_base_url = "https://epss.empiricalsecurity.com"
    paths = ("epss_scores-current.csv.gz",)

    def unpack(self, path: str, response: Response) -> list[tuple[str, bytes]]:
        where = self.url(path)
        text = gunzip_capped(response.body, self.options.max_unpacked_bytes, where)
        first_line = text[:200].split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
        if not (first_line.startswith("#model_version") or first_line.startswith("cve,epss")):
            raise UnexpectedContent(
                f"{where}: expected the EPSS CSV (a '#model_version' line "
                f"or a 'cve,epss,percentile' header), got {preview(text)}"
            )
        # The feed redirects "current" to a dated file; name the copy by the scores' date.
        date = _SCORE_DATE.search(first_line)
        dated = _DATED_NAME.fullmatch(PurePosixPath(urlsplit(response.url).path).name)
        day = date.group(1) if date else dated.group(1) if dated else "current"
        return [(f"epss_scores-{day}.csv", text)]
