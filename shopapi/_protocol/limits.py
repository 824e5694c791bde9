"""Limits shared by every request of a client: a rate (token bucket) and a pause.

The arithmetic is pure (``reserve(now)`` returns how long to wait); the async methods
only sleep for what it says, so a cancelled waiter gives its token back.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from .._exceptions import ConfigurationError

__all__ = ["PauseGate", "TokenBucket"]


class TokenBucket:
    """At most ``rate`` requests per second on average, in bursts of at most ``burst``.

    Args:
        rate: Requests per second (> 0).
        burst: Tokens the bucket holds; defaults to ``max(1, rate)`` rounded down.
        clock: Monotonic seconds; injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise ConfigurationError(f"rate must be > 0 requests per second, got {rate!r}")
        if burst is None:
            burst = max(1, int(rate))
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ConfigurationError(f"burst must be an int >= 1, got {burst!r}")
        self.rate = float(rate)
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def reserve(self, now: float) -> float:
        """Take one token; return the seconds to wait before using it (0 if none)."""
        elapsed = max(0.0, now - self._stamp)
        self._stamp = max(self._stamp, now)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate

    def give_back(self) -> None:
        """Return a token whose wait was abandoned."""
        self._tokens = min(float(self.burst), self._tokens + 1.0)

    async def acquire(self) -> None:
        """Wait for a token. Cancellation returns it."""
        await self.acquire_within(math.inf)

    async def acquire_within(self, seconds: float) -> bool:
        """Wait for a token if that takes less than ``seconds``; else take none, ``False``.
        Cancellation returns it."""
        delay = self.reserve(self._clock())
        if delay >= seconds:
            self.give_back()
            return False
        if delay > 0:
            try:
                await asyncio.sleep(delay)
            except BaseException:
                self.give_back()
                raise
        return True


class PauseGate:
    """A pause every request of a client waits out (a 429's ``Retry-After``).

    When the server answers 429 with ``Retry-After``, every concurrent worker waits
    until then, instead of each finding out alone with a request of its own.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0  # 0.0: no pause since the last one ended

    @property
    def paused(self) -> bool:
        """Whether a pause may be in force: read on every request, so it costs no
        clock reading until the server asks for a pause."""
        return self._until > 0.0

    def pause_for(self, seconds: float) -> None:
        """Make every request wait ``seconds`` from now (a longer pause wins)."""
        if seconds > 0:
            self._until = max(self._until, self._clock() + seconds)

    def remaining(self) -> float:
        """Seconds left in the current pause (0 when open)."""
        if not self._until:
            return 0.0
        left = self._until - self._clock()
        if left <= 0:
            self._until = 0.0  # over: back to the cheap check
            return 0.0
        return left

    async def wait(self) -> None:
        """Return once no pause is in force."""
        # A sleep, not an Event: the pause may be extended while we wait.
        while (left := self.remaining()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)
