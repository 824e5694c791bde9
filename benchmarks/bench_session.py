"""``update()`` throughput against raw aiohttp, same server, same run.

The floor is raw aiohttp sending the *same pre-encoded body* with the same headers to
the same local fake server and reading the answer; ours also validates, encodes,
decodes and checks each answer, which is the point of the client. Rounds alternate
which side goes first; each round's ratio is ours/floor throughput, and the figure is
the median ratio (higher is better; 1.0 means "as fast as raw"), with the range of the
rounds beside it. Each set-up gets a fresh server, warmed by a full pass of both sides
before any round is timed. The CPU column is this process's CPU time per request: with
the server on its own core, the client's own cost.

Run: ``python benchmarks/bench_session.py``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

from shopapi import (
    JsonCodec,
    MessageConversation,
    MessageConversationChanges,
    PlatformKindEnum,
    ShopApiClient,
)
from shopapi._protocol.requests import basic_auth_header
from shopapi.testing import _sample_conversation

sys.path.insert(0, str(Path(__file__).parent))
from _harness import (
    THROUGHPUT_HEADER,
    Throughput,
    allocator_note,
    alternate,
    print_throughput_tables,
    steady_allocator,
    throughput_row,
)
from _server import fake_server_process, measure_setups
from bench_codecs import json_floor_decode, json_floor_encode

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


def read_modify_write(n: int) -> list[MessageConversationChanges]:
    """The fake server's sample conversations as a client reads them (seven-digit dates
    in ``Z`` and offset forms, non-ASCII names, notes with markup and newlines), each to
    be written back with a new note: what a bulk job sends, and a full-size answer."""
    codec = JsonCodec()
    return [
        codec.decode(codec.encode(_sample_conversation(1, i)), MessageConversation).to_changes(
            note=f"benchmark note {i}"
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


async def measure(
    base_url: str, concurrency: int, items: list[MessageConversationChanges] | None = None
) -> tuple[Throughput, Throughput]:
    """Ours against raw aiohttp (the target's floor), then against raw aiohttp doing the
    codec work by hand too (orjson encode, orjson decode into the model: the floors of
    ``bench_codecs.py``), which shows what the session itself adds.

    The default items are small (five fields set, no dates), so that the client's own
    cost per request weighs most; :func:`read_modify_write` gives full-size ones.
    """
    if items is None:
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

        async def raw_codec_one(i: int) -> None:
            async with raw.put(urls[i], data=json_floor_encode(items[i]), headers=headers) as resp:
                body = await resp.read()
                assert resp.status == 200
            json_floor_decode(body)

        # Warm up connections, caches and the server's store with a full pass of each.
        await workers(concurrency, REQUESTS_PER_ROUND, raw_one)
        await workers(concurrency, REQUESTS_PER_ROUND, raw_codec_one)
        await workers(concurrency, REQUESTS_PER_ROUND, ours_one)
        against_raw = await alternate(
            lambda: workers(concurrency, REQUESTS_PER_ROUND, ours_one),
            lambda: workers(concurrency, REQUESTS_PER_ROUND, raw_one),
            ROUNDS,
            ops=REQUESTS_PER_ROUND,
        )
        against_codec = await alternate(
            lambda: workers(concurrency, REQUESTS_PER_ROUND, ours_one),
            lambda: workers(concurrency, REQUESTS_PER_ROUND, raw_codec_one),
            ROUNDS,
            ops=REQUESTS_PER_ROUND,
        )
        return against_raw, against_codec


async def measure_list(base_url: str) -> Throughput:
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

        for changes in make_changes(100):  # a full first page on the fresh server
            await client.message_conversations.update(changes.shop_id, changes.id, changes)
        await workers(1, 50, raw_one)
        await workers(1, 50, ours_one)
        return await alternate(
            lambda: workers(1, 300, ours_one), lambda: workers(1, 300, raw_one), ROUNDS, ops=300
        )


async def measure_in_process(concurrency: int) -> tuple[Throughput, Throughput]:
    from shopapi.testing import FakeShopServer

    async with FakeShopServer(
        username="bench", password="bench-pw", record=False, create_missing=True
    ) as server:
        return await measure(server.base_url, concurrency)


def main() -> int:
    """Two set-ups. *Own core*: the server in its own process pinned to its own CPU, so
    at concurrency 32 the client's CPU is the bottleneck and the ratio is the client's
    own cost per request (the strict figure). *Shared loop*: the server in the client's
    event loop, as in the test suite, where each request also pays the server's cost
    (and the CPU column counts both)."""
    print(allocator_note(steady_allocator()))
    print()
    results = measure_setups(measure, measure_in_process, (1, 32))
    with fake_server_process() as base_url:
        listing = asyncio.run(measure_list(base_url))
    with fake_server_process() as base_url:
        full_size = asyncio.run(measure(base_url, 32, read_modify_write(REQUESTS_PER_ROUND)))
    ok = print_throughput_tables("update()", results, TARGET)
    print()
    print(
        "update() of full-size conversations read and written back (dates, non-ASCII, "
        "every field), own core: against raw aiohttp sending the same bodies, then "
        "against raw aiohttp with the hand-written codec (no target):"
    )
    print()
    print(THROUGHPUT_HEADER)
    print(throughput_row("own core", 32, full_size[0], None))
    print(throughput_row("own core, vs raw + codec", 32, full_size[1], None))
    print()
    print(
        "| list_page() of 100 (JSON), concurrency 1 | pages/s (median) | raw GET pages/s "
        "| ratio | client CPU us/page ours / raw |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| own core | {listing.ours:.0f} | {listing.floor:.0f} | {listing.ratio:.2f}x "
        f"| {listing.ours_cpu_us:.0f} / {listing.floor_cpu_us:.0f} |"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
