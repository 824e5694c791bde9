"""A discrete-event simulation of a bulk job against a capacity-limited server.

No event loop, no sockets: simulated seconds only, so the adaptive limit can be replayed
against latency traces in milliseconds of real time, and the same seed gives the same
run. The server serves ``capacity`` requests at once for ``service_time`` each (with a
seeded jitter), queues up to ``queue_limit`` more, and refuses the rest at once. The
client keeps at most ``limit`` requests in flight, spends ``overhead`` seconds each way
between its slot and the server, and retries a refused request after ``backoff``.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Sequence
from typing import Protocol

import attrs


class Limiter(Protocol):
    @property
    def limit(self) -> int: ...

    def on_answer(self, *, sent_at: float, now: float, in_flight: int) -> None: ...

    def on_overload(self, *, sent_at: float, now: float, in_flight: int) -> None: ...


class Fixed:
    """A fixed concurrency, for the sweep the adaptive limit is compared with."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def on_answer(self, *, sent_at: float, now: float, in_flight: int) -> None:
        pass

    def on_overload(self, *, sent_at: float, now: float, in_flight: int) -> None:
        pass


@attrs.frozen
class Outcome:
    elapsed: float  # simulated seconds until the last item was done
    sent: int  # requests sent, retries included
    rejected: int
    rejected_at: tuple[float, ...]
    completed: int
    limits: tuple[tuple[float, int], ...]  # (time, limit) at each change
    peak_in_flight: int


def simulate(
    limiter: Limiter,
    *,
    items: int,
    capacity: int,
    service_time: float = 0.020,
    queue_limit: int | None = None,
    overhead: float = 0.0002,
    backoff: float = 0.05,
    jitter: float = 0.1,
    capacity_changes: Sequence[tuple[float, int]] = (),
    base_changes: Sequence[tuple[float, float]] = (),
    rate: float | None = None,
    seed: int = 1,
) -> Outcome:
    """Run ``items`` requests through ``limiter`` against the simulated server.

    ``capacity_changes`` and ``base_changes`` are ``(time, new value)`` of the capacity
    and the service time; ``rate`` caps how fast the client may send (requests/s), as
    ``Limits(rate=...)`` does.
    """
    rng = random.Random(seed)
    queue_limit = capacity if queue_limit is None else queue_limit
    events: list[tuple[float, int, str, tuple[float, int]]] = []
    seq = 0

    def at(when: float, kind: str, data: tuple[float, int] = (0.0, 0)) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (when, seq, kind, data))

    for when, value in capacity_changes:
        at(when, "capacity", (0.0, value))
    for when, seconds in base_changes:
        at(when, "service", (seconds, 0))
    now = 0.0
    busy = 0
    waiting: deque[tuple[float, int]] = deque()
    in_flight = 0
    peak = 0
    fresh = items
    retries = 0  # refused requests whose backoff is over
    completed = sent = rejected = 0
    rejected_at: list[float] = []
    limits: list[tuple[float, int]] = [(0.0, limiter.limit)]
    next_send = 0.0  # the rate limit's next free moment
    wake_pending = False

    def serve(ticket: tuple[float, int]) -> None:
        nonlocal busy
        busy += 1
        at(now + service_time * (1.0 + jitter * rng.random()), "done", ticket)

    def fill() -> None:
        nonlocal in_flight, fresh, retries, sent, peak, next_send, wake_pending
        while in_flight < limiter.limit and (retries or fresh):
            if rate is not None:
                if next_send > now:
                    if not wake_pending:
                        wake_pending = True
                        at(next_send, "wake")
                    return
                next_send = max(next_send, now) + 1.0 / rate
            if retries:
                retries -= 1
            else:
                fresh -= 1
            in_flight += 1
            sent += 1
            peak = max(peak, in_flight)
            at(now + overhead, "arrive", (now, in_flight))

    fill()
    while events and completed < items:
        now, _, kind, data = heapq.heappop(events)
        if kind == "arrive":
            if busy < capacity:
                serve(data)
            elif len(waiting) < queue_limit:
                waiting.append(data)
            else:
                at(now + overhead, "refused", data)
        elif kind == "done":
            busy -= 1
            at(now + overhead, "answer", data)
            while waiting and busy < capacity:
                serve(waiting.popleft())
        elif kind in ("answer", "refused"):
            in_flight -= 1
            before = limiter.limit
            if kind == "answer":
                completed += 1
                limiter.on_answer(sent_at=data[0], now=now, in_flight=data[1])
            else:
                rejected += 1
                rejected_at.append(now)
                limiter.on_overload(sent_at=data[0], now=now, in_flight=data[1])
                at(now + backoff, "retry")
            if limiter.limit != before:
                limits.append((now, limiter.limit))
            fill()
        elif kind == "retry":
            retries += 1
            fill()
        elif kind == "wake":
            wake_pending = False
            fill()
        elif kind == "capacity":
            capacity = data[1]
            while waiting and busy < capacity:
                serve(waiting.popleft())
        elif kind == "service":
            service_time = data[0]
    return Outcome(
        elapsed=now,
        sent=sent,
        rejected=rejected,
        rejected_at=tuple(rejected_at),
        completed=completed,
        limits=tuple(limits),
        peak_in_flight=peak,
    )


def best_fixed(capacity: int, **kw: object) -> tuple[int, Outcome]:
    """The fastest fixed concurrency of a sweep around the capacity, and its outcome."""
    queue_limit = kw.get("queue_limit")
    deepest = capacity + (capacity if queue_limit is None else int(queue_limit))  # type: ignore[call-overload]
    sweep = (
        capacity // 2,
        capacity,
        capacity + 1,
        capacity + 2,
        capacity * 5 // 4,
        capacity * 3 // 2,
        capacity * 2,
    )
    # Past what the server holds, a fixed concurrency only collects refusals.
    candidates = sorted({max(1, c) for c in sweep if c <= max(deepest, capacity + 1)})
    runs = [(c, simulate(Fixed(c), capacity=capacity, **kw)) for c in candidates]  # type: ignore[arg-type]
    return min(runs, key=lambda run: run[1].elapsed)
