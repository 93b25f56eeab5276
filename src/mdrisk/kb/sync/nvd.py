"""NIST NVD CVE API 2.0: every CVE, or those modified since a date, one JSON file per page.

Paging: ``startIndex`` / ``resultsPerPage`` (at most 2,000). Incremental runs ask for
``lastModStartDate``..``lastModEndDate`` in windows of at most 120 days (the API's limit),
from ``--since`` or else from the end of the last completed run; the very first run, with
neither, downloads everything. Rate limits: 5 requests in any 30 s without an API key, 50 with
one (sent as the ``apiKey`` header, never in the URL), enforced by a token bucket; 403, 429
and 5xx answers are retried by the client, honouring Retry-After.

Resume: the plan (windows, the next ``startIndex``) is saved in the state file after every
page, so a run that is interrupted continues with the next page on the next run, without
fetching the saved pages again. Each page is saved exactly as NVD sent it:
``{"format": "NVD_CVE", "vulnerabilities": [...], ...}``, the format the NVD importer reads.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from mdrisk.kb.sync.base import Progress, Source, SyncOptions, no_progress, parse_json
from mdrisk.kb.sync.client import HttpClient
from mdrisk.kb.sync.errors import SyncError, UnexpectedContent
from mdrisk.kb.sync.state import SyncState

MAX_PAGE_SIZE = 2000
MAX_WINDOW = dt.timedelta(days=120)
PUBLIC_RATE = (5, 30.0)  # requests per rolling seconds, without an API key
KEY_RATE = (50, 30.0)
MAX_PAGES_PER_RUN = 5000  # NVD holds ~300,000 CVEs = 150 full pages; this only stops a runaway
MAX_PAGE_BYTES = 256 * 1024 * 1024


def nvd_time(moment: dt.datetime) -> str:
    """The extended ISO-8601 form the API wants, in UTC with an explicit offset."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


def windows(since: dt.datetime, until: dt.datetime) -> list[list[str]]:
    """[start, end] pairs covering since..until, each at most 120 days long."""
    spans = []
    start = since
    while start < until:
        end = min(start + MAX_WINDOW, until)
        spans.append([nvd_time(start), nvd_time(end)])
        start = end
    return spans


class NvdSource(Source):
    name = "nvd"
    description = "NIST NVD CVE API 2.0 (CVE records with CPE configurations and CVSS)"
    default_base_url = "https://services.nvd.nist.gov/rest/json/cves/2.0"

    def __init__(self, options: SyncOptions | None = None, page_size: int = MAX_PAGE_SIZE) -> None:
        super().__init__(options)
        self.page_size = max(1, min(MAX_PAGE_SIZE, page_size))

    @property
    def api_key(self) -> str | None:
        return self.options.nvd_api_key or None

    # --- planning --------------------------------------------------------------------------

    def _since(self, state: SyncState) -> dt.datetime | None:
        if self.options.since is not None:
            return self.options.since
        last = state.get("last_mod_end")
        return dt.datetime.fromisoformat(last) if last else None

    def _new_plan(self, state: SyncState) -> dict[str, Any]:
        until = self.options.now().astimezone(dt.UTC).replace(microsecond=0)
        since = self._since(state)
        spans: list[list[str] | None] = [None] if since is None else list(windows(since, until))
        return {
            "since": nvd_time(since) if since else None,
            "until": nvd_time(until),
            "windows": spans,
            "window": 0,
            "next_start": 0,
        }

    def _current_plan(self, state: SyncState) -> dict[str, Any] | None:
        """The unfinished plan of an earlier run, if this run asks for the same thing."""
        plan = state.get("plan")
        if not isinstance(plan, dict):
            return None
        if self.options.since is not None and plan.get("since") != nvd_time(self.options.since):
            return None
        return plan

    def plan(self, state: SyncState) -> list[str]:
        plan = self._current_plan(state)
        resuming = plan is not None
        plan = plan or self._new_plan(state)
        rate = KEY_RATE if self.api_key else PUBLIC_RATE
        lines = []
        if resuming:
            lines.append(
                f"resume the interrupted run at window {plan['window'] + 1}, "
                f"startIndex {plan['next_start']}"
            )
        if plan["windows"] == [None]:
            lines.append(
                f"GET {self.base_url}?startIndex=0&resultsPerPage={self.page_size} "
                "and following pages: every CVE (first sync; ~150 pages of 2,000)"
            )
        else:
            count = len(plan["windows"])
            if count == 0:
                lines.append("nothing to fetch: the last sync ended now")
            else:
                first, last = plan["windows"][0], plan["windows"][-1]
                lines.append(
                    f"GET {self.base_url}?lastModStartDate=...&lastModEndDate=... "
                    f"in {count} window(s) of <= 120 days, {first[0]} to {last[1]}, "
                    f"{self.page_size} per page"
                )
        lines.append(
            f"rate limit {rate[0]} requests / {rate[1]:.0f} s "
            f"({'with' if self.api_key else 'without'} an API key)"
        )
        return lines

    # --- fetching --------------------------------------------------------------------------

    def fetch(
        self, client: HttpClient, dest_dir: Path, state: SyncState, progress: Progress = no_progress
    ) -> list[Path]:
        plan = self._current_plan(state) or self._new_plan(state)
        state.set("plan", plan)
        limiter = client.bucket(*(KEY_RATE if self.api_key else PUBLIC_RATE))
        headers = {"apiKey": self.api_key} if self.api_key else {}
        saved: list[Path] = []
        pages = 0
        while plan["window"] < len(plan["windows"]):
            if pages == MAX_PAGES_PER_RUN:
                raise SyncError(
                    f"nvd: stopped after {MAX_PAGES_PER_RUN} pages in one run; run "
                    "'mdrisk kb sync --source nvd' again to continue"
                )
            pages += 1
            span = plan["windows"][plan["window"]]
            start = plan["next_start"]
            params: dict[str, object] = {"startIndex": start, "resultsPerPage": self.page_size}
            if span is not None:
                params["lastModStartDate"], params["lastModEndDate"] = span
            response = client.get(
                self.base_url,
                params=params,
                headers=headers,
                limiter=limiter,
                max_bytes=MAX_PAGE_BYTES,
            )
            vulnerabilities, total = _check_page(response.body, response.url, start)
            if vulnerabilities:
                name = f"nvd-{_tag(plan, span)}-{start:07d}.json"
                saved.append(self.save(dest_dir, name, response.body, state))
            following = start + len(vulnerabilities)
            if following >= total:
                plan["window"] += 1
                plan["next_start"] = 0
            else:
                plan["next_start"] = following
            state.set("plan", plan)
            progress(
                f"nvd: window {min(plan['window'] + 1, len(plan['windows']))}"
                f"/{len(plan['windows'])}",
                math.ceil(following / self.page_size),
                max(1, math.ceil(total / self.page_size)),
            )
        state.data.pop("plan", None)
        state.data["last_mod_end"] = plan["until"]
        state.save()
        return saved


def _tag(plan: dict[str, Any], span: list[str] | None) -> str:
    def compact(text: str) -> str:
        return text[:19].replace("-", "").replace(":", "")

    if span is None:
        return f"all-{compact(plan['until'])}"
    return f"{compact(span[0])}-{compact(span[1])}"


def _check_page(body: bytes, where: str, start: int) -> tuple[list[Any], int]:
    """(vulnerabilities, totalResults) of one API page, or ``UnexpectedContent``."""
    page = parse_json(body, where, "an NVD CVE API 2.0 page")
    if (
        not isinstance(page, dict)
        or page.get("format") != "NVD_CVE"
        or not isinstance(page.get("vulnerabilities"), list)
        or not isinstance(page.get("totalResults"), int)
    ):
        raise UnexpectedContent(
            f"{where}: expected an NVD CVE API 2.0 page (format NVD_CVE, "
            "totalResults, vulnerabilities), got another JSON document"
        )
    if page.get("startIndex", start) != start:
        raise UnexpectedContent(
            f"{where}: asked for startIndex {start}, got page {page.get('startIndex')}"
        )
    vulnerabilities = page["vulnerabilities"]
    if not vulnerabilities and start < page["totalResults"]:
        raise UnexpectedContent(
            f"{where}: empty page at startIndex {start} of {page['totalResults']} results"
        )
    return vulnerabilities, page["totalResults"]
