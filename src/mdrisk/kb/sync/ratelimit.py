"""A token bucket: at most ``requests`` requests per ``period`` seconds, waiting when empty.

The bucket holds one token by default. A bigger burst would break a *rolling* window limit
such as NVD's (5 requests in any 30 s): a full bucket of 5 plus 4 refills fits 9 requests
into the first 30 s. With one token, requests are spaced ``period / requests`` apart, so no
window of ``period`` seconds ever holds more than ``requests``.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        requests: int,
        period: float,
        capacity: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests <= 0 or period <= 0 or capacity < 1:
            raise ValueError("a token bucket needs requests > 0, period > 0, capacity >= 1")
        self.rate = requests / period  # tokens per second
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._stamp = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is there; returns the seconds slept.

        The wait is booked on the bucket's own time line rather than re-read from the
        clock, so a sleep that returns early (or a test clock that does not move) still
        spaces requests correctly and never loops.
        """
        now = self._clock()
        if now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        wait = (1 - self._tokens) / self.rate
        self._sleep(wait)
        self._stamp += wait
        self._tokens = 0.0
        return wait
