"""``update_many`` throughput against raw aiohttp, and memory over 100,000 streamed items.

Throughput: ``update_many(items, concurrency=C)`` against raw aiohttp with C workers
sending the same pre-encoded bodies to the same fake server, in the same run. Rounds
alternate which side goes first; the figure is the median of the per-round ratios.
Set-ups as in ``bench_session.py``: the server on its own core (strict: the client's
CPU is the bottleneck) and in the client's event loop; a fresh server for each, warmed
by a full pass of both sides; the range of the per-round ratios and the client's CPU
time per item beside the median.

Memory: resident set size of this process after 10,000 items (warm) and after
100,000, streamed lazily from a generator through the real client and server (on its
own core, so the server's store is not counted). Flat means the growth stays within
noise (a few MiB), independent of the item count.

Run: ``python benchmarks/bench_bulk.py``.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from shopapi import JsonCodec, MessageConversationChanges, PlatformKindEnum, ShopApiClient
from shopapi._protocol.requests import basic_auth_header

sys.path.insert(0, str(Path(__file__).parent))
from _harness import (
    Throughput,
    allocator_note,
    alternate,
    print_throughput_tables,
    steady_allocator,
)
from _server import fake_server_process, measure_setups
from bench_codecs import json_floor_decode, json_floor_encode

ITEMS_PER_ROUND = 3000
ROUNDS = 7
TARGET = 0.8
STREAMED = 100_000


def changes(start: int, n: int) -> Iterator[MessageConversationChanges]:
    for i in range(start, start + n):
        yield MessageConversationChanges(
            id=i,
            shop_id=1,
            platform_kind_enum_value=PlatformKindEnum.FlowAi,
            customer_name=f"Customer {i}",
            note=f"bulk note {i}",
        )


async def throughput(base_url: str, concurrency: int) -> tuple[Throughput, Throughput]:
    """``update_many`` against raw aiohttp workers (the target's floor), then against raw
    workers that also encode and decode by hand (the orjson floors of
    ``bench_codecs.py``), which shows what the client itself adds."""
    items = list(changes(1, ITEMS_PER_ROUND))
    codec = JsonCodec()
    bodies = [codec.encode(c) for c in items]
    urls = [f"{base_url}/v1/Shops/1/MessageConversations/{c.id}" for c in items]
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Accept": "application/json",
        "Authorization": basic_auth_header("bench", "bench-pw"),
    }
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max(100, concurrency))) as raw,
        ShopApiClient(base_url, auth=("bench", "bench-pw")) as client,
    ):

        async def raw_round(codec_work: bool = False) -> float:
            todo = iter(range(ITEMS_PER_ROUND))

            async def worker() -> None:
                for i in todo:
                    data = json_floor_encode(items[i]) if codec_work else bodies[i]
                    async with raw.put(urls[i], data=data, headers=headers) as resp:
                        body = await resp.read()
                        assert resp.status == 200
                    if codec_work:
                        json_floor_decode(body)

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return ITEMS_PER_ROUND / (time.perf_counter() - start)

        async def ours_round() -> float:
            start = time.perf_counter()
            ok = 0
            async for result in client.message_conversations.update_many(
                items, concurrency=concurrency
            ):
                ok += result.ok
            assert ok == ITEMS_PER_ROUND
            return ITEMS_PER_ROUND / (time.perf_counter() - start)

        await raw_round()  # warm up connections, caches and the server's store
        await raw_round(codec_work=True)
        await ours_round()
        against_raw = await alternate(ours_round, raw_round, ROUNDS, ops=ITEMS_PER_ROUND)
        against_codec = await alternate(
            ours_round, lambda: raw_round(codec_work=True), ROUNDS, ops=ITEMS_PER_ROUND
        )
        return against_raw, against_codec


async def throughput_in_process(concurrency: int) -> tuple[Throughput, Throughput]:
    from shopapi.testing import FakeShopServer

    async with FakeShopServer(
        username="bench", password="bench-pw", record=False, create_missing=True
    ) as server:
        return await throughput(server.base_url, concurrency)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def memory(base_url: str) -> tuple[float, float, float]:
    marks: dict[int, float] = {}
    async with ShopApiClient(base_url, auth=("bench", "bench-pw")) as client:
        done = 0
        async for result in client.message_conversations.update_many(
            changes(1, STREAMED), concurrency=32
        ):
            assert result.ok
            done += 1
            if done in (10_000, 50_000, STREAMED):
                gc.collect()
                marks[done] = rss_mib()
    return marks[10_000], marks[50_000], marks[STREAMED]


def main() -> int:
    print(allocator_note(steady_allocator()))
    print()
    results = measure_setups(throughput, throughput_in_process, (8, 32))
    ok = print_throughput_tables("update_many()", results, TARGET)
    with fake_server_process() as base_url:
        at10k, at50k, at100k = asyncio.run(memory(base_url))
    growth = at100k - at10k
    flat = growth < 8.0
    ok &= flat
    print()
    print(
        f"| RSS after 10,000 items | after 50,000 | after {STREAMED:,} | growth 10k->100k | flat |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {at10k:.1f} MiB | {at50k:.1f} MiB | {at100k:.1f} MiB | {growth:+.1f} MiB | {'yes' if flat else 'NO'} |"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
