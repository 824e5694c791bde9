"""Soak: thousands of bulk items under 20% transient and 1% permanent faults.

Every item is reported exactly once, the failed ids are exactly the permanently
failing ones, every other item is stored, and memory stays flat. The 10,000-item run
is marked ``soak`` (``nox -s soak``); a 1,000-item run is in the default suite.
``SHOPAPI_SOAK_ITEMS`` resizes the marked run.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from shopapi import (
    BadRequestError,
    MessageConversationChanges,
    PlatformKindEnum,
    RetryPolicy,
    ShopApiClient,
)
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "soak", "soak-pw"
PAGE = os.sysconf("SC_PAGE_SIZE")
# 8 attempts: an item hit by 20% transient faults fails them all with p = 0.2**8.
POLICY = RetryPolicy(max_attempts=8, initial_backoff=0.001, max_backoff=0.005)
TRANSIENT = (
    Fault.status(503),
    Fault.status(500),
    Fault.status(502),
    Fault.status(429, retry_after=0),
    Fault.drop(),
    Fault.drop(after_body=True),
    Fault.truncated(),
)


def rss() -> int:
    """Resident set size in bytes, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def items(n: int) -> Iterator[MessageConversationChanges]:
    """Generated lazily: the input itself holds no memory."""
    for cid in range(1, n + 1):
        yield MessageConversationChanges(
            id=cid,
            shop_id=1,
            platform_kind_enum_value=PlatformKindEnum.FlowAi,
            note=f"soak {cid}",
            rating=cid % 5,
        )


#: The fake server's per-id bookkeeping (counters, store) and the test's own grow with n
#: by design; the traced figure leaves them out to measure the client alone.
NOT_THE_CLIENT = (
    tracemalloc.Filter(False, "*/shopapi/testing.py", all_frames=True),
    tracemalloc.Filter(False, __file__, all_frames=True),
    tracemalloc.Filter(False, tracemalloc.__file__),
)


def traced() -> tracemalloc.Snapshot:
    return tracemalloc.take_snapshot().filter_traces(NOT_THE_CLIENT)


async def soak(
    n: int, *, seed: int, concurrency: int = 16, trace: bool = False
) -> dict[str, float]:
    """Run ``n`` items; assert the invariants; return the figures for RELIABILITY.md.

    RSS covers the whole process, the fake server included (its per-id counters grow
    with ``n``); with ``trace``, tracemalloc also measures what the client retains.
    """
    async with FakeShopServer(username=USER, password=PASSWORD, record=False) as server:
        server.seed(n, shop_id=1)
        server.fault_rate(transient=0.2, permanent=0.01, seed=seed, transient_faults=TRANSIENT)
        permanent = {cid for cid in range(1, n + 1) if server.permanently_failing(cid)}
        seen = bytearray(n)  # constant size: the test must not grow either
        failed: set[int] = set()
        samples: dict[str, int] = {}
        snapshots: dict[str, tracemalloc.Snapshot] = {}
        if trace:
            tracemalloc.start(32)
        started = time.perf_counter()
        done = 0
        async with ShopApiClient(server.base_url, auth=(USER, PASSWORD), retry=POLICY) as client:
            async for result in client.message_conversations.update_many(
                items(n), concurrency=concurrency
            ):
                seen[result.index] += 1
                done += 1
                if not result.ok:
                    assert isinstance(result.error, BadRequestError), result.error
                    failed.add(result.changes.id)
                if done == n // 5:
                    samples["early"] = rss()
                    if trace:
                        snapshots["early"] = traced()
                elif done == n * 9 // 10:
                    samples["late"] = rss()
                    if trace:
                        snapshots["late"] = traced()
        elapsed = time.perf_counter() - started
        if trace:
            tracemalloc.stop()
        assert seen == bytes([1]) * n  # each item exactly once
        assert failed == permanent
        assert permanent  # the campaign did hit permanent faults
        puts = sum(server.put_count(cid) for cid in range(1, n + 1))
        for cid in range(1, n + 1):
            if cid not in permanent:
                stored = server.get(1, cid)
                assert stored is not None
                assert stored.note == f"soak {cid}"
                assert server.saves(cid) == 1
        growth = samples["late"] - samples["early"]
        retained = 0
        if trace:
            diff = snapshots["late"].compare_to(snapshots["early"], "filename")
            retained = sum(stat.size_diff for stat in diff)
        return {
            "client_retained_growth_kib": retained / 1024,
            "items": n,
            "permanent": len(permanent),
            "puts": puts,
            "seconds": elapsed,
            "items_per_second": n / elapsed,
            "rss_early_mib": samples["early"] / 2**20,
            "rss_late_mib": samples["late"] / 2**20,
            "rss_growth_mib": growth / 2**20,
        }


async def test_soak_small() -> None:
    """1,000 items in the default run."""
    figures = await soak(1000, seed=7)
    assert figures["puts"] > 1000 * 1.2  # the transient faults really were retried
    assert figures["rss_growth_mib"] < 8


@pytest.mark.soak
async def test_soak_10000(capsys: pytest.CaptureFixture[str]) -> None:
    """10,000 items (``nox -s soak``); prints its figures."""
    n = int(os.environ.get("SHOPAPI_SOAK_ITEMS", "10000"))
    trace = os.environ.get("SHOPAPI_SOAK_TRACE") == "1"  # exact, but ~50x slower
    figures = await soak(n, seed=2026, trace=trace)
    assert figures["puts"] > n * 1.2
    # Flat: RSS between 20% and 90% of the run (fake server included) moves by noise.
    assert figures["rss_growth_mib"] < 8
    if trace:
        assert figures["client_retained_growth_kib"] < 512
    with capsys.disabled():
        print("\nsoak figures:", {k: round(v, 2) for k, v in figures.items()})
