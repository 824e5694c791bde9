"""Interleaved timing: ours and its floor alternate, and each figure is a median ratio.

The machine is noisy, so single timings mean little. Each round times a batch of ours
then a batch of the floor back to back; the ratio of each round is kept, and the median
of those ratios is the figure. Lower is better; 1.0 means "as fast as the floor".
"""

from __future__ import annotations

import ctypes
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

# glibc's allocator settings for a steady heap (see steady_allocator): the values go to
# mallopt() in this process and, as environment variables, to the server's process.
_MMAP_THRESHOLD = 1 << 20
_TRIM_THRESHOLD = 64 << 20
STEADY_ALLOCATOR_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(_MMAP_THRESHOLD),
    "MALLOC_TRIM_THRESHOLD_": str(_TRIM_THRESHOLD),
}


def steady_allocator() -> bool:
    """Keep glibc from mapping and unmapping memory on every response.

    asyncio (3.11) reads each response with ``recv(256 KiB)``. Whether glibc serves that
    from the heap or from a fresh mmap depends on its *dynamic* mmap threshold, which
    moves with whatever large block a process happened to free first; in the mmap
    case, or when it trims the heap top after each read, every request costs one or
    two page faults. Which of those modes a run lands in is chance, and it moved the
    same code's concurrency-32 ratio between 0.64 and 0.92. Pinning both thresholds
    puts every run, ours and the floor alike, in the fault-free mode. Returns whether
    it applied (glibc on Linux only).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(
            libc.mallopt(m_mmap_threshold, _MMAP_THRESHOLD)
            and libc.mallopt(m_trim_threshold, _TRIM_THRESHOLD)
        )
    except (OSError, AttributeError):
        return False


def allocator_note(applied: bool) -> str:
    if applied:
        return (
            "glibc mmap/trim thresholds pinned (1 MiB / 64 MiB) in this process and "
            "the server's: no page faults per response (see steady_allocator)"
        )
    return "allocator left as it is (not glibc): expect mode switches between runs"


@attrs.frozen
class Result:
    name: str
    ours_us: float
    floor_us: float
    ratio: float
    target: float

    @property
    def ok(self) -> bool:
        return self.ratio <= self.target

    def row(self) -> str:
        verdict = "ok" if self.ok else "OVER"
        return (
            f"| {self.name} | {self.ours_us:.2f} | {self.floor_us:.2f} | "
            f"{self.ratio:.2f}x | <= {self.target:.2f}x | {verdict} |"
        )


HEADER = "| benchmark | ours (us/op, median) | floor (us/op, median) | ratio | target | |\n|---|---|---|---|---|---|"


def _batch(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def compare(
    name: str,
    ours: Callable[[], Any],
    floor: Callable[[], Any],
    *,
    target: float,
    rounds: int = 31,
    batch: int = 2000,
) -> Result:
    for _ in range(3):  # warm up both (code generation, caches)
        _batch(ours, 200)
        _batch(floor, 200)
    ours_t, floor_t, ratios = [], [], []
    for i in range(rounds):
        if i % 2:
            a = _batch(ours, batch)
            b = _batch(floor, batch)
        else:
            b = _batch(floor, batch)
            a = _batch(ours, batch)
        ours_t.append(a)
        floor_t.append(b)
        ratios.append(a / b)
    return Result(
        name,
        statistics.median(ours_t) * 1e6,
        statistics.median(floor_t) * 1e6,
        statistics.median(ratios),
        target,
    )


@attrs.frozen
class Throughput:
    """Alternating async rounds of ours and the floor (higher is better).

    Attributes:
        ours: Median operations per second.
        floor: Median operations per second of the floor.
        ratio: Median of the per-round ratios ours / floor (1.0: as fast as the floor).
        low: The lowest per-round ratio.
        high: The highest per-round ratio.
        ours_cpu_us: Median CPU time of this process per operation, in microseconds.
        floor_cpu_us: The same for the floor.
    """

    ours: float
    floor: float
    ratio: float
    low: float
    high: float
    ours_cpu_us: float
    floor_cpu_us: float


async def alternate(
    ours: Callable[[], Awaitable[float]],
    floor: Callable[[], Awaitable[float]],
    rounds: int,
    *,
    ops: int,
) -> Throughput:
    """Async rounds of two throughput measurements of ``ops`` operations each
    (each call returns operations per second), alternating which goes first.

    The CPU time this process spends per operation is kept too: with the server on
    another core it is the client's own cost, whichever side is the bottleneck.
    """
    ours_rates: list[float] = []
    floor_rates: list[float] = []
    ratios: list[float] = []
    ours_cpu: list[float] = []
    floor_cpu: list[float] = []

    async def timed(fn: Callable[[], Awaitable[float]], cpu: list[float]) -> float:
        start = time.process_time()
        rate = await fn()
        cpu.append((time.process_time() - start) / ops * 1e6)
        return rate

    for r in range(rounds):
        if r % 2:
            a = await timed(ours, ours_cpu)
            b = await timed(floor, floor_cpu)
        else:
            b = await timed(floor, floor_cpu)
            a = await timed(ours, ours_cpu)
        ours_rates.append(a)
        floor_rates.append(b)
        ratios.append(a / b)
    return Throughput(
        statistics.median(ours_rates),
        statistics.median(floor_rates),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        statistics.median(ours_cpu),
        statistics.median(floor_cpu),
    )


THROUGHPUT_HEADER = (
    "| server | concurrency | ours/s (median) | raw aiohttp/s (median) | ratio (median) "
    "| ratio range | client CPU us/op ours / raw | target |\n|---|---|---|---|---|---|---|---|"
)


def throughput_row(setup: str, concurrency: int, result: Throughput, target: float | None) -> str:
    if target is None:
        verdict = "(none)"
    else:
        verdict = f">= {target}x " + ("ok" if result.ratio >= target else "UNDER")
    return (
        f"| {setup} | {concurrency} | {result.ours:.0f} | {result.floor:.0f} | "
        f"{result.ratio:.2f}x | {result.low:.2f}-{result.high:.2f} | "
        f"{result.ours_cpu_us:.0f} / {result.floor_cpu_us:.0f} | {verdict} |"
    )


SetUp = tuple[str, int, Throughput, Throughput]  # set-up, concurrency, vs raw, vs raw + codec


def print_throughput_tables(what: str, results: list[SetUp], target: float) -> bool:
    """Print ``what`` against raw aiohttp (with the target's verdict), then against raw
    aiohttp doing the codec work by hand (no target); return whether all rows met it."""
    ok = True
    print(f"{what} against raw aiohttp sending pre-encoded bodies (the target):")
    print()
    print(THROUGHPUT_HEADER)
    for setup, concurrency, against_raw, _ in results:
        print(throughput_row(setup, concurrency, against_raw, target))
        ok &= against_raw.ratio >= target
    print()
    print(f"{what} against raw aiohttp that also encodes and decodes by hand (no target):")
    print()
    print(THROUGHPUT_HEADER.replace("raw aiohttp/s", "raw + codec/s"))
    for setup, concurrency, _, against_codec in results:
        print(throughput_row(setup, concurrency, against_codec, None))
    return ok
