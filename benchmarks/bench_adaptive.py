"""``update_many(concurrency="auto")`` against the best fixed concurrency, per capacity.

The fake server runs in its own process with the capacity model: ``C`` requests served
at once for ``--service-time`` each, a queue as deep as ``--queue-factor * C``, and 503
beyond it (``--overload 429`` for 429 with ``Retry-After: 1``). For each capacity:

* a sweep of fixed concurrencies (C, C+2, 1.25C, 1.5C, 2C, and today's default 8),
  each run ``--runs`` times; the best is the one with the lowest median time;
* ``auto``, run as often; its median time as a ratio to the best's median, and the
  share of requests the server refused;
* ``auto`` with the capacity halved once a third of the items are done: how long after
  the change the server still refused anything, and whether every item was reported
  exactly once.

Goal (issue 17): auto within 1.15x of the best fixed concurrency, at most 1% refused;
after the halving, refusals stop within 5 s and every item is reported once.
Concurrencies below C are left out of the sweep: the server then idles by construction
(C/2 takes twice as long).

The client uses the default ``RetryPolicy()`` (backoff from 0.5 s, a retry budget),
as a user would. Wall time is what counts (the service time is simulated), so the
figures hold on a busy machine as long as neither side runs out of CPU.

Run: ``python benchmarks/bench_adaptive.py`` (the issue's size: 20,000 items, which takes
an hour at C=4), or e.g. ``--items 5000 --runs 3 --capacities 4,16,64``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from shopapi import MessageConversationChanges, PlatformKindEnum, ShopApiClient

sys.path.insert(0, str(Path(__file__).parent))
from _harness import steady_allocator
from _server import server_subprocess

SERVER = r"""
import asyncio, json, sys
from shopapi.testing import FakeShopServer, Fault

capacity, service_time, queue_limit, overload = sys.argv[1:5]
fault = Fault.status(429, retry_after=1) if overload == "429" else Fault.status(503)

async def main():
    async with FakeShopServer(username="bench", password="bench-pw", record=False,
                              create_missing=True, capacity=int(capacity),
                              service_time=float(service_time),
                              queue_limit=int(queue_limit), overload=fault) as server:
        print(server.base_url, flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            command, _, value = line.strip().partition(" ")
            if command == "capacity":
                server.capacity = int(value)
            elif command == "stats":
                load = server.load()
                print(json.dumps({"served": load.served, "rejected": load.rejected,
                                  "peak": load.peak_in_service,
                                  "rejections": server.rejections}), flush=True)

asyncio.run(main())
"""


class Server:
    """The server process: its base URL, and commands over its stdin."""

    def __init__(self, proc: subprocess.Popen[str], base_url: str) -> None:
        self.proc = proc
        self.base_url = base_url

    def command(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stats(self) -> dict[str, Any]:
        self.command("stats")
        assert self.proc.stdout is not None
        stats: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return stats


@contextmanager
def server_process(
    capacity: int, service_time: float, queue_limit: int, overload: str
) -> Iterator[Server]:
    """The capacity-limited server in its own process, pinned as in ``_server``."""
    args = (str(capacity), str(service_time), str(queue_limit), overload)
    with server_subprocess(SERVER, *args) as (proc, base_url):
        yield Server(proc, base_url)


def changes(n: int) -> Iterator[MessageConversationChanges]:
    for i in range(1, n + 1):
        yield MessageConversationChanges(
            id=i,
            shop_id=1,
            platform_kind_enum_value=PlatformKindEnum.FlowAi,
            customer_name=f"Customer {i}",
            note=f"adaptive {i}",
        )


@attrs.frozen
class Run:
    seconds: float
    served: int
    rejected: int
    failed: int
    exactly_once: bool
    refused_after_change: float | None  # seconds from the halving to the last refusal
    final_limit: int | None

    @property
    def rejected_share(self) -> float:
        return self.rejected / max(1, self.served + self.rejected)


async def one_run(
    server: Server,
    items: int,
    concurrency: int | str,
    *,
    halve_at: int | None = None,
    capacity: int = 1,
) -> Run:
    limits: list[int] = []
    seen: Counter[int] = Counter()
    failed = 0
    changed_at: float | None = None
    async with ShopApiClient(server.base_url, auth=("bench", "bench-pw")) as client:
        extra: dict[str, Any] = {}
        if concurrency == "auto":
            extra["on_limit_change"] = limits.append
        start = time.monotonic()
        done = 0
        async for result in client.message_conversations.update_many(
            changes(items),
            concurrency=concurrency,  # type: ignore[arg-type]
            **extra,
        ):
            seen[result.index] += 1
            failed += not result.ok
            done += 1
            if halve_at is not None and done == halve_at:
                server.command(f"capacity {max(1, capacity // 2)}")
                changed_at = time.monotonic()
        seconds = time.monotonic() - start
    stats = server.stats()
    after = None
    if changed_at is not None:
        late = [t - changed_at for t in stats["rejections"] if t >= changed_at]
        after = max(late) if late else 0.0
    return Run(
        seconds=seconds,
        served=stats["served"],
        rejected=stats["rejected"],
        failed=failed,
        exactly_once=sorted(seen) == list(range(items)) and set(seen.values()) == {1},
        refused_after_change=after,
        final_limit=limits[-1] if limits else None,
    )


def measure(
    args: argparse.Namespace, capacity: int, concurrency: int | str, *, halve: bool = False
) -> list[Run]:
    runs = []
    queue_limit = round(args.queue_factor * capacity)
    for _ in range(args.runs):
        # A fresh server per run: its counters, queue and store start empty.
        with server_process(capacity, args.service_time, queue_limit, args.overload) as server:
            runs.append(
                asyncio.run(
                    one_run(
                        server,
                        args.items,
                        concurrency,
                        halve_at=args.items // 3 if halve else None,
                        capacity=capacity,
                    )
                )
            )
    return runs


def median(runs: list[Run], key: str) -> float:
    return statistics.median(float(getattr(r, key)) for r in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--capacities", default="4,16,64")
    parser.add_argument("--service-time", type=float, default=0.020)
    parser.add_argument("--queue-factor", type=float, default=1.0, help="queue limit / capacity")
    parser.add_argument("--overload", choices=("503", "429"), default="503")
    args = parser.parse_args()
    steady_allocator()
    capacities = [int(c) for c in args.capacities.split(",")]
    print(
        f"{args.items} items, service time {args.service_time * 1000:g} ms, queue "
        f"{args.queue_factor:g} x capacity, overload {args.overload}, {args.runs} runs each "
        "(medians); the server in its own process"
    )
    print()
    print(
        "| capacity | best fixed | its time | auto time | auto / best | auto refused | auto final limit | concurrency 8 / best | halved: refusals stop after | halved: exactly once, failed |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for capacity in capacities:
        sweep = sorted(
            {capacity, capacity + 2, capacity * 5 // 4, capacity * 3 // 2, capacity * 2, 8}
        )
        fixed = {c: measure(args, capacity, c) for c in sweep}
        for c, runs in fixed.items():
            print(
                f"  fixed {c}: median {median(runs, 'seconds'):.2f}s, refused "
                f"{median(runs, 'rejected_share'):.2%}, failed {median(runs, 'failed'):.0f}",
                file=sys.stderr,
            )
        best_c, best = min(
            ((c, runs) for c, runs in fixed.items() if all(r.failed == 0 for r in runs)),
            key=lambda cr: median(cr[1], "seconds"),
        )
        auto = measure(args, capacity, "auto")
        halved = measure(args, capacity, "auto", halve=True)
        best_t = median(best, "seconds")
        ratio = median(auto, "seconds") / best_t
        refused = median(auto, "rejected_share")
        stop = max(r.refused_after_change or 0.0 for r in halved)
        once = all(r.exactly_once for r in halved)
        halved_failed = sum(r.failed for r in halved)
        default = median(fixed[8], "seconds") / best_t
        final = statistics.median(r.final_limit or 0 for r in auto)
        ok &= (
            ratio <= 1.15
            and refused <= 0.01
            and stop <= 5.0
            and once
            and all(r.failed == 0 for r in auto)
        )
        print(
            f"| {capacity} | {best_c} | {best_t:.2f}s | {median(auto, 'seconds'):.2f}s | "
            f"{ratio:.3f}x | {refused:.2%} | {final:.0f} | {default:.2f}x | "
            f"{stop:.2f}s (max of runs) | {'yes' if once else 'NO'}, {halved_failed} |",
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
