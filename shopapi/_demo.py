"""``python -m shopapi demo``: a bulk update against the built-in fake server.

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

from ._client import ShopApiClient
from ._models import MessageConversationChanges
from ._retry import RetryPolicy
from ._terminal import printable
from .codecs import Codec, JsonCodec, XmlCodec

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
    from .testing import FakeShopServer, Fault

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
