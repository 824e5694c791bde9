"""Interleaved timing: ours and its floor alternate, and each figure is a median ratio.

The machine is noisy, so single timings mean little. Each round times a batch of ours
then a batch of the floor back to back; the ratio of each round is kept, and the median
of those ratios is the figure. Lower is better; 1.0 means "as fast as the floor".
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs


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


async def alternate(
    ours: Callable[[], Awaitable[float]], floor: Callable[[], Awaitable[float]], rounds: int
) -> tuple[float, float, float]:
    """Async rounds of two throughput measurements (higher is better), alternating which
    goes first; returns the medians of ours, of the floor, and of the per-round ratios."""
    ours_rates, floor_rates, ratios = [], [], []
    for r in range(rounds):
        if r % 2:
            a = await ours()
            b = await floor()
        else:
            b = await floor()
            a = await ours()
        ours_rates.append(a)
        floor_rates.append(b)
        ratios.append(a / b)
    return statistics.median(ours_rates), statistics.median(floor_rates), statistics.median(ratios)
