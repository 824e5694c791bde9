"""The fault matrix: every fault the fake server can inject, against ``update()`` and
``update_many()``, in JSON and XML, with the figures each cell must produce.

``tests/test_reliability_faults.py`` runs every cell and checks its figures;
``python -m tests.fault_matrix`` (``nox -s fault_matrix``) runs them all and prints the
measured table that RELIABILITY.md carries, so the table is measured, not typed.

A cell injects its faults into every item (one item for ``update()``, ``ITEMS`` for
``update_many()``), then checks the outcome, the attempts the server saw
(``put_count``), the attempts the client made (its DEBUG records), the saves, one
result per item, the stored value, and that no "Unclosed" warning was emitted.

aiohttp 3.14 resends an idempotent request once, silently, after the connection drops
(``ServerDisconnectedError``/``ClientOSError``): one ``Fault.drop`` costs the server two
PUTs and the client one attempt; two drops make the client retry once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Literal

from shopapi import (
    JsonCodec,
    MessageConversationChanges,
    RetryPolicy,
    ShopApiClient,
    XmlCodec,
)
from shopapi.codecs import Codec
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "matrix", "matrix-pw"
ITEMS = 4
MAX_ATTEMPTS = 4
TIMEOUT = 0.25
STALL = 0.5
POLICY = RetryPolicy(max_attempts=MAX_ATTEMPTS, initial_backoff=0.01, max_backoff=0.02)
Format = Literal["json", "xml"]
Api = Literal["update", "update_many"]
FORMATS: tuple[Format, ...] = ("json", "xml")
APIS: tuple[Api, ...] = ("update", "update_many")


def _http_date_soon() -> str:
    """An HTTP date one second ahead (whole seconds: the wait is in (0, 1] s)."""
    return format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)


def _malformed(fmt: Format) -> Fault:
    return Fault.malformed(b'{"Id": 1,' if fmt == "json" else b"<MessageConversation><Id>1</Id")


def _status_once(code: int) -> Callable[[Format], Sequence[Fault]]:
    """One answer with status ``code``, in either format."""
    return lambda _: [Fault.status(code)]


@dataclass(frozen=True)
class Cell:
    """One fault and what every item hit by it must come to.

    ``outcome`` is ``"saved"`` or the exact exception type's name; ``puts`` is what the
    server sees per item (``None``: no server listens); ``attempts`` is what the client
    makes; ``saves`` is what the server stores (a stalled PUT lands after the client
    gave up on it, so it counts twice).
    """

    fault: str
    faults: Callable[[Format], Sequence[Fault]]
    outcome: str
    puts: int | None
    attempts: int
    saves: int


CELLS: tuple[Cell, ...] = (
    *(
        Cell(f"{code} once", _status_once(code), "saved", 2, 2, 1)
        for code in (500, 502, 503, 504)
    ),
    Cell(
        "503 on every attempt",
        lambda _: [Fault.status(503)] * MAX_ATTEMPTS,
        "ServerError",
        MAX_ATTEMPTS,
        MAX_ATTEMPTS,
        0,
    ),
    Cell("429, Retry-After: 1 (seconds)", lambda _: [Fault.status(429, retry_after=1)],
         "saved", 2, 2, 1),
    Cell("429, Retry-After: HTTP date (+1 s)",
         lambda _: [Fault.status(429, retry_after=_http_date_soon())], "saved", 2, 2, 1),
    Cell("408 once", lambda _: [Fault.status(408)], "saved", 2, 2, 1),
    Cell("connection refused (closed port)", lambda _: [], "ConnectError", None, MAX_ATTEMPTS, 0),
    Cell("drop before the body, once", lambda _: [Fault.drop()], "saved", 2, 1, 1),
    Cell("drop before the body, twice", lambda _: [Fault.drop()] * 2, "saved", 3, 2, 1),
    Cell("drop after the body, once", lambda _: [Fault.drop(after_body=True)], "saved", 2, 1, 1),
    Cell("drop after the body, twice", lambda _: [Fault.drop(after_body=True)] * 2,
         "saved", 3, 2, 1),
    Cell(f"drop on every attempt ({2 * MAX_ATTEMPTS} drops)",
         lambda _: [Fault.drop()] * (2 * MAX_ATTEMPTS), "ConnectError",
         2 * MAX_ATTEMPTS, MAX_ATTEMPTS, 0),
    Cell(f"stall {STALL} s > timeout {TIMEOUT} s", lambda _: [Fault.delay(STALL)],
         "saved", 2, 2, 2),
    Cell("truncated body", lambda _: [Fault.truncated()], "saved", 2, 2, 1),
    Cell("wrong Content-Type (text/html)", lambda _: [Fault.wrong_content_type()],
         "DecodeError", 1, 1, 0),
    Cell("malformed body", lambda fmt: [_malformed(fmt)], "DecodeError", 1, 1, 0),
    Cell("200 for another conversation", lambda _: [Fault.other_conversation()],
         "ResponseMismatchError", 1, 1, 0),
)  # fmt: skip


@dataclass(frozen=True)
class Measured:
    """What one cell did."""

    outcomes: tuple[str, ...]  # one per result, in item order
    results: int
    indices: tuple[int, ...]
    puts: tuple[int, ...] | None
    attempts: tuple[int, ...]
    saves: tuple[int, ...]
    stored_ok: bool  # every saved item holds exactly its changes on the server
    unclosed: int
    seconds: float


class _AttemptCounter(logging.Handler):
    """Counts the client's attempts per path: it logs one DEBUG record per attempt."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_path: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.DEBUG and str(record.msg).startswith("%s %s -> "):
            self.by_path[str(record.args[1])] += 1  # type: ignore[index]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _codec(fmt: Format) -> Codec:
    return JsonCodec() if fmt == "json" else XmlCodec()


async def _settle(server: FakeShopServer, ids: Sequence[int], saves: int) -> None:
    """Wait (at most 2 s) for stalled PUTs, which land after the client gave up."""
    loop = asyncio.get_running_loop()
    end = loop.time() + 2.0
    while loop.time() < end and any(server.saves(i) < saves for i in ids):  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def run_cell(cell: Cell, fmt: Format, api: Api) -> Measured:
    """Run one cell against a fresh fake server and a fresh client."""
    ids = [1] if api == "update" else list(range(1, ITEMS + 1))
    counter = _AttemptCounter()
    logger = logging.getLogger("shopapi")
    old_level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    started = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with FakeShopServer(username=USER, password=PASSWORD) as server:
                server.seed(ITEMS, shop_id=1)
                changes = {}
                for cid in ids:
                    stored = server.get(1, cid)
                    assert stored is not None
                    changes[cid] = stored.to_changes(note=f"matrix {cid}", rating=cid)
                    server.inject(*cell.faults(fmt), conversation_id=cid)
                refused = cell.puts is None
                base = f"http://127.0.0.1:{_free_port()}" if refused else server.base_url
                outcomes = await _drive(base, fmt, api, [changes[c] for c in ids])
                if cell.saves > 1:
                    await _settle(server, ids, cell.saves)
                puts = None if refused else tuple(server.put_count(c) for c in ids)
                saves = tuple(server.saves(c) for c in ids)
                stored_ok = all(
                    server.get(1, c) is not None and server.get(1, c).to_changes() == changes[c]  # type: ignore[union-attr]
                    for c, (_, outcome) in zip(ids, outcomes, strict=True)
                    if outcome == "saved"
                )
            await asyncio.sleep(0)
            gc.collect()
        unclosed = sum(1 for w in caught if "Unclosed" in str(w.message))
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    paths = [f"/v1/Shops/1/MessageConversations/{c}" for c in ids]
    # The client's paths are relative to the base URL (no leading slash) in its records.
    attempts = tuple(counter.by_path[p] or counter.by_path[p.lstrip("/")] for p in paths)
    return Measured(
        outcomes=tuple(o for _, o in sorted(outcomes)),
        results=len(outcomes),
        indices=tuple(sorted(i for i, _ in outcomes)),
        puts=puts,
        attempts=attempts,
        saves=saves,
        stored_ok=stored_ok,
        unclosed=unclosed,
        seconds=time.perf_counter() - started,
    )


async def _drive(
    base_url: str, fmt: Format, api: Api, items: list[MessageConversationChanges]
) -> list[tuple[int, str]]:
    """Send ``items``; return ``(index, outcome)`` for every result the API gave."""
    out: list[tuple[int, str]] = []
    async with ShopApiClient(
        base_url, auth=(USER, PASSWORD), codec=_codec(fmt), retry=POLICY, timeout=TIMEOUT
    ) as client:
        if api == "update":
            (item,) = items
            try:
                await client.message_conversations.update(1, item.id, item)
            except Exception as exc:  # noqa: BLE001 - the outcome is what is measured
                out.append((0, type(exc).__name__))
            else:
                out.append((0, "saved"))
        else:
            async for result in client.message_conversations.update_many(items, concurrency=ITEMS):
                out.append((result.index, "saved" if result.ok else type(result.error).__name__))
    return out


def expected_puts(cell: Cell) -> str:
    return "-" if cell.puts is None else str(cell.puts)


async def _table() -> str:
    rows = [
        "| fault | format | API | outcome per item | server PUTs per item | client attempts "
        "per item | saves per item | results / items | unclosed | time |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    failures = 0
    for cell in CELLS:
        for fmt in FORMATS:
            for api in APIS:
                m = await run_cell(cell, fmt, api)
                items = 1 if api == "update" else ITEMS
                ok = (
                    set(m.outcomes) == {cell.outcome}
                    and m.results == items
                    and m.indices == tuple(range(items))
                    and (m.puts is None) == (cell.puts is None)
                    and (m.puts is None or set(m.puts) == {cell.puts})
                    and set(m.attempts) == {cell.attempts}
                    and set(m.saves) == {cell.saves}
                    and m.stored_ok
                    and m.unclosed == 0
                )
                failures += not ok
                puts = "-" if m.puts is None else "/".join(sorted({str(p) for p in m.puts}))
                rows.append(
                    f"| {cell.fault} | {fmt.upper()} | `{api}` | "
                    f"{'/'.join(sorted(set(m.outcomes)))} | {puts} | "
                    f"{'/'.join(sorted({str(a) for a in m.attempts}))} | "
                    f"{'/'.join(sorted({str(s) for s in m.saves}))} | "
                    f"{m.results} / {items} | {m.unclosed} | {m.seconds:.2f} s |"
                    + ("" if ok else " **UNEXPECTED**")
                )
    rows.append("")
    rows.append(f"{len(CELLS) * len(FORMATS) * len(APIS)} cells, {failures} unexpected.")
    return "\n".join(rows)


def main() -> int:
    """Print the measured matrix as a Markdown table; exit 1 if a cell is unexpected."""
    table = asyncio.run(_table())
    print(table)
    return 0 if table.endswith(" 0 unexpected.") else 1


if __name__ == "__main__":
    sys.exit(main())
