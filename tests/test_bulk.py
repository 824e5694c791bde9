"""update_many: every item exactly once, bounded concurrency, lazy input, prompt close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, tzinfo

import attrs
import pytest

from shopapi import (
    BadRequestError,
    ConfigurationError,
    Limits,
    MessageConversation,
    MessageConversationChanges,
    NotFoundError,
    PlatformKindEnum,
    RetryPolicy,
    ShopApiClient,
    UpdateResult,
    ValidationError,
)
from shopapi._bulk import run_bulk
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "bulk", "bulk-pw"
FAST = RetryPolicy(max_attempts=5, initial_backoff=0.005, max_backoff=0.01)


def item(cid: int, **kw: object) -> MessageConversationChanges:
    values: dict[str, object] = {
        "id": cid,
        "shop_id": 1,
        "platform_kind_enum_value": PlatformKindEnum.FlowAi,
        "note": f"bulk {cid}",
    }
    values.update(kw)
    return MessageConversationChanges(**values)  # type: ignore[arg-type]


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        srv.seed(200, shop_id=1)
        yield srv


def client_for(server: FakeShopServer, **kw: object) -> ShopApiClient:
    kw.setdefault("retry", FAST)
    return ShopApiClient(server.base_url, auth=(USER, PASSWORD), **kw)  # type: ignore[arg-type]


async def test_every_item_yields_exactly_one_result(server: FakeShopServer) -> None:
    for cid in range(10, 20):
        server.inject(Fault.status(503), conversation_id=cid)
    for cid in range(20, 25):
        server.inject(Fault.status(400), conversation_id=cid)
    server.inject(Fault.drop(after_body=True), Fault.drop(), conversation_id=30)
    items: list[object] = [item(cid) for cid in range(1, 101)]
    items[40] = item(41, customer_email="x" * 51)  # invalid: fails alone, never sent
    items[41] = {"Id": 42}  # not a model at all
    items.append(item(9999))  # unknown conversation: a permanent 404
    async with client_for(server) as client:
        results = [r async for r in client.message_conversations.update_many(items, concurrency=8)]  # type: ignore[arg-type]
    assert sorted(r.index for r in results) == list(range(len(items)))
    by_index = {r.index: r for r in results}
    for r in results:
        assert r.ok == (r.error is None)
        assert (r.conversation is None) == (not r.ok)
    failed = {i: r.error for i, r in by_index.items() if not r.ok}
    assert set(failed) == {19, 20, 21, 22, 23, 40, 41, 100}
    assert all(isinstance(failed[i], BadRequestError) for i in range(19, 24))
    assert isinstance(failed[40], ValidationError)
    assert failed[40].fields == ("CustomerEmail",)
    assert isinstance(failed[41], ValidationError)
    assert isinstance(failed[100], NotFoundError)
    assert server.put_count(41) == 0
    for cid in [*range(1, 19), *range(25, 41), *range(43, 101)]:
        saved = by_index[cid - 1].conversation
        assert isinstance(saved, MessageConversation)
        assert saved.note == f"bulk {cid}"
        assert server.saves(cid) == 1


async def test_async_iterables_are_accepted(server: FakeShopServer) -> None:
    async def source() -> AsyncIterator[MessageConversationChanges]:
        for cid in range(1, 21):
            await asyncio.sleep(0)
            yield item(cid)

    async with client_for(server) as client:
        results = [r async for r in client.message_conversations.update_many(source())]
    assert sorted(r.changes.id for r in results) == list(range(1, 21))
    assert all(r.ok for r in results)


async def test_never_more_than_concurrency_in_flight() -> None:
    in_flight = peak = 0

    async def update(changes: MessageConversationChanges) -> MessageConversation:
        cid = changes.id
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001 * (cid % 5))
        in_flight -= 1
        return MessageConversation(**attrs.asdict(changes, recurse=False))

    results = [
        r
        async for r in run_bulk(
            update,
            (item(c) for c in range(1, 201)),
            item_type=MessageConversationChanges,
            concurrency=7,
        )
    ]
    assert len(results) == 200
    assert peak == 7


async def test_input_is_pulled_lazily_with_backpressure() -> None:
    pulled = 0

    def source() -> Iterator[MessageConversationChanges]:
        nonlocal pulled
        for cid in range(1, 10_001):
            pulled += 1
            yield item(cid)

    async def update(changes: MessageConversationChanges) -> MessageConversation:
        await asyncio.sleep(0)
        return MessageConversation(**attrs.asdict(changes, recurse=False))

    consumed = 0
    results = run_bulk(update, source(), item_type=MessageConversationChanges, concurrency=4)
    async for _ in results:
        consumed += 1
        assert pulled - consumed <= 2 * 4
        if consumed == 50:
            await asyncio.sleep(0.05)  # a slow consumer: the input must not run ahead
            assert pulled - consumed <= 2 * 4
    assert consumed == 10_000


@pytest.mark.parametrize("asynchronous", [False, True])
async def test_indexes_follow_the_input_and_read_ahead_is_bounded(asynchronous: bool) -> None:
    """Each result's index is its item's position in the input, whichever order the
    requests finish in, and the input never runs more than 2 x concurrency ahead, for
    plain and async iterables alike."""
    pulled = consumed = 0

    def plain() -> Iterator[MessageConversationChanges]:
        nonlocal pulled
        for cid in range(1, 501):
            pulled += 1
            yield item(cid)

    async def asynchronous_source() -> AsyncIterator[MessageConversationChanges]:
        for changes in plain():
            await asyncio.sleep(0)
            yield changes

    async def update(changes: MessageConversationChanges) -> MessageConversation:
        cid = changes.id
        for _ in range(cid % 7):  # finish out of order
            await asyncio.sleep(0)
        return MessageConversation(**attrs.asdict(changes, recurse=False))

    source = asynchronous_source() if asynchronous else plain()
    seen = []
    async for result in run_bulk(
        update, source, item_type=MessageConversationChanges, concurrency=5
    ):
        consumed += 1
        assert pulled - consumed <= 2 * 5
        assert result.changes.id == result.index + 1
        seen.append(result.index)
    assert sorted(seen) == list(range(500))
    assert seen != sorted(seen)  # they did finish out of order


async def test_aclose_cancels_work_in_flight_and_leaves_no_task(server: FakeShopServer) -> None:
    for cid in range(1, 201):
        server.inject(Fault.delay(5.0), conversation_id=cid)
    server.clear_faults()
    server.inject(*[Fault.delay(5.0)] * 50)
    before = asyncio.all_tasks()
    loop = asyncio.get_running_loop()
    async with client_for(server) as client:
        results = client.message_conversations.update_many(
            (item(c) for c in range(1, 201)), concurrency=8
        )
        # ensure_future: typeshed types anext() as an Awaitable, which create_task refuses;
        # it is a coroutine at runtime, so ensure_future makes the very same create_task call.
        first = asyncio.ensure_future(anext(results))
        await asyncio.sleep(0.2)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        start = loop.time()
        await results.aclose()
        assert loop.time() - start < 1.0
        # The fake server's handlers may still be stalling; no task of the client may be.
        leftover = [
            t
            for t in asyncio.all_tasks() - before
            if "shopapi/_bulk" in str(t.get_coro().cr_code.co_filename)  # type: ignore[union-attr]
        ]
        assert leftover == []
    assert sum(server.saves(c) for c in range(1, 201)) == 0


async def test_break_then_aclose_stops_promptly(server: FakeShopServer) -> None:
    async with client_for(server) as client:
        results = client.message_conversations.update_many(
            (item(c) for c in range(1, 201)), concurrency=4
        )
        seen = []
        async for r in results:
            seen.append(r)
            if len(seen) == 10:
                break
        await results.aclose()
    sent = {r.conversation_id for r in server.requests}
    assert len(seen) == 10
    assert len(sent) <= 10 + 2 * 4


async def test_cancelling_the_consumer_cancels_the_work() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def update(changes: MessageConversationChanges) -> MessageConversation:
        cid = changes.id
        started.append(cid)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(cid)
            raise
        raise AssertionError("unreachable")

    async def consume() -> None:
        async for _ in run_bulk(
            update,
            (item(c) for c in range(1, 100)),
            item_type=MessageConversationChanges,
            concurrency=5,
        ):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(started) == [1, 2, 3, 4, 5]
    assert sorted(cancelled) == [1, 2, 3, 4, 5]


async def test_a_bug_propagates_instead_of_hiding_as_an_item_failure() -> None:
    async def update(changes: MessageConversationChanges) -> MessageConversation:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        async for _ in run_bulk(
            update, [item(1)], item_type=MessageConversationChanges, concurrency=2
        ):
            pass


async def test_a_cancellation_from_inside_an_update_is_raised_not_waited_for() -> None:
    """An update that raises ``CancelledError`` without its worker being cancelled (a
    library bug, or a timeout scope gone wrong) must reach the consumer, not leave it
    waiting forever for a result that will never come."""

    async def update(changes: MessageConversationChanges) -> MessageConversation:
        cid = changes.id
        if cid == 3:
            raise asyncio.CancelledError
        return MessageConversation(**attrs.asdict(changes, recurse=False))

    async def consume() -> list[UpdateResult[MessageConversationChanges, MessageConversation]]:
        return [
            r
            async for r in run_bulk(
                update,
                [item(c) for c in range(1, 6)],
                item_type=MessageConversationChanges,
                concurrency=2,
            )
        ]

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(consume(), timeout=5)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


@pytest.mark.parametrize("concurrency", [0, -1, True, 1.5])
async def test_concurrency_is_validated(concurrency: object) -> None:
    with pytest.raises(ConfigurationError):
        async for _ in run_bulk(
            None,  # type: ignore[arg-type]
            [],
            item_type=MessageConversationChanges,
            concurrency=concurrency,  # type: ignore[arg-type]
        ):
            pass


async def test_rate_limit_applies_to_bulk(server: FakeShopServer) -> None:
    async with client_for(server, limits=Limits(rate=50, burst=1)) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = [
            r
            async for r in client.message_conversations.update_many(
                [item(c) for c in range(1, 16)], concurrency=8
            )
        ]
    assert all(r.ok for r in results)
    assert loop.time() - start >= 14 / 50 * 0.9


async def test_max_concurrency_on_the_client_bounds_bulk_and_single_calls(
    server: FakeShopServer,
) -> None:
    server.inject(*[Fault.delay(0.05)] * 40)
    async with client_for(server, limits=Limits(max_concurrency=3)) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = [
            r
            async for r in client.message_conversations.update_many(
                [item(c) for c in range(1, 13)], concurrency=12
            )
        ]
    assert all(r.ok for r in results)
    # 12 requests of 50 ms, three at a time: at least four rounds.
    assert loop.time() - start >= 0.19


async def test_a_429_pauses_every_bulk_worker(server: FakeShopServer) -> None:
    server.inject(Fault.status(429, retry_after=1), conversation_id=1)
    async with client_for(server) as client:
        results = [
            r
            async for r in client.message_conversations.update_many(
                [item(c) for c in range(1, 41)], concurrency=4
            )
        ]
    assert all(r.ok for r in results)
    refused = next(r for r in server.requests if r.status == 429)
    after = [r for r in server.requests if r.received_at > refused.received_at + 0.02]
    assert after
    assert min(r.received_at for r in after) - refused.received_at >= 0.95


def test_results_are_frozen_values() -> None:
    result: UpdateResult[MessageConversationChanges, None] = UpdateResult(0, item(1), error=None)
    assert result.ok
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.index = 3  # type: ignore[misc]


def test_the_bulk_path_builds_the_same_results_as_the_constructor() -> None:
    """Bulk results are filled through their slots for speed: they must be equal to,
    and as frozen as, the ones the class's own constructor makes, field for field."""
    from shopapi._bulk import _result

    assert [a.name for a in attrs.fields(UpdateResult)] == [
        "index",
        "changes",
        "conversation",
        "error",
    ]
    saved = MessageConversation(**attrs.asdict(item(1), recurse=False))
    error = NotFoundError(404, method="PUT", url="u")
    assert _result(3, item(1), saved, None) == UpdateResult(3, item(1), conversation=saved)
    assert _result(4, item(2), None, error) == UpdateResult(4, item(2), error=error)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        _result(3, item(1), saved, None).index = 5  # type: ignore[misc]


class _RaisingZone(tzinfo):
    """A user's time zone whose ``utcoffset`` raises."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        raise ZeroDivisionError("division by zero")

    def tzname(self, dt: datetime | None) -> str:
        return "BROKEN"

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


async def test_bad_dates_fail_their_own_item_alone(server: FakeShopServer) -> None:
    """A tzinfo that raises, or a naive datetime, is a ValidationError for that item;
    the other items are saved and nothing is sent for the bad ones."""
    bad_zone = item(3, finished_date=datetime(2026, 1, 1, tzinfo=_RaisingZone()))
    naive = item(4, finished_date=datetime(2026, 1, 1, 12))
    items = [item(1), item(2), bad_zone, naive, item(5)]
    async with client_for(server) as client:
        results = [r async for r in client.message_conversations.update_many(items)]
        with pytest.raises(ValidationError) as info:
            await client.message_conversations.update(1, 3, bad_zone)
        assert info.value.fields == ("FinishedDate",)
        with pytest.raises(ValidationError) as naive_info:
            await client.message_conversations.update(1, 4, naive)
        assert "Timestamp.from_datetime" in str(naive_info.value)
    by_id = {r.changes.id: r for r in results}
    assert len(results) == 5
    assert [cid for cid, r in sorted(by_id.items()) if r.ok] == [1, 2, 5]
    assert isinstance(by_id[3].error, ValidationError)
    assert "ZeroDivisionError" in str(by_id[3].error)
    assert isinstance(by_id[4].error, ValidationError)
    assert server.put_count(3) == server.put_count(4) == 0
