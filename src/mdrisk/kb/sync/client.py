"""HTTP GET with retries, backoff, Retry-After, size caps and clear offline errors (stdlib).

Retried: 403 and 429 (how NVD and GitHub say "slow down"), every 5xx, and connections that
break or time out. Not retried: a host that cannot be reached at all (no network, no DNS,
connection refused): that fails at once with ``Unreachable``. Sleep and clock are injected so
tests never wait.
"""

from __future__ import annotations

import email.utils
import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urlencode, urlsplit

from mdrisk import __version__
from mdrisk.kb.sync.errors import ConnectionLost, HttpStatusError, SyncError, Unreachable
from mdrisk.kb.sync.ratelimit import TokenBucket

RETRY_STATUSES = frozenset({403, 429})
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _Retry(Exception):
    def __init__(self, error: SyncError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpClient:
    """GET only. One client per sync run; every source shares it."""

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        max_attempts: int = 5,
        backoff_base: float = 2.0,
        backoff_cap: float = 120.0,
        max_retry_after: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = f"mdrisk/{__version__} (kb sync)",
    ) -> None:
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.clock = clock
        self.sleep = sleep
        self.user_agent = user_agent
        self._opener = urllib.request.build_opener()

    def bucket(self, requests: int, period: float) -> TokenBucket:
        """A rate limiter on this client's clock and sleep."""
        return TokenBucket(requests, period, clock=self.clock, sleep=self.sleep)

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        limiter: TokenBucket | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Response:
        """The response to GET ``url``; 304 is returned, other errors raise ``SyncError``.

        ``limiter`` is asked for a token before every attempt, retries included.
        """
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        host = host_of(url)
        request_headers = {"User-Agent": self.user_agent, "Accept": "*/*"}
        request_headers.update(headers or {})
        for attempt in range(1, self.max_attempts + 1):
            if limiter is not None:
                limiter.acquire()
            try:
                return self._once(url, host, request_headers, max_bytes)
            except _Retry as retry:
                if attempt == self.max_attempts:
                    raise _final(retry.error, attempt) from None
                delay = retry.retry_after
                if delay is None:
                    delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
                if delay > self.max_retry_after:
                    raise SyncError(
                        f"{retry.error}; the server asks to wait {delay:.0f} s "
                        "before retrying: run 'mdrisk kb sync' again later"
                    ) from None
                self.sleep(delay)
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _once(self, url: str, host: str, headers: dict[str, str], max_bytes: int) -> Response:
        request = urllib.request.Request(url, headers=headers, method="GET")
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                length = answer.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise SyncError(
                        f"{host} offers {int(length):,} bytes for {url}, more than "
                        f"the {max_bytes:,}-byte limit"
                    )
                body = _read_capped(answer, max_bytes, host, url)
                if length and length.isdigit() and len(body) < int(length):
                    # http.client returns a short body quietly when the peer hangs up early.
                    raise _Retry(
                        ConnectionLost(
                            host,
                            f"response cut short after {len(body):,} of {int(length):,} bytes",
                            1,
                        )
                    )
                return Response(answer.geturl(), answer.status, _lower(answer.headers), body)
        except urllib.error.HTTPError as error:
            status = error.code
            error_headers = _lower(error.headers or {})
            error.close()
            if status == 304:
                return Response(url, 304, error_headers)
            detail = error_headers.get("message") or error.reason  # NVD explains in "message"
            failure = HttpStatusError(host, status, url, str(detail or ""))
            if status in RETRY_STATUSES or 500 <= status <= 599:
                raise _Retry(failure, parse_retry_after(error_headers.get("retry-after"))) from None
            raise failure from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(
                reason,
                (
                    TimeoutError,
                    socket.timeout,
                    ConnectionResetError,
                    ConnectionAbortedError,
                    BrokenPipeError,
                ),
            ):
                raise _Retry(ConnectionLost(host, reason, 1)) from None
            raise Unreachable(host, reason) from None
        except (http.client.HTTPException, ConnectionError, TimeoutError) as error:
            # The connection broke after it was made: worth another attempt.
            raise _Retry(ConnectionLost(host, _describe(error), 1)) from None
        except OSError as error:
            raise Unreachable(host, error) from None


def _read_capped(answer: http.client.HTTPResponse, max_bytes: int, host: str, url: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = answer.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise SyncError(f"{host} sent more than the {max_bytes:,}-byte limit for {url}")
        chunks.append(chunk)


def _lower(headers: Mapping[str, str] | Message[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _describe(error: BaseException) -> str:
    if isinstance(error, http.client.IncompleteRead):
        return f"response cut short after {len(error.partial)} bytes"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _final(error: SyncError, attempts: int) -> SyncError:
    if isinstance(error, (ConnectionLost, HttpStatusError)):
        return error.after(attempts)
    return error
