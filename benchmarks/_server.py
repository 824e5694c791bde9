"""Run the fake server in a process of its own for the benchmarks.

A server sharing the client's event loop would slow ours and the floor alike but blur
the ratio; in its own process it behaves like the remote end it stands for. It prints
its base URL, then serves until its stdin closes.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def fake_server_process() -> Iterator[str]:
    """Start the server process; yield its base URL; stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the fake server did not start: {base_url!r}")
        yield base_url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
