"""The token bucket and the coordinated pause."""

from __future__ import annotations

import asyncio

import pytest

from shopapi import ConfigurationError
from shopapi._protocol.limits import PauseGate, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_paces_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(10, burst=3, clock=clock)
    assert [bucket.reserve(clock.now) for _ in range(3)] == [0.0, 0.0, 0.0]
    waits = [bucket.reserve(clock.now) for _ in range(3)]
    assert waits == pytest.approx([0.1, 0.2, 0.3])
    clock.now += 10  # a long idle refills to the burst, not beyond
    assert [bucket.reserve(clock.now) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve(clock.now) == pytest.approx(0.1)


def test_bucket_gives_back_abandoned_tokens() -> None:
    clock = Clock()
    bucket = TokenBucket(1, burst=1, clock=clock)
    assert bucket.reserve(clock.now) == 0.0
    assert bucket.reserve(clock.now) == pytest.approx(1.0)
    bucket.give_back()
    assert bucket.reserve(clock.now) == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, None), (-1, None), (1, 0), (True, None)])
def test_bucket_validates(rate: float, burst: int | None) -> None:
    with pytest.raises(ConfigurationError):
        TokenBucket(rate, burst=burst)


async def test_bucket_acquire_paces_real_time() -> None:
    bucket = TokenBucket(50, burst=1)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(6):
        await bucket.acquire()
    assert loop.time() - start >= 5 / 50 * 0.9


async def test_cancelled_acquire_returns_its_token() -> None:
    clock = Clock()
    bucket = TokenBucket(1, burst=1, clock=clock)
    await bucket.acquire()
    task = asyncio.create_task(bucket.acquire())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert bucket.reserve(clock.now) == pytest.approx(1.0)


async def test_pause_holds_every_waiter_until_it_ends() -> None:
    gate = PauseGate()
    loop = asyncio.get_running_loop()
    gate.pause_for(0.2)
    gate.pause_for(0.05)  # a shorter pause does not cut a longer one
    start = loop.time()
    await asyncio.gather(*(gate.wait() for _ in range(5)))
    assert loop.time() - start >= 0.18
    assert gate.remaining() == 0.0


async def test_acquire_within_refuses_a_wait_past_the_bound_and_takes_nothing() -> None:
    clock = Clock()
    bucket = TokenBucket(2, burst=1, clock=clock)
    assert await bucket.acquire_within(0.1)  # a token is there
    assert not await bucket.acquire_within(0.4)  # the next one is 0.5 s away
    assert bucket.reserve(clock.now) == pytest.approx(0.5)  # the refusal took none


def test_pause_is_cheap_to_check_until_one_is_asked_for_and_after_it_ends() -> None:
    """The session reads ``paused`` on every request: it is False until a 429 asks for
    a pause, True while one may be in force, and False again once it is over."""
    clock = Clock()
    gate = PauseGate(clock=clock)
    assert not gate.paused
    gate.pause_for(2.0)
    assert gate.paused
    clock.now += 1.0
    assert gate.remaining() == pytest.approx(1.0)
    assert gate.paused
    clock.now += 1.5
    assert gate.remaining() == 0.0
    assert not gate.paused
