"""One HTTP exchange that ends by a deadline, however the server paces its bytes.

A socket timeout bounds each read, not the answer: a server that sends one byte every
quarter second never trips it (the ``drip`` probe kept a 1 s timeout waiting 109 s). Here
every connection the request opens is registered with a watchdog timer that shuts the
socket down at the deadline, which ends any read blocked in it; the body is read in chunks,
each with the time left as its timeout.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def passed(self) -> bool:
        return time.monotonic() >= self.end


class _Watchdog:
    def __init__(self, deadline: Deadline) -> None:
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.fired = False
        self._timer = threading.Timer(deadline.remaining(), self._fire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _opener(watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    class Watched(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.watch(self.sock)

    class WatchedTLS(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.watch(self.sock)

    class Handler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(Watched, req)

    class TLSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(WatchedTLS, req, context=getattr(self, "_context", None))

    return urllib.request.build_opener(Handler(), TLSHandler())


@contextmanager
def opened_within(request: urllib.request.Request, deadline: Deadline) -> Iterator[Any]:
    """The response to ``request``; every socket it uses is shut at the deadline."""
    watchdog = _Watchdog(deadline)
    watchdog.start()
    try:
        with _opener(watchdog).open(request, timeout=max(deadline.remaining(), 0.001)) as response:
            yield response
    finally:
        watchdog.cancel()


def read_within(response: Any, deadline: Deadline, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the body (more means too long), read by the deadline.

    Raises TimeoutError when the deadline passes first."""
    chunks: list[bytes] = []
    size = 0
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    while size <= limit:
        if deadline.passed():
            raise TimeoutError
        if isinstance(sock, socket.socket):
            sock.settimeout(max(deadline.remaining(), 0.001))
        try:
            chunk = response.read1(min(65536, limit + 1 - size))
        except (OSError, http.client.HTTPException):
            if deadline.passed():
                raise TimeoutError from None
            raise
        if not chunk:
            # Shut by the watchdog before the announced end: not the real end of the body.
            if deadline.passed() and getattr(response, "length", None) != 0:
                raise TimeoutError
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
