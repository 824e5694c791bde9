"""Adaptive concurrency: how many requests a bulk job keeps in flight, learnt from the
answers, so that it finishes as fast as the server allows and never overloads it.

:class:`AdaptiveLimit` is the decision, pure and deterministic: it is told about each
answer (when its request was sent, how many were in flight then, when it came back) and
about each sign of overload, and it holds the limit. :class:`AdaptiveGate` only
sequences it: it lets attempts through while fewer than the limit are in flight, times
them and reports back.

**The model.** A server works on C requests at once and queues the rest. A request sent
while L requests are in flight (itself included) waits behind the L - C ahead of it, so
its round trip is about ``base * L / C``, where ``base`` is the round trip of a request
that meets no queue. Each answer therefore measures the capacity directly (Little's law)::

    C ~ L * base / rtt

and the limit is that estimate plus a small standing queue, ``limit = C + q`` with
``q = 2 + C / 10``: enough that a server slot never idles while the client turns an
answer into its next request. C requests in service is the most throughput the server
gives; more in flight only adds latency, then refusals.

Why each choice:

* **The capacity from what was actually in flight.** Vegas and AIMD move the limit one
  request per round trip, so finding C takes C round trips. Netflix's Gradient computes
  the same ratio but multiplies it by the *limit*, which is wrong whenever fewer
  requests are in flight than it allows (a rate limit, a slow input, retries backing
  off): the limit then grows without bound. Here each answer uses the number in flight
  *when that request was sent*, so a rate- or input-limited job keeps a limit just above
  what it uses, and a capacity change is seen within a round trip.
* **A round's best estimate, with a 25% tolerance.** Noise (a busy client machine, a
  garbage collection, a new connection's set-up) only ever makes answers slower, and
  only some of them; a queue delays every answer of a round. So the estimate is updated
  once per round trip (as many answers as were in flight) from the round's *best*
  answer, and a round trip up to 1.25x the base is not taken for a queue. Measured on
  a shared 2-core machine, answers with no queue at all came back 10-50% over the base;
  without these two, the limit settled at 40% of a capacity of 64. The price is a
  standing queue of up to a quarter of C more, which any server queue holds.
* **Start exponentially, stop at the first standing queue.** From 4, the limit grows
  1.5x per round trip (never past twice what is in use) until a round shows more than
  ``q`` queued. 1.5x rather than TCP's 2x because the first queued answer comes back a
  round trip late, so the overshoot stays within what a server queue absorbs.
* **Down gently on latency, at once on refusals.** Latency moves the limit halfway to
  its target per round trip, and up by at most ``q / 2``: a stall on the client's side
  delays a whole round, and under-using the server costs more than a little extra
  queue. A 429, a 503, a 504 or an attempt that timed out means the server's queue is
  full or it cannot keep up: the limit drops to 0.7 of what was in flight, and the
  capacity estimate with it. The refusals of one burst are one event (as TCP counts one
  loss per window): a signal from a request sent before the last cut changes nothing,
  and answers sent before it no longer count either.
* **A plateau below the last refusal.** Its level is remembered: within 10% of it the
  limit grows by one request per round trip, and stays below it for 20 round trips
  (doubled, up to 1,280, each time the same level is refused again, when a refusal there
  steps back by one, not by a third), and forgets it once 10% past (CUBIC's plateau).
  On a server that queues nothing, refusals are the only signal, and this keeps them to
  a handful per job.
* **The base round trip is a running minimum, re-measured when it cannot be confirmed.**
  Keeping the smallest ever seen (Vegas) goes stale when the server becomes slower:
  every answer then looks queued, and the limit collapses. A minimum over a sliding
  window instead creeps up, because with a standing queue no request ever sees the bare
  round trip, and the limit runs away into refusals. So, like BBR's ProbeRTT and
  Envoy's minRTT window: when no answer has come within 10% of the base for 5 s, the
  limit halves until four requests sent meanwhile come back (they meet no queue), and
  their minimum becomes the base, up or down. That costs about half a round trip of
  throughput every 5 s, and nothing when the queue is empty anyway.
* **What is not a signal.** 500, 502, 408 and failed connections say nothing about load,
  and a refusal's quick round trip says nothing about the queue: none is a sample.
* **Attempts, not items.** The gate holds a slot per attempt: a request waiting out its
  backoff, the client-wide 429 pause or a rate-limit token holds none, so the retry
  budget and the pause work as before. Waits after the slot is taken
  (``Limits(max_concurrency)``, the connection pool) count in the round trip, so the
  limit settles where the client itself starts queueing, too.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable

from .._exceptions import ConfigurationError, RequestTimeoutError

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "OVERLOAD_STATUSES",
    "AdaptiveGate",
    "AdaptiveLimit",
    "Ticket",
]

#: The default ceiling: the client's own connection pool holds 100 connections.
DEFAULT_MAX_CONCURRENCY = 100
#: Answers that mean the server is past what it can hold.
OVERLOAD_STATUSES = frozenset({429, 503, 504})

_INITIAL = 4
_TOLERANCE = 1.25  # round trips up to 25% over the base are not taken for a queue
_STARTUP_GROWTH = 1.5  # per round trip while starting, and at most ever
_DECREASE = 0.7  # on overload, the limit becomes this much of what was in flight
_CONFIRM = 1.1  # an answer within 10% of the base confirms it
_PROBE_INTERVAL = 5.0  # seconds without confirmation before the base is re-measured
_PROBE_SAMPLES = 4
_NEAR_WALL = 0.9  # within 10% of the last overload, grow by one per round trip
_PAST_WALL = 1.1  # 10% past it, forget it
_HOLD_ROUNDS = 20  # after a refusal, round trips spent below its level before trying it
_MAX_HOLD_ROUNDS = 1280  # doubled per refusal at the same level, up to this
_MIN_RTT = 1e-6

#: When a request was sent (seconds) and how many were in flight then, itself included.
Ticket = tuple[float, int]


def _headroom(capacity: float) -> float:
    """The standing queue kept at the server: ``2 + C / 10`` requests."""
    return 2.0 + capacity / 10.0


def _check_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name} must be an int >= 1, got {value!r}")
    return value


class AdaptiveLimit:
    """The adaptive concurrency limit: pure, deterministic, driven by what it is told.

    See the module's docstring for the algorithm and why. Times are seconds on any
    monotonic clock, passed in, so a test can replay a latency trace without an event
    loop; the same calls give the same limits.

    Args:
        max_limit: The ceiling (``max_concurrency``).
        min_limit: The floor.
        initial: Where to start; 4 by default (within the floor and the ceiling).
        probe_interval: Seconds without an answer confirming the base round trip
            before it is measured again.
    """

    def __init__(
        self,
        *,
        max_limit: int = DEFAULT_MAX_CONCURRENCY,
        min_limit: int = 1,
        initial: int = _INITIAL,
        probe_interval: float = _PROBE_INTERVAL,
    ) -> None:
        self.max_limit = _check_int("max_concurrency", max_limit)
        self.min_limit = _check_int("min_limit", min_limit)
        if self.min_limit > self.max_limit:
            raise ConfigurationError(
                f"min_limit ({min_limit}) must be <= max_concurrency ({max_limit})"
            )
        _check_int("initial", initial)
        if not isinstance(probe_interval, (int, float)) or not probe_interval > 0:
            raise ConfigurationError(f"probe_interval must be > 0, got {probe_interval!r}")
        self.probe_interval = float(probe_interval)
        self._limit = float(min(max(initial, self.min_limit), self.max_limit))
        self._capacity = 0.0  # estimated requests the server serves at once (0: none yet)
        self._base = math.inf  # round trip of a request that meets no queue
        self._confirmed = -math.inf  # when an answer last came within _CONFIRM of the base
        self._starting = True
        # This round's answers: the best capacity estimate, the most in flight, how
        # many; only answers to requests sent since _round_from count.
        self._round_from = -math.inf
        self._round_best = 0.0
        self._round_peak = 0
        self._round_answers = 0
        self._wall: float | None = None  # in flight at the last overload
        self._hold_until = -math.inf  # until then, stay below the wall
        self._hold_rounds = _HOLD_ROUNDS
        self._cut_at = -math.inf  # signals from requests sent before this are old news
        # Re-measuring the base: (started, limit to restore, probe limit, min, samples).
        self._probe: tuple[float, float, int, float, int] | None = None

    def __repr__(self) -> str:
        return (
            f"AdaptiveLimit(limit={self.limit}, capacity={self._capacity:.1f}, "
            f"base={self._base:.4g}s, max_limit={self.max_limit})"
        )

    @property
    def limit(self) -> int:
        """Requests that may be in flight now."""
        return max(self.min_limit, min(self.max_limit, int(self._limit)))

    @property
    def capacity(self) -> float:
        """The server's estimated capacity in requests at once (0 before any answer)."""
        return self._capacity

    @property
    def base_rtt(self) -> float:
        """The round trip of a request that meets no queue (``inf`` before any answer)."""
        return self._base

    @property
    def probing(self) -> bool:
        """Whether the limit is lowered to measure the base round trip again."""
        return self._probe is not None

    def _set(self, value: float) -> None:
        self._limit = max(float(self.min_limit), min(float(self.max_limit), value))

    def on_answer(self, *, sent_at: float, now: float, in_flight: int) -> None:
        """A request the server processed came back (any answer but an overload).

        Args:
            sent_at: When it was sent.
            now: When its answer was read.
            in_flight: Requests in flight when it was sent, itself included.
        """
        rtt = max(now - sent_at, _MIN_RTT)
        in_flight = max(in_flight, 1)
        if self._probe is not None:
            self._probe_answer(sent_at, now, rtt, in_flight)
            return
        if rtt <= self._base * _CONFIRM:
            self._confirmed = now
        self._base = min(self._base, rtt)
        if sent_at < self._round_from:
            return  # sent before the last cut or probe: it describes the old limit
        # Queueing delays every answer of a round, noise (a busy client, a connection
        # set-up) only some, and only ever makes an answer slower: so the round's best
        # estimate, not its mean, is the capacity.
        self._round_best = max(
            self._round_best, in_flight * min(1.0, _TOLERANCE * self._base / rtt)
        )
        self._round_peak = max(self._round_peak, in_flight)
        self._round_answers += 1
        if self._round_answers < self._round_peak:
            return  # a round is as many answers as were in flight: one round trip
        in_use = float(self._round_peak)
        capacity = self._capacity = self._round_best
        self._new_round(now)
        if self._starting:
            if in_use - capacity <= _headroom(capacity):
                # Never more than twice what is in use: an input- or rate-limited job
                # must not talk itself up to the ceiling.
                self._set(min(self._limit * _STARTUP_GROWTH, max(self._limit, 2.0 * in_use)))
                self._maybe_probe(now)
                return
            self._starting = False
        target = capacity + _headroom(capacity)
        wall = self._wall
        if wall is not None and target > self._limit:
            if self._limit >= wall * _PAST_WALL:
                self._wall = None  # the server grew: the old level no longer binds
            elif target >= wall * _NEAR_WALL:
                target = min(target, self._limit + 1.0)  # one request per round trip
                if now < self._hold_until:
                    target = min(target, max(self._limit, wall - 1.0))
        if target < self._limit:
            # Latency moves the limit down gently, halfway per round trip: a stall of
            # the client's own (a busy machine, a collection) delays a whole round,
            # and under-using the server costs more than a little extra queue.
            # Refusals are what cut at once.
            target = (self._limit + target) / 2.0
        else:
            # Up by at most half the headroom per round trip: one round's best estimate
            # may be a lucky one, and the headroom is what it may cost.
            target = min(target, self._limit + max(1.0, _headroom(capacity) / 2.0))
        self._set(target)
        self._maybe_probe(now)

    def _new_round(self, now: float) -> None:
        self._round_from = now
        self._round_best = 0.0
        self._round_peak = 0
        self._round_answers = 0

    def _maybe_probe(self, now: float) -> None:
        if now - self._confirmed >= self.probe_interval:
            probe_limit = max(self.min_limit, int(self._capacity / 2.0))
            self._probe = (now, self._limit, probe_limit, math.inf, 0)
            self._set(probe_limit)

    def _probe_answer(self, sent_at: float, now: float, rtt: float, in_flight: int) -> None:
        assert self._probe is not None
        started, restore, probe_limit, least, samples = self._probe
        if sent_at < started or in_flight > probe_limit:
            return  # sent into the old queue: says nothing about the bare round trip
        least = min(least, rtt)
        samples += 1
        if samples < min(_PROBE_SAMPLES, probe_limit):
            self._probe = (started, restore, probe_limit, least, samples)
            return
        self._probe = None
        self._base = least  # up or down: this is what a request meeting no queue takes
        self._confirmed = now
        self._set(restore)
        self._new_round(now)

    def on_overload(self, *, sent_at: float, now: float, in_flight: int) -> None:
        """The server refused a request for load (429, 503, 504) or it timed out.

        Args:
            sent_at: When it was sent.
            now: When the refusal (or the timeout) came.
            in_flight: Requests in flight when it was sent, itself included.
        """
        if self._probe is not None:
            self._limit = self._probe[1]
            self._probe = None
        if sent_at < self._cut_at:
            return  # part of the burst already answered for
        self._cut_at = now
        self._new_round(now)
        self._starting = False
        level = float(max(in_flight, 1))
        wall = self._wall
        if wall is not None and level <= wall * _PAST_WALL and self._limit >= wall * _NEAR_WALL:
            # Refused while edging up to the level of the last refusal: the server's
            # limit is just below, so step back by one, not by a third, and wait twice
            # as long before trying that level again.
            self._set(min(self._limit, level - 1.0))
            self._hold_rounds = min(self._hold_rounds * 2, _MAX_HOLD_ROUNDS)
        else:
            self._set(min(self._limit, level) * _DECREASE)
            self._hold_rounds = _HOLD_ROUNDS
        self._wall = level
        rtt = self._base if math.isfinite(self._base) else 0.05
        self._hold_until = now + self._hold_rounds * rtt
        self._capacity = min(self._capacity, self._limit) if self._capacity else self._limit

    def observe(
        self, ticket: Ticket, now: float, *, status: int | None, error: BaseException | None
    ) -> None:
        """Feed one attempt's outcome: an HTTP status, or the error it ended with.

        Overload (429, 503, 504, an attempt timeout) cuts the limit; any other answer is
        a sample; anything else (500, 502, 408, a failed connection, a cancellation)
        says nothing about load and is ignored.
        """
        sent_at, in_flight = ticket
        if status is not None:
            if status in OVERLOAD_STATUSES:
                self.on_overload(sent_at=sent_at, now=now, in_flight=in_flight)
            elif status < 500 and status != 408:
                self.on_answer(sent_at=sent_at, now=now, in_flight=in_flight)
        elif isinstance(error, RequestTimeoutError):
            self.on_overload(sent_at=sent_at, now=now, in_flight=in_flight)


class AdaptiveGate:
    """Lets attempts through while fewer than the :class:`AdaptiveLimit` are in flight.

    It decides nothing: it counts, queues waiters first come first served, takes the
    time around each attempt and tells the limit. One per bulk job, used from one event
    loop.

    Args:
        limit: The limit it applies.
        clock: Monotonic seconds; injectable for tests.
        on_change: Called with the new limit whenever it changes.
    """

    def __init__(
        self,
        limit: AdaptiveLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._on_change = on_change
        self._last = limit.limit
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()  # attempts waiting for a slot
        self._room: deque[asyncio.Future[None]] = deque()  # workers waiting to pull an item
        self._drained = False

    @property
    def limit(self) -> int:
        """The current limit."""
        return self._limit.limit

    @property
    def in_flight(self) -> int:
        """Attempts holding a slot."""
        return self._in_flight

    async def acquire(self) -> Ticket:
        """Wait for a slot; return the ticket to :meth:`release` it with."""
        if self._in_flight < self._limit.limit and not self._waiters:
            self._in_flight += 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._in_flight -= 1  # granted, then cancelled: hand it on
                    self._wake()
                raise
        return self._clock(), self._in_flight

    def release(
        self, ticket: Ticket, *, status: int | None = None, error: BaseException | None = None
    ) -> None:
        """Give the slot back, with what the attempt came to (see
        :meth:`AdaptiveLimit.observe`)."""
        self._in_flight -= 1
        self._limit.observe(ticket, self._clock(), status=status, error=error)
        limit = self._limit.limit
        if limit != self._last:
            self._last = limit
            if self._on_change is not None:
                self._on_change(limit)
        self._wake()

    async def room(self) -> None:
        """Return once a slot is free and no attempt waits for one.

        The bulk layer waits here before it pulls the next item, so items wait for
        capacity *before* their call starts (not against its deadline), and retries,
        already waiting in :meth:`acquire`, go first.
        """
        if self._drained or (self._in_flight < self._limit.limit and not self._waiters):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._room.append(waiter)
        await waiter

    def drained(self) -> None:
        """The input is exhausted: every worker waiting in :meth:`room` may go and
        find that out (a woken worker that pulls nothing takes no slot, so nobody else
        would wake them)."""
        self._drained = True
        while self._room:
            waiter = self._room.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _wake(self) -> None:
        limit = self._limit.limit
        waiters = self._waiters
        while waiters and self._in_flight < limit:
            waiter = waiters.popleft()
            if not waiter.done():
                self._in_flight += 1
                waiter.set_result(None)
        if waiters:
            return
        free = limit - self._in_flight
        room = self._room
        while free > 0 and room:
            waiter = room.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1
