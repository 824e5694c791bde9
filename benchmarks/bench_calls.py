"""The client's own cost per call: ``update()`` with the network stubbed out.

``bench_session.py`` measures the client against raw aiohttp over a socket, where the
server and the event loop's I/O are most of each request and a few microseconds of the
client's own work hide in the noise. This benchmark removes the network:
``shopapi._session.client.send`` (the one function that speaks to aiohttp) is replaced
by a stub that answers at once with the saved conversation's JSON, so what is timed is
the whole call path of ``client.message_conversations.update`` (the typed method, the
endpoint's plan, request building, validation, encoding, ``CallState``, the slots, the
answer's decoding and key-field check), and nothing else.

The floor is the same loop doing only what any client must: the hand-written codec of
``bench_codecs.py`` encoding the changes and decoding the answer, around an awaited bare
coroutine that returns the answer's body. Rounds alternate which side goes first; each
figure is the median over the rounds of this process's CPU time per call (not wall
time: the machine is shared), and the ratio is the median of the per-round ratios
(lower is better; 1.0 means "no more than the hand-written codec").

Run: ``python benchmarks/bench_calls.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

import shopapi._session.client as client_module
from shopapi import (
    JsonCodec,
    MessageConversationChanges,
    PlatformKindEnum,
    ShopApiClient,
)
from shopapi._protocol.requests import Request
from shopapi._session.transport import RawResponse
from shopapi.testing import _sample_conversation

sys.path.insert(0, str(Path(__file__).parent))
from bench_codecs import json_floor_decode, json_floor_encode

CALLS_PER_ROUND = 5000
ROUNDS = 15
ITEMS = 100


def make_changes() -> list[MessageConversationChanges]:
    return [
        MessageConversationChanges(
            id=i,
            shop_id=1,
            platform_kind_enum_value=PlatformKindEnum.FlowAi,
            customer_name=f"Customer {i}",
            note=f"benchmark note {i}",
        )
        for i in range(1, ITEMS + 1)
    ]


def answers() -> dict[int, bytes]:
    """Each conversation's answer as the fake server sends it (full size, seven-digit
    dates, non-ASCII names)."""
    codec = JsonCodec()
    return {i: codec.encode(_sample_conversation(1, i)) for i in range(1, ITEMS + 1)}


def stub_send(bodies: dict[int, bytes]) -> Callable[..., Awaitable[RawResponse]]:
    """A ``send`` that answers every PUT at once with its conversation's JSON."""
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json; charset=utf-8"}))

    async def send(_: Any, request: Request, **__: Any) -> RawResponse:
        return RawResponse(200, headers, bodies[int(request.path.rsplit("/", 1)[1])])

    return send


async def per_call_cpu(one: Callable[[int], Awaitable[object]]) -> float:
    """CPU microseconds per call of ``CALLS_PER_ROUND`` calls of ``one(i)``."""
    start = time.process_time()
    for i in range(CALLS_PER_ROUND):
        await one(i % ITEMS)
    return (time.process_time() - start) / CALLS_PER_ROUND * 1e6


async def main() -> None:
    changes = make_changes()
    bodies = answers()
    client_module.send = stub_send(bodies)  # type: ignore[attr-defined,assignment]

    async def answer(cid: int) -> bytes:
        return bodies[cid]

    async def floor(i: int) -> object:
        item = changes[i]
        json_floor_encode(item)
        return json_floor_decode(await answer(item.id))

    async with ShopApiClient("http://127.0.0.1:9", auth=("user", "secret")) as client:
        update = client.message_conversations.update

        async def ours(i: int) -> object:
            item = changes[i]
            return await update(1, item.id, item)

        for _ in range(3):  # warm both: code generation, caches
            await per_call_cpu(ours)
            await per_call_cpu(floor)
        ours_us, floor_us, ratios = [], [], []
        for r in range(ROUNDS):
            if r % 2:
                a, b = await per_call_cpu(ours), await per_call_cpu(floor)
            else:
                b = await per_call_cpu(floor)
                a = await per_call_cpu(ours)
            ours_us.append(a)
            floor_us.append(b)
            ratios.append(a / b)
    print("update() with the network stubbed, against the hand-written codec (no target):")
    print()
    print(
        "| call | ours CPU us/call (median) | floor CPU us/call (median) | ratio (median) "
        "| ratio range |\n|---|---|---|---|---|"
    )
    print(
        f"| update, JSON, full answer | {statistics.median(ours_us):.2f} | "
        f"{statistics.median(floor_us):.2f} | {statistics.median(ratios):.2f}x | "
        f"{min(ratios):.2f}-{max(ratios):.2f} |"
    )


if __name__ == "__main__":
    asyncio.run(main())
