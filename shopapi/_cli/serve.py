"""``shopapi serve``: the fake server as a process, to try the command line on.

It prints the three ``SHOPAPI_*`` variables on stdout, ready to ``export`` in another
terminal, then serves until Ctrl-C or SIGTERM, and ends with status 0 and no traceback.
It keeps no record of the requests, so it can run for as long as one likes. The
credentials it prints are the fake server's own, made up for it: printing them is the
point. It binds to loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import IO

from .._resources import RESOURCES
from .._resources.spec import Role
from ..testing import FakeShopServer
from .common import ENV_BASE_URL, ENV_PASSWORD, ENV_USERNAME

__all__ = ["serve"]

#: Messages stored in each seeded conversation, so that ``export-messages`` has some.
MESSAGES_PER_CONVERSATION = 3


def seed_every_resource(server: FakeShopServer, seed: int, shop: int) -> None:
    """Store sample data for every read of every other resource, so that each command
    has something to show: ``seed`` items in each list and one item for each single read,
    at the paths whose shop id is ``shop`` and whose every other id or code is 1."""
    if not seed:
        return
    for resource in RESOURCES:
        if resource.name == "message_conversations":
            continue  # seeded above, with their messages
        for endpoint in resource.endpoints:
            if endpoint.role not in (Role.LIST, Role.GET):
                continue
            values = {
                p.name: shop if p.wire == "shopId" else (1 if p.type is int else "1")
                for p in endpoint.params
            }
            server.seed_endpoint(endpoint, values, seed if endpoint.role is Role.LIST else 1)


async def serve(
    *,
    port: int,
    seed: int,
    shop: int,
    fault_rate: float,
    latency: float,
    username: str,
    password: str,
    stdout: IO[str],
    stderr: IO[str],
    stop: asyncio.Event | None = None,
) -> int:
    """Serve until ``stop`` is set, or SIGINT or SIGTERM arrives.

    Args:
        port: The port (0: a free one).
        seed: Sample conversations to store in ``shop`` (ids 1..seed), each with
            :data:`MESSAGES_PER_CONVERSATION` messages, and as many items in every other
            list (:func:`seed_every_resource`).
        shop: Their shop id.
        fault_rate: The probability that a request gets a transient 503 (seeded draws,
            so a run is reproducible).
        latency: Seconds every request takes.
        username: The user name it accepts.
        password: Its password.
        stdout: Where the variables go.
        stderr: Where the human-readable lines go.
        stop: Set to stop (tests); signals stop it too.
    """
    stop = stop if stop is not None else asyncio.Event()
    server = FakeShopServer(
        username=username, password=password, port=port, latency=latency, record=False
    )
    server.seed(seed, shop_id=shop)
    for conversation_id in range(1, seed + 1):
        server.seed_messages(shop, conversation_id, MESSAGES_PER_CONVERSATION)
    seed_every_resource(server, seed, shop)
    if fault_rate:
        server.fault_rate(transient=fault_rate, seed=0)
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        async with server:
            stdout.write(
                f"{ENV_BASE_URL}={server.base_url}\n{ENV_USERNAME}={username}\n"
                f"{ENV_PASSWORD}={password}\n"
            )
            stdout.flush()
            stderr.write(
                f"shopapi serve: the fake server at {server.base_url}: {seed} conversations "
                f"in shop {shop} and {seed} items in every other list (other ids and codes "
                f"1), fault rate {fault_rate}, latency {latency}s; Ctrl-C stops\n"
            )
            stderr.flush()
            await stop.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    stderr.write("shopapi serve: stopped\n")
    stderr.flush()
    return 0
