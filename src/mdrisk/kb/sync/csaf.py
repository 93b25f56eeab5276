"""CISA medical advisories (ICSMA) in CSAF 2.0, from the cisagov/CSAF repository's OT folder.

The folder follows CSAF's directory-based distribution: ``changes.csv`` lists every document
with the time it last changed (``index.txt`` lists them without times, the fallback). Only the
medical ones (``<year>/icsma-*.json``) are fetched, and only those new or changed since the
last run (or since ``--since``). Each is saved as ``<year>/icsma-....json``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from mdrisk.kb.sync.base import Progress, Source, no_progress, parse_json, preview
from mdrisk.kb.sync.client import HttpClient
from mdrisk.kb.sync.errors import HttpStatusError, UnexpectedContent
from mdrisk.kb.sync.state import SyncState

FOLDER = "csaf_files/OT/white"
MAX_LISTING_BYTES = 32 * 1024 * 1024
MAX_ADVISORY_BYTES = 32 * 1024 * 1024
# Only digits, lower-case letters and dashes: a listing line can never name a path outside.
_MEDICAL = re.compile(r"\d{4}/icsma-[0-9a-z][0-9a-z-]*\.json", re.IGNORECASE)
_ANY_CSAF = re.compile(r"\d{4}/[0-9a-z][0-9a-z_-]*\.json", re.IGNORECASE)


class CsafSource(Source):
    name = "csaf"
    description = "CISA ICS medical advisories (ICSMA) in CSAF 2.0 (github.com/cisagov/CSAF)"
    default_base_url = "https://raw.githubusercontent.com/cisagov/CSAF/develop"

    def plan(self, state: SyncState) -> list[str]:
        since = self.options.since
        which = (
            f"changed since {since.date().isoformat()}"
            if since
            else ("new or changed since the last sync" if state.get("seen") else "all")
        )
        return [
            f"GET {self.url(f'{FOLDER}/changes.csv')} (or index.txt)",
            f"GET {self.url(f'{FOLDER}/<year>/icsma-*.json')} for {which} ICSMA advisories",
        ]

    def fetch(
        self, client: HttpClient, dest_dir: Path, state: SyncState, progress: Progress = no_progress
    ) -> list[Path]:
        progress("csaf: advisory list", 0, None)
        listing = self.listing(client)
        seen: dict[str, str] = dict(state.get("seen", {}))
        since = self.options.since
        todo = []
        for relative, changed in sorted(listing.items()):
            if seen.get(relative) == changed and (dest_dir / relative).is_file():
                continue
            if since is not None and _before(changed, since):
                continue
            todo.append(relative)
        saved = []
        for done, relative in enumerate(todo):
            progress(f"csaf: {relative}", done, len(todo))
            url = self.url(f"{FOLDER}/{relative}")
            response = client.get(url, max_bytes=MAX_ADVISORY_BYTES)
            _check_advisory(response.body, url)
            saved.append(self.save(dest_dir, relative, response.body, state))
            seen[relative] = listing[relative]
            state.set("seen", seen)
        progress("csaf: done", len(todo), len(todo))
        return saved

    def listing(self, client: HttpClient) -> dict[str, str]:
        """``<year>/icsma-....json`` -> when it last changed ('' when the list has no times)."""
        url = self.url(f"{FOLDER}/changes.csv")
        try:
            body = client.get(url, max_bytes=MAX_LISTING_BYTES).body
        except HttpStatusError as error:
            if error.status != 404:
                raise
            url = self.url(f"{FOLDER}/index.txt")
            body = client.get(url, max_bytes=MAX_LISTING_BYTES).body
        return parse_listing(body, url)


def parse_listing(body: bytes, where: str) -> dict[str, str]:
    """The medical advisories named in a ``changes.csv`` or ``index.txt``.

    Lines are ``path[,timestamp]``; paths may be relative to the folder (the CSAF standard)
    or start with ``csaf_files/OT/white/`` (what cisagov/CSAF writes).
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnexpectedContent(f"{where}: not a CSAF listing ({error})") from None
    found: dict[str, str] = {}
    any_csaf = False
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if not row:
                continue
            path = row[0].strip().removeprefix("./").removeprefix(f"{FOLDER}/")
            any_csaf = any_csaf or bool(_ANY_CSAF.fullmatch(path))
            if _MEDICAL.fullmatch(path):
                found[path] = row[1].strip() if len(row) > 1 else ""
    except csv.Error as error:
        raise UnexpectedContent(f"{where}: not a CSAF listing ({error})") from None
    if not any_csaf:
        raise UnexpectedContent(
            f"{where}: expected a CSAF listing (lines like "
            f"'2024/icsma-24-011-01.json'), got {preview(body)}"
        )
    return found


def _before(changed: str, since: dt.datetime) -> bool:
    """True when ``changed`` is a time before ``since``; unknown times are never before."""
    try:
        when = dt.datetime.fromisoformat(changed)
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when < since


def _check_advisory(body: bytes, where: str) -> None:
    document = parse_json(body, where, "a CSAF 2.0 advisory")
    head = document.get("document") if isinstance(document, dict) else None
    if (
        not isinstance(head, dict)
        or not str(head.get("category", "")).startswith("csaf_")
        or not isinstance(head.get("tracking"), dict)
    ):
        raise UnexpectedContent(
            f"{where}: expected a CSAF 2.0 advisory (document.category "
            "csaf_..., document.tracking), got another JSON document"
        )
