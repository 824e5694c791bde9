"""The capacity model: a server with finite workers and a bounded queue.

``capacity`` requests are served at once, each holding a slot ``service_time``
seconds; up to ``queue_limit`` more wait first come first served (so latency grows with
load) and the rest are refused at once. It gives adaptive concurrency a server to learn.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Literal

import attrs

__all__ = ["Capacity", "Load", "check_capacity"]


@attrs.frozen
class Load:
    """What the capacity model went through (see :meth:`FakeShopServer.load`).

    Attributes:
        capacity: Requests served at once now (``None``: no capacity model).
        in_service: Requests being served now.
        queued: Requests waiting for a slot now.
        peak_in_service: The most served at once so far.
        peak_queued: The longest the queue has been.
        served: Requests that went through a slot.
        rejected: Requests refused because the queue was full.
    """

    capacity: int | None
    in_service: int
    queued: int
    peak_in_service: int
    peak_queued: int
    served: int
    rejected: int


def check_capacity(name: str, value: int | None, minimum: int) -> int | None:
    """``value`` if it is ``None`` or an int >= ``minimum``, else ``ValueError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be None or an int >= {minimum}, got {value!r}")
    return value


class Capacity:
    """The slots, the queue and what they went through.

    Args:
        capacity: Requests served at once (``None``: no limit).
        queue_limit: Requests that may wait (``None``: no limit).
    """

    def __init__(self, capacity: int | None, queue_limit: int | None) -> None:
        self.capacity = check_capacity("capacity", capacity, 1)
        self.queue_limit = check_capacity("queue_limit", queue_limit, 0)
        self._in_service = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._peak_in_service = 0
        self._peak_queued = 0
        self._served = 0
        self.rejections: list[float] = []

    def load(self, capacity: int | None) -> Load:
        """A snapshot, reporting ``capacity`` as the current one."""
        return Load(
            capacity=capacity,
            in_service=self._in_service,
            queued=sum(1 for w in self._waiting if not w.done()),
            peak_in_service=self._peak_in_service,
            peak_queued=self._peak_queued,
            served=self._served,
            rejected=len(self.rejections),
        )

    def admit_waiting(self, closing: bool = False) -> None:
        """Give free slots to waiters; when ``closing``, every waiter gets one."""
        capacity = None if closing else self.capacity
        while self._waiting and (capacity is None or self._in_service < capacity):
            waiter = self._waiting.popleft()
            if not waiter.done():
                self._take_slot()
                waiter.set_result(None)

    def _take_slot(self) -> None:
        self._in_service += 1
        self._peak_in_service = max(self._peak_in_service, self._in_service)

    def _give_slot(self, closing: bool) -> None:
        self._in_service -= 1
        self.admit_waiting(closing)

    async def serve(
        self,
        service_time: float,
        stall: Callable[[float], Awaitable[bool]],
        closing: Callable[[], bool],
    ) -> Literal["served", "refused", "closing"]:
        """Wait for a slot, hold it ``service_time`` (through ``stall``, which says
        whether the server began closing), give it back."""
        capacity = self.capacity
        if capacity is None or self._in_service < capacity:
            self._take_slot()
        elif self.queue_limit is None or len(self._waiting) < self.queue_limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            self._peak_queued = max(self._peak_queued, len(self._waiting))
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._give_slot(closing())  # granted, then cancelled
                else:
                    self._waiting.remove(waiter)
                raise
        else:
            self.rejections.append(time.monotonic())
            return "refused"
        try:
            stopped = await stall(service_time) if service_time else False
        finally:
            self._give_slot(closing())
        self._served += 1
        return "closing" if stopped else "served"
