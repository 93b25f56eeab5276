"""Fetch openFDA device records (adverse events, recalls, 510(k)s) for the landscape.

One search on one endpoint becomes one JSON file in openFDA's own envelope
({"meta": ..., "results": [...]}), which the landscape importers read like a bulk download:
``<out>/<endpoint>/<search slug>.json``.

Paging: ``skip``/``limit`` (at most 1,000 records a page) while the result set fits under
openFDA's skip ceiling of 25,000; a larger set is walked with the ``search_after`` cursor
openFDA puts in the ``Link: <...>; rel="next"`` header (the first request then carries no
skip, which would break the cursor). A search with no match (HTTP 404 NOT_FOUND) gives an
empty file.

Rate limits: 240 requests a minute (a token bucket) and a daily budget of 1,000 requests
without an API key, 120,000 with one (key from $OPENFDA_API_KEY, sent as a query
parameter, never written anywhere). Requests are counted per UTC day in
``<out>/.openfda-requests.json``, so several runs on one day share the budget; a search
that would need more requests than are left stops before fetching anything more.

Nothing is written until a search has been fetched whole, and the file is written
atomically: a failed run leaves the earlier file in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mdrisk.atomic import write_bytes_atomic
from mdrisk.kb.sync.client import HttpClient, Response
from mdrisk.kb.sync.errors import (
    ConnectionLost,
    HttpStatusError,
    SyncError,
    UnexpectedContent,
    Unreachable,
)

BASE_URL = "https://api.fda.gov"
ENDPOINTS = {
    "device-event": "device/event.json",
    "device-recall": "device/recall.json",
    "device-510k": "device/510k.json",
}
# The product-code field of each endpoint, for searches built from the AI device list.
PRODUCT_CODE_FIELDS = {
    "device-event": "device.device_report_product_code",
    "device-recall": "product_code",
    "device-510k": "product_code",
}
KEY_ENV = "OPENFDA_API_KEY"
PAGE_LIMIT = 1000
SKIP_MAX = 25000
PER_MINUTE = 240
PER_DAY_WITHOUT_KEY = 1000
PER_DAY_WITH_KEY = 120000
BUDGET_FILE = ".openfda-requests.json"
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')

Progress = Callable[[int, int | None], None]  # (records so far, total)


@dataclass
class Fetched:
    endpoint: str
    search: str
    total: int
    records: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    last_updated: str = ""
    paging: str = "skip"  # "skip" | "search_after"


class Budget:
    """Requests left today (UTC), kept in a small file beside the downloads."""

    def __init__(self, path: Path, per_day: int, today: Callable[[], dt.date]) -> None:
        self.path, self.per_day, self.today = path, per_day, today
        self.day = today().isoformat()
        self.used = 0
        try:
            saved = json.loads(path.read_text("utf-8"))
            if (
                isinstance(saved, dict)
                and saved.get("day") == self.day
                and isinstance(saved.get("requests"), int)
            ):
                self.used = max(0, saved["requests"])
        except (OSError, ValueError):
            pass

    @property
    def left(self) -> int:
        return max(0, self.per_day - self.used)

    def spend(self) -> None:
        if self.today().isoformat() != self.day:
            self.day, self.used = self.today().isoformat(), 0
        if self.used >= self.per_day:
            raise SyncError(
                f"the daily budget of {self.per_day:,} openFDA requests is spent; "
                f"run again tomorrow (UTC) or set {KEY_ENV} for 120,000 a day"
            )
        self.used += 1
        write_bytes_atomic(self.path, json.dumps({"day": self.day, "requests": self.used}).encode())


class OpenFdaSync:
    def __init__(
        self,
        client: HttpClient,
        out_dir: Path,
        *,
        base_url: str = BASE_URL,
        api_key: str | None = None,
        page_limit: int = PAGE_LIMIT,
        per_minute: int = PER_MINUTE,
        per_day: int | None = None,
        skip_max: int = SKIP_MAX,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        if not 1 <= page_limit <= PAGE_LIMIT:
            raise ValueError(f"page_limit must be 1..{PAGE_LIMIT}")
        self.client = client
        self.out_dir = out_dir
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or None
        self.page_limit = page_limit
        self.skip_max = skip_max
        self.limiter = client.bucket(per_minute, 60.0)
        daily = per_day or (PER_DAY_WITH_KEY if self.api_key else PER_DAY_WITHOUT_KEY)
        self.budget = Budget(out_dir / BUDGET_FILE, daily, today)

    def fetch(
        self, endpoint: str, search: str, sort: str | None = None, progress: Progress | None = None
    ) -> Fetched:
        """Every record of ``search`` on ``endpoint``; SyncError when that cannot be done."""
        if endpoint not in ENDPOINTS:
            raise SyncError(
                f"unknown openFDA endpoint {endpoint}; choose from {', '.join(ENDPOINTS)}"
            )
        url = f"{self.base_url}/{ENDPOINTS[endpoint]}"
        params: dict[str, object] = {"search": search, "limit": self.page_limit}
        if sort:
            params["sort"] = sort
        first = self._page(url, params)
        if first is None:
            return Fetched(endpoint, search, 0, requests=1)
        page, response = first
        total = _total(page, url)
        found = Fetched(
            endpoint,
            search,
            total,
            list(_results(page, url)),
            1,
            str(_meta(page).get("last_updated", "")),
        )
        pages = math.ceil(total / self.page_limit)
        if pages - 1 > self.budget.left:
            raise SyncError(
                f"{endpoint} '{search}' has {total:,} records: {pages:,} requests, "
                f"{self.budget.left:,} left today; narrow the search or set "
                f"{KEY_ENV}"
            )
        if progress:
            progress(len(found.records), total)
        if total > self.skip_max + self.page_limit:
            found.paging = "search_after"
            self._follow_links(found, response, progress)
        else:
            while len(found.records) < total:
                skip = len(found.records)
                result = self._page(url, {**params, "skip": skip})
                found.requests += 1
                batch = _results(result[0], url) if result else []
                if not batch:
                    break
                found.records += batch
                if progress:
                    progress(len(found.records), total)
        if len(found.records) != total:
            raise SyncError(
                f"openFDA returned {len(found.records):,} of the {total:,} records "
                f"of {endpoint} '{search}'; nothing was written, try again"
            )
        return found

    def _follow_links(self, found: Fetched, response: Response, progress: Progress | None) -> None:
        seen: set[str] = set()
        while len(found.records) < found.total:
            link = _next_link(response.headers.get("link", ""))
            if link is None or link in seen:
                return
            seen.add(link)
            if self.api_key and "api_key=" not in link:
                link += f"&api_key={self.api_key}"
            result = self._page(link, None)
            found.requests += 1
            if result is None:
                return
            page, response = result
            batch = _results(page, link)
            if not batch:
                return
            found.records += batch
            if progress:
                progress(len(found.records), found.total)

    def _page(
        self, url: str, params: dict[str, object] | None
    ) -> tuple[dict[str, Any], Response] | None:
        """One page as JSON, or None for openFDA's 404 NOT_FOUND (no match)."""
        if params is not None and self.api_key:
            params = {**params, "api_key": self.api_key}
        self.budget.spend()
        try:
            response = self.client.get(url, params=params, limiter=self.limiter)
        except HttpStatusError as error:
            if error.status == 404:
                return None
            raise SyncError(_without_key(str(error), self.api_key)) from None
        except Unreachable as error:
            raise SyncError(
                f"cannot reach {error.host}: 'mdrisk landscape sync' needs the "
                "network; everything else works offline"
            ) from None
        except ConnectionLost as error:
            raise SyncError(
                f"connection to {error.host} lost ({error.reason}); run "
                "'mdrisk landscape sync' again later"
            ) from None
        try:
            page = json.loads(response.body)
        except ValueError:
            raise UnexpectedContent(
                f"{urlsplit(url).netloc} sent something that is not JSON for an openFDA page"
            ) from None
        if not isinstance(page, dict):
            raise UnexpectedContent("an openFDA page is not a JSON object")
        return page, response

    def write(self, found: Fetched, name: str | None = None) -> Path:
        """The records as one openFDA-style file; returns its path."""
        path = self.out_dir / found.endpoint / f"{name or slug(found.search)}.json"
        envelope = {
            "meta": {
                "last_updated": found.last_updated,
                "results": {"skip": 0, "limit": len(found.records), "total": len(found.records)},
                "mdrisk_sync": {
                    "endpoint": found.endpoint,
                    "search": found.search,
                    "requests": found.requests,
                    "paging": found.paging,
                },
            },
            "results": found.records,
        }
        write_bytes_atomic(
            path, json.dumps(envelope, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
        )
        return path


def _meta(page: dict[str, Any]) -> dict[str, Any]:
    meta = page.get("meta")
    return meta if isinstance(meta, dict) else {}


def _total(page: dict[str, Any], url: str) -> int:
    results = _meta(page).get("results")
    total = results.get("total") if isinstance(results, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise UnexpectedContent(
            f"an openFDA page from {urlsplit(url).netloc} has no meta.results.total"
        )
    return total


def _results(page: dict[str, Any], url: str) -> list[dict[str, Any]]:
    results = page.get("results")
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise UnexpectedContent(
            f"an openFDA page from {urlsplit(url).netloc} has no results array of records"
        )
    return results


def _next_link(header: str) -> str | None:
    found = _NEXT.search(header)
    return found.group(1) if found else None


def _without_key(text: str, key: str | None) -> str:
    return text.replace(key, "***") if key else text


def slug(search: str) -> str:
    """A file name for a search: its words, shortened, plus a hash so two never collide."""
    words = re.sub(r"[^A-Za-z0-9]+", "-", search).strip("-").lower()[:60] or "all"
    return f"{words}-{hashlib.sha256(search.encode()).hexdigest()[:8]}"


def product_code_searches(endpoint: str, codes: list[str], per_search: int = 20) -> list[str]:
    """Searches covering ``codes`` on ``endpoint``, ``per_search`` codes at a time."""
    field_name = PRODUCT_CODE_FIELDS[endpoint]
    ordered = sorted(set(codes))
    return [
        f"{field_name}:({' OR '.join(ordered[start : start + per_search])})"
        for start in range(0, len(ordered), per_search)
    ]
