"""Run the fake server in a process of its own for the benchmarks.

A server sharing the client's event loop would slow ours and the floor alike but blur
the ratio; in its own process it behaves like the remote end it stands for. It prints
its base URL, then serves until its stdin closes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from _harness import STEADY_ALLOCATOR_ENV, SetUp, Throughput

SERVER = r"""
import asyncio, sys
from shopapi.testing import FakeShopServer

async def main():
    async with FakeShopServer(username="bench", password="bench-pw", record=False,
                              create_missing=True) as server:
        print(server.base_url, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


def _pin(pid: int, cpu: int) -> bool:
    """Pin a process to one CPU, where the machine has more than one."""
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return False
    os.sched_setaffinity(pid, {cpu})
    return True


@contextmanager
def server_subprocess(source: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run a server script (``source``, which prints its base URL and serves until its
    stdin closes) in a process of its own; yield the process and the URL; stop it.

    On a machine with two or more CPUs the server is pinned to CPU 1 and this process to
    CPU 0, so the server stands for a remote host: it does not take the client's CPU,
    and ours and the floor each get one whole core for the client side.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", source, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **STEADY_ALLOCATOR_ENV},
    )
    if _pin(proc.pid, 1):
        _pin(0, 0)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the fake server did not start: {base_url!r}")
        yield proc, base_url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def fake_server_process() -> Iterator[str]:
    """The benchmarks' fake server in its own process (:func:`server_subprocess`);
    yields its base URL."""
    with server_subprocess(SERVER) as (_, base_url):
        yield base_url


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def measure_setups(
    own_core: Callable[[str, int], Coroutine[Any, Any, tuple[Throughput, Throughput]]],
    shared_loop: Callable[[int], Coroutine[Any, Any, tuple[Throughput, Throughput]]],
    concurrencies: tuple[int, ...],
) -> list[SetUp]:
    """Each concurrency against a fresh server on its own core, then in this loop."""
    results: list[SetUp] = []
    for concurrency in concurrencies:
        with fake_server_process() as base_url:
            results.append(("own core", concurrency, *asyncio.run(own_core(base_url, concurrency))))
    for concurrency in concurrencies:
        results.append(("shared loop", concurrency, *asyncio.run(shared_loop(concurrency))))
    return results
