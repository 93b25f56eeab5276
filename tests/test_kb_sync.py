"""`mdrisk kb sync` against stand-in servers on 127.0.0.1: never the real hosts.

Each test starts an HTTP server in a thread on an ephemeral port that serves format-correct
pages (real public data where the shared folder has it), points a source's base URL at it,
and runs the sync with an injected clock and sleep, so nothing really waits and every loop
ends by itself.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import io
import json
import re
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mdrisk.cli import main
from mdrisk.kb.importers.registry import detect
from mdrisk.kb.importing import ImportRefused, import_paths
from mdrisk.kb.store import Store
from mdrisk.kb.sync.archives import gunzip_capped, safe_member_name, unzip_capped
from mdrisk.kb.sync.atlas import AtlasSource
from mdrisk.kb.sync.attack import AttackSource
from mdrisk.kb.sync.base import Source, SyncOptions, no_progress
from mdrisk.kb.sync.capec import CapecSource
from mdrisk.kb.sync.client import HttpClient, parse_retry_after
from mdrisk.kb.sync.csaf import CsafSource, parse_listing
from mdrisk.kb.sync.cwe import CweSource
from mdrisk.kb.sync.epss import EpssSource
from mdrisk.kb.sync.errors import (
    ConnectionLost,
    HttpStatusError,
    SyncError,
    UnexpectedContent,
    UnsafeArchive,
)
from mdrisk.kb.sync.kev import KevSource
from mdrisk.kb.sync.nvd import NvdSource
from mdrisk.kb.sync.ratelimit import TokenBucket
from mdrisk.kb.sync.registry import source_names
from mdrisk.kb.sync.runner import run_sync
from mdrisk.kb.sync.state import STATE_FILE, SyncState

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
DROP = "drop"  # a route's answer: cut the connection in the middle of the body


# --- the stand-in upstream -----------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    at: float  # the injected clock's time when the request arrived


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Upstream:
    """A public host's stand-in: ``routes`` maps a path to a function of the request."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.routes: dict[str, object] = {}
        self.seen: list[Seen] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server name)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}  # names are case-blind
                request = Seen(parts.path, query, headers, upstream.time.clock())
                upstream.seen.append(request)
                route = upstream.routes.get(parts.path)
                reply = route(request) if callable(route) else Reply(404, b"not found")
                if reply == DROP:
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b'{"resultsPerPage": 2, "startIn')
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]

    def start(self) -> Upstream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def upstream(fake_time):
    server = Upstream(fake_time).start()
    yield server
    server.stop()


@pytest.fixture
def client(fake_time) -> HttpClient:
    return HttpClient(timeout=5, max_attempts=3, clock=fake_time.clock, sleep=fake_time.sleep)


# --- a format-correct NVD CVE API 2.0 ------------------------------------------------------


def nvd_record(number: int) -> dict:
    cve_id = f"CVE-2024-{41000 + number}"
    return {
        "cve": {
            "id": cve_id,
            "sourceIdentifier": "ics-cert@hq.dhs.gov",
            "published": "2024-03-12T16:15:07.000",
            "lastModified": "2024-04-02T10:00:00.000",
            "vulnStatus": "Analyzed",
            "descriptions": [
                {
                    "lang": "en",
                    "value": f"Improper authentication in infusion pump "
                    f"firmware ({cve_id}) lets an adjacent "
                    "attacker change the dose.",
                }
            ],
            "metrics": {
                "cvssMetricV31": [
                    {
                        "source": "nvd@nist.gov",
                        "type": "Primary",
                        "cvssData": {
                            "version": "3.1",
                            "vectorString": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                            "baseScore": 8.8,
                            "baseSeverity": "HIGH",
                            "attackVector": "ADJACENT_NETWORK",
                            "attackComplexity": "LOW",
                            "privilegesRequired": "NONE",
                            "userInteraction": "NONE",
                            "scope": "UNCHANGED",
                            "confidentialityImpact": "HIGH",
                            "integrityImpact": "HIGH",
                            "availabilityImpact": "HIGH",
                        },
                        "exploitabilityScore": 2.8,
                        "impactScore": 5.9,
                    }
                ]
            },
            "weaknesses": [
                {
                    "source": "nvd@nist.gov",
                    "type": "Primary",
                    "description": [{"lang": "en", "value": "CWE-287"}],
                }
            ],
            "configurations": [
                {
                    "nodes": [
                        {
                            "operator": "OR",
                            "negate": False,
                            "cpeMatch": [
                                {
                                    "vulnerable": True,
                                    "criteria": "cpe:2.3:o:examplemed:pump_firmware:*:*:*:*:*:*:*:*",
                                    "versionEndExcluding": f"2.{number}",
                                    "matchCriteriaId": f"6D1C4A9B-0000-4000-8000-00000000000{number}",
                                }
                            ],
                        }
                    ]
                }
            ],
            "references": [
                {
                    "url": "https://www.cisa.gov/news-events/ics-medical-advisories",
                    "source": "ics-cert@hq.dhs.gov",
                }
            ],
        }
    }


def nvd_page(records: list[dict], start: int, total: int) -> bytes:
    return json.dumps(
        {
            "resultsPerPage": len(records),
            "startIndex": start,
            "totalResults": total,
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2025-06-01T12:00:00.000",
            "vulnerabilities": records,
        }
    ).encode()


def nvd_api(records: list[dict], hiccups: dict[int, list] | None = None, windowed_total=None):
    """The CVE API route: pages of ``records``; ``hiccups[startIndex]`` are answers given once
    each, in order, before the real page (a Reply, or DROP)."""
    pending = {start: list(answers) for start, answers in (hiccups or {}).items()}

    def route(request: Seen):
        start = int(request.query.get("startIndex", "0"))
        size = int(request.query.get("resultsPerPage", "2000"))
        if pending.get(start):
            return pending[start].pop(0)
        if "lastModStartDate" in request.query and windowed_total is not None:
            return Reply(200, nvd_page([], start, windowed_total))
        return Reply(
            200,
            nvd_page(records[start : start + size], start, len(records)),
            {"Content-Type": "application/json"},
        )

    return route


NVD_PATH = "/rest/json/cves/2.0"


def nvd_source(upstream, page_size=2, **options) -> NvdSource:
    return NvdSource(
        SyncOptions(base_urls={"nvd": upstream.url + NVD_PATH}, now=lambda: NOW, **options),
        page_size=page_size,
    )


def fetch(source, client, folder: Path):
    state = SyncState.load(folder)
    return source.fetch(client, folder, state)


# --- NVD -----------------------------------------------------------------------------------


def test_nvd_pages_through_every_cve_and_saves_each_page_as_nvd_json(
    upstream, client, fake_time, tmp_path
):
    records = [nvd_record(n) for n in range(5)]
    upstream.routes[NVD_PATH] = nvd_api(
        records,
        hiccups={
            2: [Reply(429, b"", {"Retry-After": "7"})],
            4: [Reply(503, b"Service Unavailable")],
        },
    )
    saved = fetch(nvd_source(upstream), client, tmp_path)

    assert [int(s.query["startIndex"]) for s in upstream.seen] == [0, 2, 2, 4, 4]
    assert all(s.query["resultsPerPage"] == "2" for s in upstream.seen)
    assert 7.0 in fake_time.sleeps  # the 429's Retry-After was honoured
    assert [p.name for p in saved] == [f"nvd-all-20250601T120000-000000{i}.json" for i in (0, 2, 4)]
    pages = [json.loads(p.read_bytes()) for p in saved]
    assert all(page["format"] == "NVD_CVE" for page in pages)
    assert [v["cve"]["id"] for page in pages for v in page["vulnerabilities"]] == [
        r["cve"]["id"] for r in records
    ]
    state = SyncState.load(tmp_path)
    assert state.get("plan") is None
    assert state.get("last_mod_end") == "2025-06-01T12:00:00.000+00:00"
    assert state.pending_files() == saved


def test_saved_nvd_pages_import_with_the_nvd_importer(upstream, client, tmp_path):
    upstream.routes[NVD_PATH] = nvd_api([nvd_record(n) for n in range(5)])
    saved = fetch(nvd_source(upstream), client, tmp_path / "downloads")
    assert all(detect(path).name == "nvd" for path in saved)
    store = Store.in_memory()
    import_paths(store, saved)
    assert store.has("CVE-2024-41000") and store.has("CVE-2024-41004")


def in_any_window(times: list[float], seconds: float) -> int:
    return max(sum(1 for t in times if start <= t < start + seconds) for start in times)


def test_without_a_key_nvd_gets_at_most_5_requests_in_any_30_seconds(
    upstream, client, fake_time, tmp_path
):
    upstream.routes[NVD_PATH] = nvd_api(
        [nvd_record(n) for n in range(7)],
        hiccups={3: [Reply(429, b"", {"Retry-After": "1"})], 5: [Reply(503)]},
    )
    fetch(nvd_source(upstream, page_size=1), client, tmp_path)
    times = [s.at for s in upstream.seen]
    assert len(times) == 9
    assert in_any_window(times, 30.0) <= 5
    assert all("apikey" not in s.headers for s in upstream.seen)


def test_with_a_key_nvd_gets_up_to_50_requests_per_30_seconds_and_the_key_as_a_header(
    upstream, client, fake_time, tmp_path
):
    upstream.routes[NVD_PATH] = nvd_api([nvd_record(n) for n in range(6)])
    key = "0a1b2c3d-test-key"
    fetch(nvd_source(upstream, page_size=1, nvd_api_key=key), client, tmp_path)
    assert [s.headers.get("apikey") for s in upstream.seen] == [key] * 6
    assert all(key not in json.dumps(s.query) for s in upstream.seen)
    times = [s.at for s in upstream.seen]
    assert all(b - a >= 0.6 - 1e-9 for a, b in zip(times, times[1:], strict=False))
    assert times[-1] - times[0] < 6 * 6  # far faster than the public 6 s spacing
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert key.encode() not in written


def test_an_interrupted_nvd_sync_resumes_at_the_next_page_without_refetching(
    upstream, client, tmp_path
):
    records = [nvd_record(n) for n in range(5)]
    dropping = {"on": True}
    api = nvd_api(records)

    def flaky(request: Seen):
        if dropping["on"] and request.query.get("startIndex") == "2":
            return DROP
        return api(request)

    upstream.routes[NVD_PATH] = flaky
    with pytest.raises(ConnectionLost, match="resumes where it stopped"):
        fetch(nvd_source(upstream), client, tmp_path)
    first_run = [int(s.query["startIndex"]) for s in upstream.seen]
    assert first_run == [0, 2, 2, 2]  # three attempts at the broken page
    state = SyncState.load(tmp_path)
    assert state.get("plan")["next_start"] == 2
    assert [p.name for p in state.pending_files()] == ["nvd-all-20250601T120000-0000000.json"]

    dropping["on"] = False
    upstream.seen.clear()
    saved = fetch(nvd_source(upstream), client, tmp_path)
    assert [int(s.query["startIndex"]) for s in upstream.seen] == [2, 4]
    assert [p.name for p in saved] == [
        "nvd-all-20250601T120000-0000002.json",
        "nvd-all-20250601T120000-0000004.json",
    ]
    assert len(SyncState.load(tmp_path).pending_files()) == 3


def test_nvd_since_asks_for_windows_of_at_most_120_days_then_continues_from_the_last_end(
    upstream, client, tmp_path
):
    upstream.routes[NVD_PATH] = nvd_api([], windowed_total=0)
    since = NOW - dt.timedelta(days=250)
    fetch(nvd_source(upstream, since=since), client, tmp_path)
    spans = [
        (
            dt.datetime.fromisoformat(s.query["lastModStartDate"]),
            dt.datetime.fromisoformat(s.query["lastModEndDate"]),
        )
        for s in upstream.seen
    ]
    assert len(spans) == 3
    assert spans[0][0] == since and spans[-1][1] == NOW
    assert all(end - start <= dt.timedelta(days=120) for start, end in spans)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))

    upstream.seen.clear()
    later = NvdSource(
        SyncOptions(
            base_urls={"nvd": upstream.url + NVD_PATH}, now=lambda: NOW + dt.timedelta(days=1)
        )
    )
    fetch(later, client, tmp_path)
    assert [(s.query["lastModStartDate"], s.query["lastModEndDate"]) for s in upstream.seen] == [
        ("2025-06-01T12:00:00.000+00:00", "2025-06-02T12:00:00.000+00:00")
    ]


def test_nvd_gives_up_with_the_status_after_the_last_attempt(upstream, client, tmp_path):
    upstream.routes[NVD_PATH] = lambda request: Reply(503, b"", {"message": "Service busy"})
    with pytest.raises(HttpStatusError, match=r"HTTP 503 .*Service busy.* after 3 attempts"):
        fetch(nvd_source(upstream), client, tmp_path)


def test_an_html_error_page_is_not_saved_as_nvd_data(upstream, client, tmp_path):
    upstream.routes[NVD_PATH] = lambda request: Reply(200, b"<!DOCTYPE html><p>maintenance")
    with pytest.raises(UnexpectedContent, match="expected an NVD CVE API 2.0 page"):
        fetch(nvd_source(upstream), client, tmp_path)
    assert not list(tmp_path.glob("nvd-*.json"))


# --- the HTTP client and the token bucket --------------------------------------------------


def test_a_missing_file_is_not_retried(upstream, client):
    with pytest.raises(HttpStatusError, match="HTTP 404"):
        client.get(upstream.url + "/nothing-here.json")
    assert len(upstream.seen) == 1


def test_retry_after_may_be_seconds_or_a_date():
    assert parse_retry_after("120") == 120.0
    in_a_minute = email.utils.formatdate(1_000_060, usegmt=True)
    assert parse_retry_after(in_a_minute, now=1_000_000) == pytest.approx(60.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_the_token_bucket_spaces_requests_even_if_the_clock_does_not_move():
    time = FakeTime()
    moving = TokenBucket(5, 30.0, clock=time.clock, sleep=time.sleep)
    stamps = []
    for _ in range(11):
        moving.acquire()
        stamps.append(time.now)
    assert in_any_window(stamps, 30.0) <= 5
    frozen_sleeps: list[float] = []
    frozen = TokenBucket(5, 30.0, clock=lambda: 0.0, sleep=frozen_sleeps.append)
    for _ in range(4):
        frozen.acquire()
    assert frozen_sleeps == [6.0, 6.0, 6.0]


# --- archives ------------------------------------------------------------------------------


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name",
    [
        "../cwec_v4.14.xml",
        "data/../../etc/cwec_v4.14.xml",
        "/tmp/cwec_v4.14.xml",
        "C:/cwec_v4.14.xml",
        "..\\cwec_v4.14.xml",
    ],
)
def test_a_zip_member_leaving_its_folder_is_refused(name):
    assert safe_member_name(name) is not None
    with pytest.raises(UnsafeArchive, match="refused, member"):
        unzip_capped(zip_of({name: b"<Weakness_Catalog/>"}), r"cwec_v[0-9.]+\.xml")


def test_a_zip_unpacking_past_the_cap_is_refused():
    archive = zip_of({"cwec_v4.14.xml": b"\0" * (2 << 20)})
    with pytest.raises(UnsafeArchive, match="more than 1,048,576"):
        unzip_capped(archive, r"cwec_v[0-9.]+\.xml", max_bytes=1 << 20)


def test_a_gzip_bomb_is_stopped_at_the_cap():
    bomb = gzip.compress(b"\0" * (64 << 20))
    assert len(bomb) < 100_000
    with pytest.raises(UnsafeArchive, match="gzip bomb"):
        gunzip_capped(bomb, max_bytes=1 << 20)
    with pytest.raises(UnsafeArchive, match="not a complete gzip"):
        gunzip_capped(bomb[: len(bomb) // 2])


def test_cwe_sync_refuses_a_zip_with_a_traversal_path_and_writes_nothing(
    upstream, client, tmp_path
):
    upstream.routes["/cwec_latest.xml.zip"] = lambda request: Reply(
        200, zip_of({"cwec_v4.14.xml": b"<Weakness_Catalog/>", "../../cwec_v9.9.xml": b"<evil/>"})
    )
    folder = tmp_path / "home" / "downloads" / "cwe"
    source = CweSource(SyncOptions(base_urls={"cwe": upstream.url}))
    with pytest.raises(UnsafeArchive, match=r"'\.\./\.\./cwec_v9\.9\.xml' has a '\.\.' path"):
        fetch(source, client, folder)
    assert [p for p in tmp_path.rglob("*.xml")] == []


def test_cwe_sync_unpacks_the_real_catalogue(upstream, client, tmp_path, shared_data):
    catalogue = (shared_data / "mitre-cwe" / "cwec_v4.14.xml").read_bytes()
    upstream.routes["/cwec_latest.xml.zip"] = lambda request: Reply(
        200, zip_of({"cwec_v4.14.xml": catalogue})
    )
    saved = fetch(CweSource(SyncOptions(base_urls={"cwe": upstream.url})), client, tmp_path)
    assert [p.name for p in saved] == ["cwec_v4.14.xml"]
    assert saved[0].read_bytes() == catalogue


EPSS_CSV = (
    b"#model_version:v2025.03.14,score_date:2025-06-01T00:00:00+0000\n"
    b"cve,epss,percentile\nCVE-2017-0144,0.94318,0.99950\n"
    b"CVE-2019-0708,0.94467,0.99981\nCVE-2020-1938,0.94398,0.99966\n"
)


def test_epss_sync_refuses_a_gzip_bomb_and_saves_nothing(upstream, client, tmp_path):
    upstream.routes["/epss_scores-current.csv.gz"] = lambda request: Reply(
        200, gzip.compress(EPSS_CSV + b"\0" * (8 << 20))
    )
    source = EpssSource(SyncOptions(base_urls={"epss": upstream.url}, max_unpacked_bytes=1 << 20))
    with pytest.raises(UnsafeArchive, match="gzip bomb"):
        fetch(source, client, tmp_path)
    assert not list(tmp_path.glob("*.csv"))


def test_epss_sync_follows_the_redirect_to_the_dated_file(upstream, client, tmp_path):
    undated = EPSS_CSV.split(b"\n", 1)[1]  # an older file without the model line
    upstream.routes["/epss_scores-current.csv.gz"] = lambda request: Reply(
        302, b"", {"Location": "/epss_scores-2025-05-31.csv.gz"}
    )
    upstream.routes["/epss_scores-2025-05-31.csv.gz"] = lambda request: Reply(
        200, gzip.compress(undated)
    )
    saved = fetch(EpssSource(SyncOptions(base_urls={"epss": upstream.url})), client, tmp_path)
    assert [p.name for p in saved] == ["epss_scores-2025-05-31.csv"]
    assert saved[0].read_bytes() == undated


def test_epss_sync_names_the_file_by_the_score_date(upstream, client, tmp_path):
    upstream.routes["/epss_scores-current.csv.gz"] = lambda request: Reply(
        200, gzip.compress(EPSS_CSV)
    )
    saved = fetch(EpssSource(SyncOptions(base_urls={"epss": upstream.url})), client, tmp_path)
    assert [p.name for p in saved] == ["epss_scores-2025-06-01.csv"]
    assert detect(saved[0]).name == "epss"


# --- CSAF ----------------------------------------------------------------------------------

CSAF_DIR = "/csaf_files/OT/white"


def serve_csaf(upstream, shared_data, changes: str | None, index: str | None = None) -> dict:
    advisories = {
        f"2022/{p.name}": p.read_bytes()
        for p in sorted((shared_data / "cisa-csaf-icsma" / "2022").glob("*.json"))[:2]
    }
    if changes is not None:
        upstream.routes[f"{CSAF_DIR}/changes.csv"] = lambda request: Reply(200, changes.encode())
    if index is not None:
        upstream.routes[f"{CSAF_DIR}/index.txt"] = lambda request: Reply(200, index.encode())
    for relative, body in advisories.items():
        upstream.routes[f"{CSAF_DIR}/{relative}"] = (lambda b: lambda request: Reply(200, b))(body)
    return advisories


def test_csaf_sync_fetches_only_new_or_changed_medical_advisories(
    upstream, client, tmp_path, shared_data
):
    first, second = ["2022/icsma-22-006-01.json", "2022/icsma-22-062-01.json"]
    lines = [
        f"csaf_files/OT/white/{first},2022-01-06T07:00:00.000000Z",
        f"csaf_files/OT/white/{second},2022-03-03T07:00:00.000000Z",
        "csaf_files/OT/white/2022/icsa-22-055-01.json,2022-02-24T07:00:00.000000Z",
        "csaf_files/OT/white/../../../etc/icsma-22-000-01.json,2022-01-01T00:00:00Z",
    ]
    advisories = serve_csaf(upstream, shared_data, "\n".join(lines) + "\n")
    assert set(advisories) == {first, second}
    source = CsafSource(SyncOptions(base_urls={"csaf": upstream.url}))
    saved = fetch(source, client, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in saved] == [first, second]
    assert saved[0].read_bytes() == advisories[first]
    assert not upstream.requests_to(f"{CSAF_DIR}/2022/icsa-22-055-01.json")
    assert all(".." not in seen.path for seen in upstream.seen)

    upstream.seen.clear()
    assert fetch(source, client, tmp_path) == []  # nothing changed
    lines[1] = f"csaf_files/OT/white/{second},2022-04-01T07:00:00.000000Z"
    upstream.routes[f"{CSAF_DIR}/changes.csv"] = lambda r: Reply(200, "\n".join(lines).encode())
    upstream.seen.clear()
    assert [p.name for p in fetch(source, client, tmp_path)] == ["icsma-22-062-01.json"]
    assert detect(saved[0]).name == "csaf"


def test_csaf_sync_falls_back_to_index_txt_and_honours_since(
    upstream, client, tmp_path, shared_data
):
    serve_csaf(
        upstream, shared_data, None, index="2022/icsma-22-062-01.json\n2022/icsma-22-006-01.json\n"
    )
    since = dt.datetime(2022, 3, 1, tzinfo=dt.UTC)  # index.txt has no times: all are fetched
    saved = fetch(
        CsafSource(SyncOptions(base_urls={"csaf": upstream.url}, since=since)), client, tmp_path
    )
    assert sorted(p.name for p in saved) == ["icsma-22-006-01.json", "icsma-22-062-01.json"]

    dated = (
        "2022/icsma-22-006-01.json,2022-01-06T07:00:00Z\n"
        "2022/icsma-22-062-01.json,2022-03-03T07:00:00Z\n"
    )
    serve_csaf(upstream, shared_data, dated)
    fresh = tmp_path / "fresh"
    saved = fetch(
        CsafSource(SyncOptions(base_urls={"csaf": upstream.url}, since=since)), client, fresh
    )
    assert [p.name for p in saved] == ["icsma-22-062-01.json"]


# --- single files, the runner and the command ----------------------------------------------


def serve_kev(upstream, shared_data) -> bytes:
    catalog = (shared_data / "cisa-kev" / "known_exploited_vulnerabilities.json").read_bytes()

    def route(request: Seen) -> Reply:
        if request.headers.get("if-none-match") == '"kev-2025.08.25"':
            return Reply(304)
        return Reply(200, catalog, {"ETag": '"kev-2025.08.25"', "Content-Type": "application/json"})

    upstream.routes["/known_exploited_vulnerabilities.json"] = route
    return catalog


def test_an_unchanged_file_is_not_downloaded_again(upstream, client, tmp_path, shared_data):
    catalog = serve_kev(upstream, shared_data)
    source = KevSource(SyncOptions(base_urls={"kev": upstream.url}))
    saved = fetch(source, client, tmp_path)
    assert saved[0].read_bytes() == catalog
    assert fetch(source, client, tmp_path) == []
    assert upstream.seen[-1].headers.get("if-none-match") == '"kev-2025.08.25"'
    saved[0].unlink()  # a cache emptied by hand is filled again
    assert fetch(source, client, tmp_path)[0].read_bytes() == catalog


@pytest.mark.parametrize(
    ("source_class", "served"),
    [
        (
            KevSource,
            {
                "known_exploited_vulnerabilities.json": "cisa-kev/known_exploited_vulnerabilities.json"
            },
        ),
        (CapecSource, {"capec/2.1/stix-capec.json": "mitre-capec/stix-capec-2.1-assembled.json"}),
        (
            AttackSource,
            {
                "enterprise-attack/enterprise-attack.json": "mitre-attack-enterprise/enterprise-attack-18.1-stix20-assembled.json",
                "ics-attack/ics-attack.json": "mitre-attack-ics/ics-attack-18.1.json",
            },
        ),
        (AtlasSource, {"dist/ATLAS.yaml": "mitre-atlas/ATLAS.yaml"}),
        (CweSource, {"cwec_latest.xml.zip": "mitre-cwe/cwec_v4.14.xml"}),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
def test_each_download_of_real_data_is_read_by_its_importer(
    source_class, served, upstream, client, tmp_path, shared_data
):
    for remote, local in served.items():
        body = (shared_data / local).read_bytes()
        if remote.endswith(".zip"):
            body = zip_of({Path(local).name: body})
        upstream.routes[f"/{remote}"] = (lambda b: lambda request: Reply(200, b))(body)
    source = source_class(SyncOptions(base_urls={source_class.name: upstream.url}))
    saved = fetch(source, client, tmp_path)
    assert len(saved) == len(served)
    assert {detect(path).name for path in saved} == {source_class.name}


def test_a_page_that_is_not_the_kev_catalog_is_refused(upstream, client, tmp_path):
    upstream.routes["/known_exploited_vulnerabilities.json"] = lambda request: Reply(
        200, b"<html><body>Access Denied</body></html>"
    )
    with pytest.raises(UnexpectedContent, match="expected the KEV catalog"):
        fetch(KevSource(SyncOptions(base_urls={"kev": upstream.url})), client, tmp_path)


class Handmade(Source):
    """A source whose 'downloads' are given bytes; it may fail after saving them."""

    name = "handmade"
    description = "files made by the test"
    default_base_url = "http://127.0.0.1:9"

    def __init__(self, files: dict[str, bytes], failure: SyncError | None = None) -> None:
        super().__init__()
        self.files = files
        self.failure = failure

    def plan(self, state):
        return []

    def fetch(self, client, dest_dir, state, progress=no_progress):
        saved = [self.save(dest_dir, name, body, state) for name, body in self.files.items()]
        if self.failure is not None:
            raise self.failure
        return saved


def test_a_download_no_importer_reads_waits_for_a_later_sync(client, tmp_path):
    store = Store.in_memory()
    result = run_sync(store, [Handmade({"notes.txt": b"release notes"})], client, tmp_path)
    assert result.unrecognised == [tmp_path / "handmade" / "notes.txt"]
    assert result.summary is None and store.snapshots() == []
    assert SyncState.load(tmp_path / "handmade").pending_files() == result.unrecognised


def test_a_refused_download_imports_nothing_and_is_tried_again_next_time(
    upstream, client, tmp_path, shared_data
):
    serve_kev(upstream, shared_data)
    broken = Handmade({"kev-mirror.json": b'{"catalogVersion": "2025.08.25", "vulnerab'})
    kev = KevSource(SyncOptions(base_urls={"kev": upstream.url}))
    store = Store.in_memory()
    with pytest.raises(ImportRefused) as refused:
        run_sync(store, [kev, broken], client, tmp_path)
    assert "kev-mirror.json" in str(refused.value)
    assert store.snapshots() == []
    for name in ("kev", "handmade"):
        assert len(SyncState.load(tmp_path / name).pending_files()) == 1


def test_pages_that_arrived_before_an_interruption_are_imported_by_the_same_run(
    upstream, client, tmp_path
):
    records = [nvd_record(n) for n in range(5)]
    dropping = {"on": True}
    api = nvd_api(records)
    upstream.routes[NVD_PATH] = lambda request: (
        DROP if dropping["on"] and request.query.get("startIndex") == "4" else api(request)
    )
    store = Store.in_memory()
    result = run_sync(store, [nvd_source(upstream)], client, tmp_path)
    assert isinstance(result.failed[0].error, ConnectionLost)
    assert store.has("CVE-2024-41003") and not store.has("CVE-2024-41004")
    assert SyncState.load(tmp_path / "nvd").pending_files() == []

    dropping["on"] = False
    result = run_sync(store, [nvd_source(upstream)], client, tmp_path)
    assert result.failed == [] and store.has("CVE-2024-41004")


def sync(*args: str, home: Path, **env: str):
    environment = {"MDRISK_HOME": str(home), "NVD_API_KEY": ""} | env
    return CliRunner().invoke(main, ["kb", "sync", *args], env=environment)


def test_kb_sync_kev_downloads_and_imports_the_catalog(upstream, tmp_path, shared_data):
    catalog = serve_kev(upstream, shared_data)
    store_path = tmp_path / "kb.sqlite"
    result = sync(
        "--source",
        "kev",
        "--store",
        str(store_path),
        home=tmp_path,
        MDRISK_SYNC_KEV_URL=upstream.url,
    )
    assert result.exit_code == 0, result.output
    assert "kev: 1 file(s) downloaded" in result.output
    downloaded = tmp_path / "downloads" / "kev" / "known_exploited_vulnerabilities.json"
    assert downloaded.read_bytes() == catalog
    assert "imported 1 file(s)" in result.output
    with Store.open(store_path) as store:
        assert store.counts()["kev"] == 1404
        assert store.has("CVE-2017-0144")
        digest = store.content_digest()
    again = sync(
        "--source",
        "kev",
        "--store",
        str(store_path),
        home=tmp_path,
        MDRISK_SYNC_KEV_URL=upstream.url,
    )
    assert again.exit_code == 0 and "kev: up to date" in again.output
    with Store.open(store_path) as store:
        assert store.content_digest() == digest
    assert SyncState.load(downloaded.parent).pending_files() == []


def test_kb_sync_offline_says_so_and_exits_1_without_a_traceback(tmp_path, refused_port):
    port = refused_port
    result = sync(
        "--source",
        "kev",
        "--store",
        str(tmp_path / "kb.sqlite"),
        home=tmp_path,
        MDRISK_SYNC_KEV_URL=f"http://127.0.0.1:{port}",
    )
    assert result.exit_code == 1
    assert f"cannot reach 127.0.0.1:{port}" in result.output
    assert "kb sync needs the network; everything else works offline" in result.output
    assert "Traceback" not in result.output


def test_kb_sync_imports_what_arrived_even_when_another_source_failed(
    upstream, tmp_path, shared_data, refused_port
):
    serve_kev(upstream, shared_data)
    result = sync(
        "--source",
        "kev",
        "--source",
        "epss",
        "--store",
        str(tmp_path / "kb.sqlite"),
        home=tmp_path,
        MDRISK_SYNC_KEV_URL=upstream.url,
        MDRISK_SYNC_EPSS_URL=f"http://127.0.0.1:{refused_port}",
    )
    assert result.exit_code == 1
    assert "error: epss: cannot reach" in result.output
    assert "kev: 1 file(s) downloaded" in result.output
    with Store.open(tmp_path / "kb.sqlite") as store:
        assert store.counts()["kev"] == 1404


def test_kb_sync_dry_run_names_every_url_and_touches_nothing(tmp_path):
    result = sync("--dry-run", "--since", "2025-01-01", home=tmp_path)
    assert result.exit_code == 0, result.output
    for url in (
        "https://services.nvd.nist.gov/rest/json/cves/2.0",
        "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
        "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
        "https://cwe.mitre.org/data/xml/cwec_latest.xml.zip",
        "https://raw.githubusercontent.com/mitre/cti/master/capec/2.1/stix-capec.json",
        "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/"
        "ics-attack/ics-attack.json",
        "https://raw.githubusercontent.com/mitre-atlas/atlas-data/main/dist/ATLAS.yaml",
        "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/",
    ):
        assert url in result.output
    assert re.search(
        r"in \d+ window\(s\) of <= 120 days, 2025-01-01T00:00:00\.000\+00:00 to", result.output
    )
    assert list(tmp_path.iterdir()) == []


def test_kb_sync_help_says_what_comes_from_where():
    result = CliRunner().invoke(main, ["kb", "sync", "--help"])
    assert result.exit_code == 0
    for name in source_names():
        assert f"\n  {name} " in result.output
    for host in (
        "services.nvd.nist.gov",
        "www.cisa.gov",
        "cwe.mitre.org",
        "raw.githubusercontent.com/cisagov/CSAF",
    ):
        assert host in result.output


def test_kb_sync_refuses_an_unknown_source(tmp_path):
    result = sync("--source", "osv", home=tmp_path)
    assert result.exit_code == 2 and "unknown source osv" in result.output


def test_a_corrupt_state_file_starts_afresh_with_a_warning(tmp_path):
    (tmp_path / STATE_FILE).write_text("{not json")
    state = SyncState.load(tmp_path)
    assert "starting afresh" in state.warning and state.pending_files() == []


# --- fuzzing what comes off the network ----------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_no_listing_line_names_a_file_outside_the_download_folder(text):
    try:
        found = parse_listing(text.encode(), "changes.csv")
    except UnexpectedContent:
        return
    folder = Path("/cache/csaf")
    for relative in found:
        assert (folder / relative).resolve().is_relative_to(folder)
        assert relative.lower().split("/")[1].startswith("icsma-")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_an_accepted_member_name_stays_inside_the_folder(name):
    if safe_member_name(name) is None:
        folder = Path("/cache/cwe")
        assert (folder / name).resolve().is_relative_to(folder)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_archive_readers_refuse_garbage_with_a_message(data):
    for unpack in (lambda d: gunzip_capped(d, 1 << 16), lambda d: unzip_capped(d, r".*")):
        try:
            unpack(data)
        except UnsafeArchive as error:
            assert str(error)


def test_kb_sync_refuses_a_smaller_kev_until_replace(upstream, tmp_path, shared_data):
    full = shared_data / "cisa-kev" / "known_exploited_vulnerabilities.json"
    store_path = tmp_path / "kb.sqlite"
    with Store.open(store_path) as store:
        import_paths(store, [full])
    catalog = json.loads(full.read_bytes())
    catalog["vulnerabilities"] = catalog["vulnerabilities"][:10]
    catalog["count"] = 10
    cut = json.dumps(catalog).encode()
    upstream.routes["/known_exploited_vulnerabilities.json"] = lambda request: Reply(
        200, cut, {"Content-Type": "application/json"}
    )
    arguments = ("--source", "kev", "--store", str(store_path))
    refused = sync(*arguments, home=tmp_path, MDRISK_SYNC_KEV_URL=upstream.url)
    assert refused.exit_code == 1
    assert "holds 10 kev record(s) where the knowledge base holds 1,404" in refused.output
    assert "--replace" in refused.output
    with Store.open(store_path, read_only=True) as store:
        assert store.counts()["kev"] == 1404
    replaced = sync(*arguments, "--replace", home=tmp_path, MDRISK_SYNC_KEV_URL=upstream.url)
    assert replaced.exit_code == 0, replaced.output
    with Store.open(store_path, read_only=True) as store:
        assert store.counts()["kev"] == 10
