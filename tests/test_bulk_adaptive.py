"""update_many(concurrency="auto") against the fake server's capacity model: it finds the
capacity, stays under the ceiling, follows a change, and composes with the rate limit,
the 429 pause, the retry budget and the deadline."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from shopapi import (
    ConfigurationError,
    Limits,
    MessageConversation,
    MessageConversationChanges,
    PlatformKindEnum,
    RetryPolicy,
    ShopApiClient,
    UpdateResult,
)
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "auto", "auto-pw"
FAST = RetryPolicy(max_attempts=6, initial_backoff=0.01, max_backoff=0.05)


def item(cid: int) -> MessageConversationChanges:
    return MessageConversationChanges(
        id=cid, shop_id=1, platform_kind_enum_value=PlatformKindEnum.FlowAi, note=f"auto {cid}"
    )


def server_for(**kw: object) -> FakeShopServer:
    return FakeShopServer(
        username=USER,
        password=PASSWORD,
        record=False,
        create_missing=True,
        **kw,  # type: ignore[arg-type]
    )


def client_for(server: FakeShopServer, **kw: object) -> ShopApiClient:
    kw.setdefault("retry", FAST)
    return ShopApiClient(server.base_url, auth=(USER, PASSWORD), **kw)  # type: ignore[arg-type]


def exactly_once(
    results: list[UpdateResult[MessageConversationChanges, MessageConversation]], n: int
) -> None:
    assert sorted(r.index for r in results) == list(range(n))
    assert Counter(r.changes.id for r in results) == Counter(range(1, n + 1))


async def test_auto_finds_the_capacity_and_keeps_the_server_busy() -> None:
    limits: list[int] = []
    async with server_for(capacity=4, service_time=0.01, queue_limit=8) as server:
        async with client_for(server) as client:
            results = [
                r
                async for r in client.message_conversations.update_many(
                    (item(c) for c in range(1, 601)),
                    concurrency="auto",
                    on_limit_change=limits.append,
                )
            ]
        load = server.load()
    exactly_once(results, 600)
    assert all(r.ok for r in results)
    assert load.peak_in_service == 4
    assert load.rejected <= 6  # 1%
    assert limits  # it moved
    assert 4 <= limits[-1] <= 12  # the capacity plus a small standing queue
    assert max(limits) <= 4 + 8 + 6


async def test_auto_stays_under_max_concurrency() -> None:
    async with server_for(service_time=0.01) as server:  # no capacity limit
        async with client_for(server) as client:
            results = [
                r
                async for r in client.message_conversations.update_many(
                    (item(c) for c in range(1, 301)), concurrency="auto", max_concurrency=5
                )
            ]
        assert server.load().peak_in_service == 5
    exactly_once(results, 300)


async def test_the_client_s_max_concurrency_is_the_ceiling_too() -> None:
    async with server_for(service_time=0.01) as server:
        async with client_for(server, limits=Limits(max_concurrency=3)) as client:
            results = [
                r
                async for r in client.message_conversations.update_many(
                    (item(c) for c in range(1, 101)), concurrency="auto", max_concurrency=50
                )
            ]
        assert server.load().peak_in_service == 3
    exactly_once(results, 100)


async def test_capacity_halved_mid_run_rejections_stop_and_every_item_is_reported_once() -> None:
    n = 1500
    async with server_for(capacity=8, service_time=0.01, queue_limit=8) as server:
        async with client_for(server) as client:
            loop = asyncio.get_running_loop()
            halved_at = 0.0
            done = 0
            results = []
            async for r in client.message_conversations.update_many(
                (item(c) for c in range(1, n + 1)), concurrency="auto"
            ):
                results.append(r)
                done += 1
                if done == n // 3:
                    server.capacity = 4
                    halved_at = loop.time()
        rejections = server.rejections
    exactly_once(results, n)
    assert all(r.ok for r in results)
    assert not [t for t in rejections if t > halved_at + 1.0]


async def test_auto_composes_with_the_rate_limit() -> None:
    async with server_for(service_time=0.005) as server:
        async with client_for(server, limits=Limits(rate=200, burst=1)) as client:
            loop = asyncio.get_running_loop()
            start = loop.time()
            results = [
                r
                async for r in client.message_conversations.update_many(
                    (item(c) for c in range(1, 81)), concurrency="auto"
                )
            ]
            elapsed = loop.time() - start
        peak = server.load().peak_in_service
    exactly_once(results, 80)
    assert elapsed >= 79 / 200 * 0.9
    assert peak <= 8  # 200/s x 5 ms needs one or two in flight; the limit did not run off


async def test_a_throttling_server_s_429_pauses_the_job_and_cuts_the_limit() -> None:
    limits: list[int] = []
    async with server_for(
        capacity=2, service_time=0.01, queue_limit=0, overload=Fault.status(429, retry_after=0.1)
    ) as server:
        async with client_for(server) as client:
            results = [
                r
                async for r in client.message_conversations.update_many(
                    (item(c) for c in range(1, 201)),
                    concurrency="auto",
                    on_limit_change=limits.append,
                )
            ]
        rejected = server.load().rejected
    exactly_once(results, 200)
    assert all(r.ok for r in results)
    assert rejected >= 1
    assert rejected <= 20
    assert min(limits) <= 2


async def test_auto_spares_the_retry_budget_that_a_fixed_guess_exhausts() -> None:
    """Too much concurrency against a server that queues nothing: the refusals drain the
    client's retry budget, which then fails items that would have been saved. Auto
    finds the capacity and loses none."""
    policy = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.02, budget=100)
    outcomes = {}
    for concurrency in (32, "auto"):
        server = server_for(capacity=4, service_time=0.01, queue_limit=0)
        async with server, client_for(server, retry=policy) as client:
            results = [
                r
                async for r in client.message_conversations.update_many(
                    (item(c) for c in range(1, 401)),
                    concurrency=concurrency,
                )
            ]
        exactly_once(results, 400)
        outcomes[concurrency] = sum(not r.ok for r in results)
    assert outcomes[32] > 0
    assert outcomes["auto"] == 0


async def test_waiting_for_capacity_is_not_charged_to_the_deadline() -> None:
    """Items wait for room before their call starts: with a deadline shorter than the
    whole job, none fails for having queued behind the others."""
    policy = RetryPolicy(deadline=0.5, initial_backoff=0.01, max_backoff=0.02)
    server = server_for(capacity=2, service_time=0.01, queue_limit=4)
    async with server, client_for(server, retry=policy) as client:
        results = [
            r
            async for r in client.message_conversations.update_many(
                (item(c) for c in range(1, 301)), concurrency="auto"
            )
        ]
    exactly_once(results, 300)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]


async def test_aclose_stops_an_auto_job_and_leaves_no_task() -> None:
    server = server_for(capacity=2, service_time=0.05)
    async with server, client_for(server) as client:
        before = asyncio.all_tasks()
        results = client.message_conversations.update_many(
            (item(c) for c in range(1, 1001)), concurrency="auto"
        )
        seen = 0
        async for _ in results:
            seen += 1
            if seen == 5:
                break
        await results.aclose()
        leftover = [
            t
            for t in asyncio.all_tasks() - before
            if "shopapi/_bulk" in str(t.get_coro().cr_code.co_filename)  # type: ignore[union-attr]
        ]
        assert leftover == []


async def test_input_shorter_than_the_ceiling_ends_the_job() -> None:
    """Workers waiting for room must hear that the input ran out."""
    server = server_for(capacity=1, service_time=0.01)
    async with server, client_for(server) as client:
        results = await asyncio.wait_for(
            _collect(client, [item(c) for c in range(1, 8)]), timeout=5
        )
    exactly_once(results, 7)


async def _collect(
    client: ShopApiClient, items: list[MessageConversationChanges]
) -> list[UpdateResult[MessageConversationChanges, MessageConversation]]:
    return [r async for r in client.message_conversations.update_many(items, concurrency="auto")]


@pytest.mark.parametrize(
    "kw",
    [
        {"concurrency": "fast"},
        {"concurrency": 8, "max_concurrency": 4},
        {"concurrency": 8, "on_limit_change": print},
        {"concurrency": "auto", "max_concurrency": 0},
        {"concurrency": "auto", "max_concurrency": True},
    ],
)
async def test_the_options_are_validated(kw: dict[str, object]) -> None:
    async with ShopApiClient("http://127.0.0.1:9") as client:
        with pytest.raises(ConfigurationError):
            client.message_conversations.update_many([], **kw)  # type: ignore[arg-type]


async def test_auto_is_the_default_and_finds_more_than_the_old_default_of_8() -> None:
    async with server_for(capacity=32, service_time=0.01, queue_limit=32) as server:
        async with client_for(server) as client:
            results = [
                r
                async for r in client.message_conversations.update_many(
                    item(c) for c in range(1, 801)
                )
            ]
        # Well past the old default of 8 (not necessarily all 32 on a loaded machine,
        # where the job is 0.3 s long and the start is a good part of it).
        assert server.load().peak_in_service >= 16
    exactly_once(results, 800)


async def test_a_call_cancelled_waiting_for_the_client_s_semaphore_frees_its_slot() -> None:
    """With ``Limits(max_concurrency=1)`` a call holds an adaptive slot while it waits
    for the client's semaphore; cancelled there, it must give the slot back."""
    from shopapi._protocol.adaptive import AdaptiveGate, AdaptiveLimit
    from shopapi._resources.message_conversations import RESOURCE

    server = server_for(service_time=0.2)
    async with server, client_for(server, limits=Limits(max_concurrency=1)) as client:
        gate = AdaptiveGate(AdaptiveLimit(initial=4))
        update = RESOURCE.endpoint("update")
        first = asyncio.ensure_future(client._calls.start(update, (1, 1), item(1), limiter=gate))
        second = asyncio.ensure_future(client._calls.start(update, (1, 2), item(2), limiter=gate))
        await asyncio.sleep(0.05)
        assert gate.in_flight == 2
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        assert gate.in_flight == 1
        await first
        assert gate.in_flight == 0
