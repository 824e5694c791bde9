"""``update()`` throughput against raw aiohttp, same server, same run.

The floor is raw aiohttp sending the *same pre-encoded body* with the same headers to
the same local fake server (in its own process) and reading the answer; ours also
validates, encodes, decodes and checks each answer, which is the point of the client.
Rounds alternate which side goes first; each round's ratio is ours/floor throughput,
and the figure is the median ratio (higher is better; 1.0 means "as fast as raw").

Run: ``python benchmarks/bench_session.py``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

from shopapi import JsonCodec, MessageConversationChanges, PlatformKindEnum, ShopApiClient
from shopapi._protocol import basic_auth_header

sys.path.insert(0, str(Path(__file__).parent))
from _harness import alternate
from _server import fake_server_process

REQUESTS_PER_ROUND = 1500
ROUNDS = 9
TARGET = 0.85


def make_changes(n: int) -> list[MessageConversationChanges]:
    return [
        MessageConversationChanges(
            id=i,
            shop_id=1,
            platform_kind_enum_value=PlatformKindEnum.FlowAi,
            customer_name=f"Customer {i}",
            note=f"benchmark note {i}",
            url="https://shop.example/p/1",
        )
        for i in range(1, n + 1)
    ]


async def workers(concurrency: int, n: int, one: object) -> float:
    """Run ``one(i)`` for i in range(n) with ``concurrency`` workers; return requests/s."""
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await one(i)  # type: ignore[operator]

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def measure(base_url: str, concurrency: int) -> tuple[float, float, float]:
    items = make_changes(REQUESTS_PER_ROUND)
    codec = JsonCodec()
    bodies = [codec.encode(c) for c in items]
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Accept": "application/json",
        "Authorization": basic_auth_header("bench", "bench-pw"),
    }
    urls = [f"{base_url}/v1/Shops/1/MessageConversations/{c.id}" for c in items]
    connector_limit = max(100, concurrency)
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connector_limit)) as raw,
        ShopApiClient(base_url, auth=("bench", "bench-pw")) as client,
    ):

        async def raw_one(i: int) -> None:
            async with raw.put(urls[i], data=bodies[i], headers=headers) as resp:
                await resp.read()
                assert resp.status == 200

        async def ours_one(i: int) -> None:
            c = items[i]
            await client.message_conversations.update(c.shop_id, c.id, c)

        await workers(concurrency, 200, raw_one)  # warm up connections and caches
        await workers(concurrency, 200, ours_one)
        return await alternate(
            lambda: workers(concurrency, REQUESTS_PER_ROUND, ours_one),
            lambda: workers(concurrency, REQUESTS_PER_ROUND, raw_one),
            ROUNDS,
        )


async def measure_list(base_url: str) -> tuple[float, float, float]:
    """``list_page()`` of 100 conversations against a raw GET of the same page."""
    url = f"{base_url}/v1/Shops/1/MessageConversations?pageSize=100&pageNumber=1"
    headers = {
        "Accept": "application/json",
        "Authorization": basic_auth_header("bench", "bench-pw"),
    }
    async with (
        aiohttp.ClientSession() as raw,
        ShopApiClient(base_url, auth=("bench", "bench-pw")) as client,
    ):

        async def raw_one(i: int) -> None:
            async with raw.get(url, headers=headers) as resp:
                await resp.read()
                assert resp.status == 200

        async def ours_one(i: int) -> None:
            page = await client.message_conversations.list_page(1, page_size=100)
            assert len(page) == 100

        await workers(1, 50, raw_one)
        await workers(1, 50, ours_one)
        return await alternate(
            lambda: workers(1, 300, ours_one), lambda: workers(1, 300, raw_one), ROUNDS
        )


async def measure_in_process(concurrency: int) -> tuple[float, float, float]:
    from shopapi.testing import FakeShopServer

    async with FakeShopServer(
        username="bench", password="bench-pw", record=False, create_missing=True
    ) as server:
        return await measure(server.base_url, concurrency)


def row(setup: str, concurrency: int, result: tuple[float, float, float]) -> bool:
    ours, raw, ratio = result
    verdict = "ok" if ratio >= TARGET else "UNDER"
    print(
        f"| {setup} | {concurrency} | {ours:.0f} | {raw:.0f} | {ratio:.2f}x | >= {TARGET}x {verdict} |"
    )
    return ratio >= TARGET


def main() -> int:
    """Two set-ups. *Own core*: the server in its own process pinned to its own CPU, so
    at concurrency 32 the client's CPU is the bottleneck and the ratio is the client's
    own cost per request (the strict figure). *Shared loop*: the server in the client's
    event loop, as in the test suite, where each request also pays the server's cost."""
    ok = True
    print(
        "| server | concurrency | update() req/s (median) | raw aiohttp req/s (median) | ratio | target |"
    )
    print("|---|---|---|---|---|---|")
    with fake_server_process() as base_url:
        for concurrency in (1, 32):
            ok &= row("own core", concurrency, asyncio.run(measure(base_url, concurrency)))
        listing = asyncio.run(measure_list(base_url))
    for concurrency in (1, 32):
        ok &= row("shared loop", concurrency, asyncio.run(measure_in_process(concurrency)))
    ours, raw, ratio = listing
    print()
    print(
        "| list_page() of 100 (JSON), concurrency 1 | pages/s (median) | raw GET pages/s | ratio |"
    )
    print("|---|---|---|---|")
    print(f"| own core | {ours:.0f} | {raw:.0f} | {ratio:.2f}x |")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
