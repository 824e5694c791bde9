"""The slots an attempt holds (``_Slots``): taken in order, given back on every path.

A bulk job's adaptive slot comes first, then a connection-pool slot; whatever ends the
block (an answer, a transport error, the deadline, a cancellation), both go back, and
the adaptive limit is told the outcome only when there was one. No network: the slots
are exercised directly, on a real event loop.
"""

from __future__ import annotations

import asyncio
from types import MappingProxyType

import pytest

from shopapi import RetryPolicy
from shopapi._exceptions import ConnectError, RequestTimeoutError
from shopapi._protocol.adaptive import AdaptiveGate, AdaptiveLimit, Ticket
from shopapi._protocol.requests import Request
from shopapi._protocol.retry import CallState, RetryBudget
from shopapi._session.client import _DONE, _Slots
from shopapi._session.transport import RawResponse

URL = "http://127.0.0.1/v1/Shops/1/MessageConversations/2"
REQUEST = Request("PUT", "v1/Shops/1/MessageConversations/2", URL, MappingProxyType({}), b"{}")


class RecordingGate(AdaptiveGate):
    """An adaptive gate that records what each release was told."""

    def __init__(self) -> None:
        super().__init__(AdaptiveLimit(max_limit=4))
        self.released: list[tuple[int | None, BaseException | None]] = []

    def release(
        self, ticket: Ticket, *, status: int | None = None, error: BaseException | None = None
    ) -> None:
        self.released.append((status, error))
        super().release(ticket, status=status, error=error)


def call_state(deadline: float | None = None) -> CallState:
    policy = RetryPolicy(deadline=deadline)
    now = asyncio.get_running_loop().time()
    return CallState(policy, RetryBudget(policy), REQUEST, now=now, timeout=1.0)


async def test_the_usual_case_takes_and_gives_back_a_pool_slot() -> None:
    pool = asyncio.Semaphore(2)
    slots = _Slots(None, pool, call_state())
    async with slots:
        assert pool._value == 1
    assert pool._value == 2


async def test_without_any_limit_there_is_nothing_to_take() -> None:
    slots = _Slots(None, None, call_state())
    async with slots:
        slots.outcome = RawResponse(200, {}, b"")


async def test_an_answer_is_reported_to_the_adaptive_limit() -> None:
    limiter, pool = RecordingGate(), asyncio.Semaphore(1)
    slots = _Slots(limiter, pool, call_state())
    async with slots:
        assert (limiter.in_flight, pool.locked()) == (1, True)
        slots.outcome = RawResponse(503, {}, b"")
    assert (limiter.in_flight, pool.locked()) == (0, False)
    assert limiter.released == [(503, None)]


async def test_a_transport_error_is_reported_to_the_adaptive_limit() -> None:
    limiter = RecordingGate()
    error = ConnectError("refused", method="PUT", url=URL, request_sent=False)
    slots = _Slots(limiter, asyncio.Semaphore(1), call_state())
    async with slots:
        slots.outcome = error
    assert limiter.released == [(None, error)]


async def test_a_block_that_raises_gives_both_back_and_reports_nothing() -> None:
    limiter, pool = RecordingGate(), asyncio.Semaphore(1)
    call = call_state(deadline=5.0)
    slots = _Slots(limiter, pool, call)

    async def attempt() -> None:
        async with slots:
            slots.outcome = RawResponse(200, {}, b"")
            raise call.deadline_passed()

    with pytest.raises(RequestTimeoutError):
        await attempt()
    assert (limiter.in_flight, pool.locked()) == (0, False)
    assert limiter.released == [(None, None)]


async def test_the_deadline_passing_while_waiting_for_the_pool_gives_the_adaptive_slot_back() -> (
    None
):
    limiter, pool = RecordingGate(), asyncio.Semaphore(1)
    await pool.acquire()  # another attempt holds the only connection
    slots = _Slots(limiter, pool, call_state(deadline=0.05))
    with pytest.raises(RequestTimeoutError) as raised:
        async with slots:
            raise AssertionError("entered without a pool slot")
    assert raised.value.attempts == 0
    assert str(raised.value).startswith("deadline of 0.05s passed")
    assert raised.value.__cause__ is None
    assert limiter.in_flight == 0
    assert limiter.released == [(None, None)]
    pool.release()
    assert not pool.locked()


async def test_a_call_cancelled_while_waiting_for_the_pool_holds_nothing() -> None:
    limiter, pool = RecordingGate(), asyncio.Semaphore(1)
    await pool.acquire()
    entered = False

    async def attempt() -> None:
        nonlocal entered
        async with _Slots(limiter, pool, call_state()):
            entered = True

    task = asyncio.create_task(attempt())
    await asyncio.sleep(0.01)
    assert limiter.in_flight == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not entered
    assert limiter.in_flight == 0
    assert limiter.released == [(None, None)]
    pool.release()
    assert not pool.locked()  # the cancelled waiter took no slot


async def test_a_pool_slot_freed_in_time_is_taken_within_the_deadline() -> None:
    pool = asyncio.Semaphore(1)
    await pool.acquire()
    loop = asyncio.get_running_loop()
    loop.call_later(0.02, pool.release)
    slots = _Slots(RecordingGate(), pool, call_state(deadline=5.0))
    async with slots:
        assert pool.locked()
    assert not pool.locked()


async def test_without_a_deadline_a_busy_pool_is_waited_for_and_a_cancelled_wait_takes_none() -> (
    None
):
    pool = asyncio.Semaphore(1)
    await pool.acquire()  # another attempt holds the only connection
    entered = asyncio.Event()

    async def attempt() -> None:
        async with _Slots(None, pool, call_state()):
            entered.set()
            await asyncio.sleep(3600)

    waiting = asyncio.create_task(attempt())
    await asyncio.sleep(0.01)
    assert not entered.is_set()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    pool.release()
    assert not pool.locked()  # the cancelled waiter took no slot
    await pool.acquire()
    taking = asyncio.create_task(attempt())
    await asyncio.sleep(0.01)
    pool.release()  # freed: the waiting attempt takes it
    await asyncio.wait_for(entered.wait(), 1.0)
    assert pool.locked()
    taking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await taking
    assert not pool.locked()  # given back when the block ended


async def test_the_done_awaitable_is_done_every_time() -> None:
    results = [await _DONE for _ in range(3)]  # type: ignore[func-returns-value]
    assert results == [None, None, None]
