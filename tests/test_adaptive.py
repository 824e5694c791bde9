"""The adaptive limit, pure: replayed against simulated servers, no event loop.

Each scenario runs :func:`tests.capacity_sim.simulate` (simulated seconds, a seeded
service-time jitter) and compares the adaptive limit with the best of a sweep of fixed
concurrencies over the same server.
"""

from __future__ import annotations

import statistics

import pytest

from shopapi import ConfigurationError, RequestTimeoutError
from shopapi._protocol.adaptive import AdaptiveLimit

from .capacity_sim import Fixed, best_fixed, simulate

ITEMS = 10_000
SERVICE = 0.020


@pytest.mark.parametrize("capacity", [4, 16, 64])
@pytest.mark.parametrize("queue", ["as deep as the capacity", "a quarter of it", "none"])
def test_auto_finishes_close_to_the_best_fixed_concurrency(capacity: int, queue: str) -> None:
    queue_limit = {"as deep as the capacity": capacity, "a quarter of it": capacity // 4}.get(
        queue, 0
    )
    kw: dict[str, object] = {"items": ITEMS, "queue_limit": queue_limit}
    _, best = best_fixed(capacity, **kw)
    auto = simulate(AdaptiveLimit(), capacity=capacity, **kw)  # type: ignore[arg-type]
    assert auto.completed == ITEMS
    assert auto.elapsed <= 1.15 * best.elapsed, (auto.elapsed, best.elapsed)
    # The start may overshoot a short queue; a server that queues nothing gives no
    # latency signal, so there refusals are the only one.
    assert auto.rejected <= 0.01 * ITEMS


@pytest.mark.parametrize("capacity", [16, 64])
def test_today_s_default_of_8_wastes_most_of_a_larger_server(capacity: int) -> None:
    kw: dict[str, object] = {"items": ITEMS, "queue_limit": capacity}
    _, best = best_fixed(capacity, **kw)
    eight = simulate(Fixed(8), capacity=capacity, **kw)  # type: ignore[arg-type]
    auto = simulate(AdaptiveLimit(), capacity=capacity, **kw)  # type: ignore[arg-type]
    assert eight.elapsed > 1.9 * best.elapsed
    assert auto.elapsed < eight.elapsed / 1.8


@pytest.mark.parametrize("queue_limit", [64, 16, 4])
def test_capacity_halved_mid_run_rejections_stop_and_every_item_completes(
    queue_limit: int,
) -> None:
    change = 1.0
    auto = simulate(
        AdaptiveLimit(),
        items=10_000,
        capacity=64,
        queue_limit=queue_limit,
        capacity_changes=[(change, 32)],
    )
    assert auto.completed == 10_000
    late = [t for t in auto.rejected_at if t > change + 0.5]
    assert late == []
    # What was in flight beyond the new capacity and queue is refused at once, and
    # retried; after that, nothing.
    assert auto.rejected <= 0.05 * 10_000
    # Settled between the new capacity and what the server holds (probes aside).
    in_force = [limit for t, limit in auto.limits if t <= change + 0.5][-1]
    settled = [in_force] + [limit for t, limit in auto.limits if t > change + 0.5]
    assert statistics.median(settled) >= 32
    assert max(settled) <= 32 + queue_limit + 2, settled


def test_capacity_doubled_mid_run_is_found() -> None:
    auto = simulate(
        AdaptiveLimit(), items=20_000, capacity=16, queue_limit=16, capacity_changes=[(1.0, 32)]
    )
    after = [limit for t, limit in auto.limits if t > 2.0]
    assert after
    assert statistics.median(after) >= 32  # within a second it is using the new capacity


def test_a_slower_server_is_measured_again_not_taken_for_a_queue() -> None:
    """Vegas's failure: the service time doubles, every answer then looks queued, and a
    limit keeping the old minimum collapses. The base is re-measured instead."""
    auto = simulate(
        AdaptiveLimit(),
        items=12_000,
        capacity=32,
        queue_limit=32,
        base_changes=[(2.0, 2 * SERVICE)],
    )
    late = [limit for t, limit in auto.limits if t > 10.0]
    assert late
    assert statistics.median(late) >= 32, late  # still keeps the server busy
    assert auto.rejected <= 0.01 * 12_000


def test_a_rate_limited_job_keeps_its_limit_just_above_what_it_uses() -> None:
    """Only what is actually in flight counts: a rate limit of 400/s against a server
    that could take 3,200/s needs 8-9 in flight, and the limit must not run off to the
    ceiling (Gradient's failure when the limit is not in use)."""
    limiter = AdaptiveLimit()
    auto = simulate(limiter, items=4000, capacity=64, queue_limit=64, rate=400.0)
    assert auto.completed == 4000
    assert limiter.limit <= 20
    assert auto.peak_in_flight <= 12


def test_the_ceiling_and_the_floor_hold() -> None:
    limiter = AdaptiveLimit(max_limit=10)
    auto = simulate(limiter, items=3000, capacity=64, queue_limit=64)
    assert auto.peak_in_flight <= 10
    assert max(limit for _, limit in auto.limits) == 10
    limiter = AdaptiveLimit(initial=3)
    for i in range(20):
        limiter.on_overload(sent_at=float(i), now=float(i) + 0.01, in_flight=3)
    assert limiter.limit == 1


def test_same_trace_same_limits() -> None:
    runs = [
        simulate(AdaptiveLimit(), items=3000, capacity=16, capacity_changes=[(1.0, 8)])
        for _ in range(2)
    ]
    assert runs[0].limits == runs[1].limits
    assert len(runs[0].limits) > 10


def test_one_burst_of_refusals_is_one_cut() -> None:
    limiter = AdaptiveLimit(initial=40)
    limiter.on_overload(sent_at=1.0, now=1.1, in_flight=40)
    assert limiter.limit == 28  # 0.7 x 40
    for i in range(10):  # the rest of the same burst, all sent before the cut
        limiter.on_overload(sent_at=1.0 + i / 1000, now=1.1 + i / 1000, in_flight=40)
    assert limiter.limit == 28
    limiter.on_overload(sent_at=1.2, now=1.3, in_flight=28)  # sent after it: news
    assert limiter.limit == 19


def round_trip(limiter: AdaptiveLimit, now: float, *, in_flight: int, rtt: float) -> float:
    """One round trip's answers (as many as were in flight), all sent at ``now``."""
    for _ in range(in_flight):
        limiter.on_answer(sent_at=now, now=now + rtt, in_flight=in_flight)
    return now + rtt


def test_the_start_grows_by_half_per_round_trip_until_a_queue_shows() -> None:
    limiter = AdaptiveLimit()
    assert limiter.limit == 4
    now = round_trip(limiter, 0.0, in_flight=4, rtt=SERVICE)  # none queued
    assert limiter.limit == 6
    now = round_trip(limiter, now, in_flight=6, rtt=SERVICE)
    assert limiter.limit == 9
    # Twenty in flight at a capacity of 10: every answer waited a whole service time.
    now = round_trip(limiter, now, in_flight=20, rtt=2 * SERVICE)
    assert limiter.capacity == pytest.approx(12.5)  # 20 x 1.25 x base / rtt
    assert limiter.limit < 20  # no longer starting: the estimate plus its headroom
    for _ in range(10):
        now = round_trip(limiter, now, in_flight=20, rtt=2 * SERVICE)
    assert limiter.limit == 15  # 12.5 + 2 + 12.5 / 10, approached halfway per round trip


def test_noise_on_some_answers_is_not_a_queue() -> None:
    """A slow connection set-up or a busy client delays some answers of a round, a
    queue delays all of them: the round's best estimate ignores the former."""
    limiter = AdaptiveLimit(initial=40)
    now = round_trip(limiter, 0.0, in_flight=1, rtt=SERVICE)  # the base
    for _ in range(10):
        for i in range(40):
            rtt = SERVICE * (3.0 if i % 3 else 1.0)  # two in three answers three times slower
            limiter.on_answer(sent_at=now, now=now + rtt, in_flight=40)
        now += SERVICE
    assert limiter.capacity == 40.0
    assert limiter.limit >= 40


def test_after_a_refusal_the_limit_returns_below_its_level_and_stays_there() -> None:
    """A server that queues nothing shows no latency: the refusal at 69 in flight is the
    only sign of its limit, so the limit comes back to just below 69 and holds there
    for 20 round trips before trying 69 again."""
    limiter = AdaptiveLimit(initial=69)
    now = round_trip(limiter, 0.0, in_flight=69, rtt=SERVICE)
    limiter.on_overload(sent_at=now - 0.001, now=now, in_flight=69)
    assert limiter.limit == 48  # 0.7 x 69
    seen = []
    for _ in range(15):
        now = round_trip(limiter, now, in_flight=limiter.limit, rtt=SERVICE)
        seen.append(limiter.limit)
    assert max(seen) == 68
    assert seen[-1] == 68
    limiter.on_overload(sent_at=now - 0.001, now=now, in_flight=69)  # tried 69 again
    assert limiter.limit == 68  # one step back, not a third


def test_what_counts_as_a_signal() -> None:
    limiter = AdaptiveLimit(initial=20)
    ticket = (0.0, 20)
    for status in (500, 502, 408):
        limiter.observe(ticket, 0.02, status=status, error=None)
    limiter.observe(ticket, 0.02, status=None, error=ConnectionResetError())
    assert limiter.limit == 20  # nothing learnt
    assert limiter.capacity == 0.0
    for _ in range(20):  # a round trip of answers the server processed: samples
        limiter.observe(ticket, 0.02, status=404, error=None)
    assert limiter.capacity == 20.0
    for status in (429, 503, 504):
        fresh = AdaptiveLimit(initial=20)
        fresh.observe(ticket, 0.02, status=status, error=None)
        assert fresh.limit == 14
    fresh = AdaptiveLimit(initial=20)
    fresh.observe(
        ticket,
        30.0,
        status=None,
        error=RequestTimeoutError("timed out", method="PUT", url="http://127.0.0.1/x"),
    )
    assert fresh.limit == 14


@pytest.mark.parametrize(
    "kw",
    [
        {"max_limit": 0},
        {"max_limit": True},
        {"max_limit": 2.5},
        {"min_limit": 5, "max_limit": 4},
        {"initial": 0},
        {"probe_interval": 0},
    ],
)
def test_configuration_is_validated(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        AdaptiveLimit(**kw)  # type: ignore[arg-type]
