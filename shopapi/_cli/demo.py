"""``python -m shopapi demo``: a bulk update against the built-in fake server, in two parts.

The second part (alone: ``python -m shopapi demo --adaptive``) shows adaptive
concurrency: a bulk update with ``concurrency="auto"`` against a capacity-limited fake
server whose capacity changes during the run, and a text plot of how the limit followed it.

It needs no credentials and no network beyond 127.0.0.1: it starts
:class:`shopapi.testing.FakeShopServer` in-process, seeds conversations, scripts the
faults a real tenant shows (503s, a 429 with ``Retry-After``, a dropped connection) and
mixes in invalid items, then runs ``update_many`` and says what happened.
"""

from __future__ import annotations

import collections
import logging
import sys
import time
from typing import IO

from .._protocol.retry import RetryPolicy
from .._resources.message_conversations import MessageConversationChanges
from .._session.client import ShopApiClient
from .._wire.enums import PlatformKindEnum
from ..codecs import Codec, JsonCodec, XmlCodec
from .terminal import printable

__all__ = ["run_demo"]


class _RetryCounter(logging.Handler):
    """Counts the client's INFO "retrying" records, by reason."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.reasons: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying "):
            reason = record.args[2] if isinstance(record.args, tuple) else "?"
            self.reasons[str(reason)] += 1


async def run_demo(
    *, items: int = 300, concurrency: int = 16, fmt: str = "json", out: IO[str] | None = None
) -> int:
    """Run the demo; return 0 when every outcome was the expected one."""
    from ..testing import FakeShopServer, Fault

    out = out or sys.stdout
    username, password = "demo", "demo-password"
    codec: Codec = XmlCodec() if fmt == "xml" else JsonCodec()
    async with FakeShopServer(username=username, password=password) as server:
        conversations = server.seed(items, shop_id=1)
        # Faults, scripted per conversation so the story does not depend on timing.
        ids = [c.id for c in conversations]
        for cid in ids[5:15]:
            server.inject(Fault.status(503), conversation_id=cid)
        for cid in ids[20:23]:
            server.inject(Fault.status(503), Fault.status(502), conversation_id=cid)
        # Sliced, not indexed: a small --items runs the faults that fit.
        for cid in ids[30:31]:
            server.inject(Fault.status(429, retry_after=1), conversation_id=cid)
        for cid in ids[40:41]:
            server.inject(Fault.drop(), conversation_id=cid)
        for cid in ids[41:42]:
            server.inject(Fault.drop(after_body=True), conversation_id=cid)
        invalid = set(ids[50:54])

        def changes() -> list[MessageConversationChanges]:
            out_items = []
            for conv in conversations:
                note = f"demo update of conversation {conv.id}"
                if conv.id in invalid:
                    # Too long for the API's 50-character limit: refused before sending.
                    out_items.append(conv.to_changes(customer_email="x" * 60 + "@example.com"))
                else:
                    out_items.append(conv.to_changes(note=note, rating=5))
            return out_items

        counter = _RetryCounter()
        log = logging.getLogger("shopapi")
        previous_level = log.level
        log.addHandler(counter)
        log.setLevel(logging.INFO)
        policy = RetryPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=0.5)
        saved = 0
        failures: list[tuple[int, str]] = []
        started = time.monotonic()
        try:
            async with ShopApiClient(
                server.base_url, auth=(username, password), codec=codec, retry=policy
            ) as client:
                out.write(
                    f"shopapi demo: updating {items} conversations on the fake server at "
                    f"{server.base_url} ({fmt}, concurrency {concurrency})\n"
                )
                results = client.message_conversations.update_many(
                    changes(), concurrency=concurrency
                )
                async for result in results:
                    if result.ok:
                        saved += 1
                    else:
                        error = result.error
                        failures.append((result.changes.id, f"{type(error).__name__}: {error}"))
        finally:
            log.removeHandler(counter)
            log.setLevel(previous_level)
        elapsed = time.monotonic() - started

    requests = sum(server.put_count(i) for i in ids)
    retried_items = sum(1 for i in ids if server.put_count(i) > 1)
    client_retries = sum(counter.reasons.values())
    # aiohttp itself resends an idempotent request once when a kept-alive connection
    # drops (RFC 9112 allows it); those resends never reach the client's retry policy.
    resends = requests - (items - len(invalid)) - client_retries
    out.write(f"  saved:   {saved} of {items}\n")
    reasons = ", ".join(f"{n} after {r}" for r, n in counter.reasons.most_common())
    out.write(
        f"  retried: {retried_items} items needed more than one attempt: "
        f"{client_retries} retries by the client ({reasons})"
        + (f", {resends} resent by aiohttp after a dropped connection" if resends else "")
        + "\n"
    )
    out.write(f"  failed:  {len(failures)}\n")
    for cid, why in sorted(failures):
        out.write(f"    conversation {cid}: {printable(why)}\n")  # server text: escaped
    out.write(
        f"  {requests} requests reached the server in {elapsed:.2f}s "
        f"({requests / elapsed:.0f} requests/s, {items / elapsed:.0f} items/s; "
        f"the 429 paused every worker for its Retry-After of 1s)\n"
    )
    stored_ok = all(
        (c := server.get(1, i)) is not None and (i in invalid or c.rating == 5) for i in ids
    )
    expected = saved == items - len(invalid) and {cid for cid, _ in failures} == invalid
    if not (expected and stored_ok):
        out.write("  UNEXPECTED: the outcome differs from the scripted faults\n")
        return 1
    out.write("  every item was reported exactly once; nothing was lost\n")
    return 0


def text_plot(
    limits: list[tuple[float, int]],
    capacities: list[tuple[float, int]],
    end: float,
    *,
    width: int = 60,
    height: int = 10,
) -> str:
    """The limit over time as ``*``, the server's capacity as ``-``, in a text grid.

    Args:
        limits: ``(seconds since the start, limit)`` at each change, the first at 0.
        capacities: ``(seconds, capacity)`` at each change, the first at 0.
        end: The run's length in seconds.
        width: Columns of the time axis.
        height: Rows of the value axis.
    """

    def at(series: list[tuple[float, int]], t: float) -> int:
        value = series[0][1]
        for when, v in series:
            if when > t:
                break
            value = v
        return value

    times = [end * (i + 0.5) / width for i in range(width)]
    limit_cols = [at(limits, t) for t in times]
    capacity_cols = [at(capacities, t) for t in times]
    top = max(max(limit_cols), max(capacity_cols), 1)
    scale = top / height

    def row_of(value: int) -> int:
        return min(height - 1, max(0, round(value / scale) - 1))

    grid = [[" "] * width for _ in range(height)]
    for col in range(width):
        grid[row_of(capacity_cols[col])][col] = "-"
        grid[row_of(limit_cols[col])][col] = "*"
    lines = []
    for r in range(height - 1, -1, -1):
        label = f"{(r + 1) * scale:5.0f}" if r in (height - 1, height // 2, 0) else "     "
        lines.append(f"{label} |{''.join(grid[r]).rstrip()}")
    lines.append("      +" + "-" * width)
    ticks = [" "] * (width + 8)
    free = 0  # the first column a tick may start at: ticks keep a space between them
    for second in range(int(end) + 1):
        col = int(second / end * width) if end else 0
        text = f"{second}s"
        if col >= free and col + len(text) <= width:
            ticks[7 + col : 7 + col + len(text)] = text
            free = col + len(text) + 1
    lines.append("".join(ticks).rstrip())
    return "\n".join(lines)


async def run_adaptive_demo(*, items: int = 2400, out: IO[str] | None = None) -> int:
    """Run ``update_many(concurrency="auto")`` against a server whose capacity changes
    twice, and plot how the limit followed it; return 0 when every item was saved once."""
    from ..testing import FakeShopServer

    out = out or sys.stdout
    username, password = "demo", "demo-password"
    service_time, start_capacity = 0.01, 8
    changes_at = {items // 3: 4, 2 * items // 3: 16}
    async with FakeShopServer(
        username=username,
        password=password,
        record=False,
        create_missing=True,
        capacity=start_capacity,
        service_time=service_time,
        queue_limit=start_capacity,
    ) as server:
        out.write(
            f"shopapi demo: updating {items} conversations with concurrency='auto' on a fake "
            f"server that serves {start_capacity} requests at once ({service_time * 1000:g} ms "
            f"each) and queues {start_capacity} more;\nits capacity drops to 4 a third of the "
            "way through, then rises to 16.\n"
        )
        started = time.monotonic()
        limits: list[tuple[float, int]] = [(0.0, 4)]
        capacities: list[tuple[float, int]] = [(0.0, start_capacity)]
        seen: collections.Counter[int] = collections.Counter()
        saved = 0
        async with ShopApiClient(server.base_url, auth=(username, password)) as client:
            results = client.message_conversations.update_many(
                (
                    MessageConversationChanges(
                        id=i,
                        shop_id=1,
                        platform_kind_enum_value=PlatformKindEnum.FlowAi,
                        note=f"auto {i}",
                    )
                    for i in range(1, items + 1)
                ),
                concurrency="auto",
                on_limit_change=lambda limit: limits.append((time.monotonic() - started, limit)),
            )
            async for result in results:
                seen[result.index] += 1
                saved += result.ok
                new_capacity = changes_at.get(sum(seen.values()))
                if new_capacity is not None:
                    server.capacity = new_capacity
                    capacities.append((time.monotonic() - started, new_capacity))
        elapsed = time.monotonic() - started
        load = server.load()
    out.write("\nconcurrency limit (*) and the server's capacity (-):\n\n")
    out.write(text_plot(limits, capacities, elapsed) + "\n\n")
    served = load.served + load.rejected
    out.write(
        f"  saved {saved} of {items} in {elapsed:.2f}s; the limit changed {len(limits) - 1} "
        f"times; {load.rejected} of {served} requests were refused "
        f"({load.rejected / max(served, 1):.1%})\n"
    )
    once = sorted(seen) == list(range(items)) and set(seen.values()) == {1}
    if not (once and saved == items):
        out.write("  UNEXPECTED: some item was not saved exactly once\n")
        return 1
    out.write("  every item was reported exactly once\n")
    return 0
