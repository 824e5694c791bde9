"""The fake server's capacity model: slots, a queue, refusals beyond it, a capacity that
changes during a run. Exercised with a plain aiohttp client over loopback."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from shopapi.testing import FakeShopServer, Fault, Load

AUTH = {"Authorization": "Basic " + base64.b64encode(b"user:secret").decode()}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, server: FakeShopServer, cid: int) -> tuple[int, float]:
    """GET one conversation; its status and its round trip in seconds."""
    start = time.monotonic()
    url = f"{server.base_url}/v1/Shops/1/MessageConversations/{cid}"
    async with http.get(url, headers=AUTH) as response:
        await response.read()
        return response.status, time.monotonic() - start


async def test_capacity_requests_at_once_the_rest_queue_so_latency_grows(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeShopServer(capacity=2, service_time=0.05) as server:
        server.seed(6)
        answers = await asyncio.gather(*(get(http, server, cid) for cid in range(1, 7)))
        load = server.load()
    assert [status for status, _ in answers] == [200] * 6
    rtts = sorted(rtt for _, rtt in answers)
    assert rtts[0] >= 0.045
    assert rtts[-1] >= 0.14  # served third in its slot: waited two service times
    assert load == Load(
        capacity=2, in_service=0, queued=0, peak_in_service=2, peak_queued=4, served=6, rejected=0
    )


async def test_beyond_the_queue_the_answer_is_503_at_once(http: aiohttp.ClientSession) -> None:
    async with FakeShopServer(capacity=1, service_time=0.2, queue_limit=1) as server:
        server.seed(4)
        before = time.monotonic()
        answers = await asyncio.gather(*(get(http, server, cid) for cid in range(1, 5)))
        load = server.load()
        rejections = server.rejections
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 200, 503, 503]
    assert all(rtt < 0.15 for status, rtt in answers if status == 503)  # not queued
    assert load.rejected == 2
    assert load.served == 2
    assert len(rejections) == 2
    assert all(before <= t <= before + 0.15 for t in rejections)


async def test_a_throttling_server_answers_429_with_retry_after(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeShopServer(
        capacity=1, service_time=0.1, queue_limit=0, overload=Fault.status(429, retry_after=1)
    ) as server:
        server.seed(2)
        url = f"{server.base_url}/v1/Shops/1/MessageConversations/2"
        first = asyncio.ensure_future(get(http, server, 1))
        await asyncio.sleep(0.03)
        async with http.get(url, headers=AUTH) as refused:
            assert refused.status == 429
            assert refused.headers["Retry-After"] == "1"
        assert (await first)[0] == 200
        assert [r.fault for r in server.requests] == [Fault.status(429, retry_after=1), None]


async def test_capacity_can_change_during_a_run(http: aiohttp.ClientSession) -> None:
    async with FakeShopServer(capacity=1, service_time=0.1) as server:
        server.seed(8)
        start = time.monotonic()
        batch = asyncio.gather(*(get(http, server, cid) for cid in range(1, 5)))
        await asyncio.sleep(0.02)
        assert server.load().queued == 3
        server.capacity = 4  # the three waiting are admitted at once
        await batch
        assert time.monotonic() - start < 0.18  # not 4 x 0.1 s
        assert server.load().peak_in_service == 4
        server.capacity = 2
        start = time.monotonic()
        await asyncio.gather(*(get(http, server, cid) for cid in range(5, 9)))
        assert time.monotonic() - start >= 0.19  # two rounds of two
        assert server.load().capacity == 2


async def test_a_refusal_consumes_no_injected_fault(http: aiohttp.ClientSession) -> None:
    async with FakeShopServer(capacity=1, service_time=0.1, queue_limit=0) as server:
        server.seed(2)
        server.inject(Fault.status(500), conversation_id=2)
        first = asyncio.ensure_future(get(http, server, 1))
        await asyncio.sleep(0.03)
        assert (await get(http, server, 2))[0] == 503
        await first
        assert (await get(http, server, 2))[0] == 500  # still queued for it


async def test_closing_with_requests_queued_does_not_hang() -> None:
    server = FakeShopServer(capacity=1, service_time=5.0)
    await server.start()
    server.seed(3)
    async with aiohttp.ClientSession() as http:
        pending = asyncio.gather(
            *(get(http, server, cid) for cid in range(1, 4)), return_exceptions=True
        )
        await asyncio.sleep(0.05)
        start = time.monotonic()
        await server.close()
        await pending
        assert time.monotonic() - start < 2.0


@pytest.mark.parametrize(
    "kw",
    [
        {"capacity": 0},
        {"capacity": True},
        {"queue_limit": -1},
        {"service_time": -0.1},
        {"overload": Fault.drop()},
    ],
)
def test_the_capacity_model_is_validated(kw: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        FakeShopServer(**kw)  # type: ignore[arg-type]


def test_capacity_set_while_running_is_validated() -> None:
    server = FakeShopServer(capacity=2)
    with pytest.raises(ValueError, match="capacity"):
        server.capacity = 0
    server.capacity = None
    assert server.load().capacity is None
