"""The command line: ``python -m shopapi bulk-update ...`` and ``python -m shopapi demo``.

Exit status: 0 when every item was saved, 1 when some failed, 2 on usage errors,
130 when interrupted. A first Ctrl-C stops reading input and lets the items in flight
finish (so the journal has them all); a second abandons them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from typing import IO, Any

import orjson

from ._client import Limits, ShopApiClient
from ._exceptions import ApiError, DecodeError, ShopApiError, ValidationError
from ._journal import Journal, item_key
from ._models import MessageConversationChanges
from ._retry import RetryPolicy
from .codecs import Codec, JsonCodec, XmlCodec

__all__ = ["main"]

USAGE_ERROR = 2
INTERRUPTED = 130


class UsageError(Exception):
    """Bad arguments or environment: exit status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


def _concurrency(text: str) -> int | str:
    """``auto`` (adaptive) or an int >= 1."""
    if text.strip().lower() == "auto":
        return "auto"
    return _positive_int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests)."""
    parser = argparse.ArgumentParser(
        prog="shopapi", description="ShopCtrl API client: bulk updates and a demo."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bulk = commands.add_parser(
        "bulk-update",
        help="PUT every MessageConversationChanges of FILE (one JSON object per line)",
        description=(
            "Update message conversations in bulk. FILE holds one MessageConversationChanges "
            "per line in the API's JSON shape (PascalCase, as on the help page); '-' reads "
            "stdin. Credentials come from SHOPAPI_USERNAME and SHOPAPI_PASSWORD."
        ),
    )
    bulk.add_argument("file", metavar="FILE", help="input file, or - for stdin")
    bulk.add_argument(
        "--base-url", required=True, help="tenant root, e.g. https://x.shopctrl.com:52222"
    )
    bulk.add_argument("--format", choices=("json", "xml"), default="json", help="wire format")
    bulk.add_argument(
        "--concurrency",
        type=_concurrency,
        default="auto",
        help="requests in flight, or 'auto' (the default) to adapt to the server's capacity",
    )
    bulk.add_argument("--rate", type=_positive_float, default=None, help="requests per second")
    bulk.add_argument(
        "--journal", default=None, help="record saved items here; a re-run skips them"
    )
    bulk.add_argument(
        "--failures", default=None, help="write failed items here as JSON lines (default: stderr)"
    )
    bulk.add_argument("--timeout", type=_positive_float, default=30.0, help="seconds per attempt")
    bulk.add_argument("--max-attempts", type=_positive_int, default=4, help="attempts per item")

    demo = commands.add_parser(
        "demo", help="bulk-update a few hundred conversations on the built-in fake server"
    )
    demo.add_argument("--items", type=_positive_int, default=300, help="conversations to update")
    demo.add_argument("--concurrency", type=_positive_int, default=16, help="requests in flight")
    demo.add_argument("--format", choices=("json", "xml"), default="json", help="wire format")
    demo.add_argument(
        "--adaptive",
        action="store_true",
        help="show concurrency='auto' following a fake server whose capacity changes",
    )
    return parser


class Progress:
    """Progress on stderr: a redrawn bar on a terminal, periodic plain lines otherwise."""

    def __init__(self, stream: IO[str], total: int | None, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.total = total
        self.tty = stream.isatty() if tty is None else tty
        self.interval = 0.1 if self.tty else 2.0
        self.started = time.monotonic()
        self._last = 0.0
        self.saved = self.failed = self.skipped = 0

    def line(self) -> str:
        done = self.saved + self.failed
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = done / elapsed
        text = f"{done} done ({self.saved} saved, {self.failed} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        text += f"), {rate:.1f}/s"
        if self.total:
            remaining = max(self.total - done - self.skipped, 0)
            eta = remaining / rate if rate > 0 else float("inf")
            width = 24
            filled = int(width * min(1.0, (done + self.skipped) / self.total))
            bar = "#" * filled + "." * (width - filled)
            eta_text = f"{eta:.0f}s" if eta != float("inf") else "?"
            text = f"[{bar}] {done + self.skipped}/{self.total} " + text + f", ETA {eta_text}"
        return text

    def tick(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line())
        else:
            self.stream.write("progress: " + self.line() + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Write a line without breaking the bar."""
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def describe_error(error: BaseException) -> dict[str, Any]:
    """A failure as plain data for the failures report."""
    out: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
    if isinstance(error, ApiError):
        out["status"] = error.status
        if error.model_state:
            out["modelState"] = {k: list(v) for k, v in error.model_state.items()}
    if isinstance(error, ValidationError):
        out["fields"] = list(error.fields)
    return out


class _Report:
    def __init__(self, progress: Progress, failures: IO[bytes] | None) -> None:
        self.progress = progress
        self.failures = failures

    def failed(self, line: int, changes: Any, error: BaseException) -> None:
        self.progress.failed += 1
        record: dict[str, Any] = {"line": line}
        if isinstance(changes, MessageConversationChanges):
            record["shopId"] = changes.shop_id
            record["id"] = changes.id
        record.update(describe_error(error))
        if self.failures is not None:
            self.failures.write(orjson.dumps(record) + b"\n")
            self.failures.flush()
        else:
            where = f"line {line}"
            if "id" in record:
                where += f" (shop {record['shopId']}, conversation {record['id']})"
            self.progress.message(f"failed: {where}: {record['error']}: {record['message']}")


def _count_lines(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            return sum(1 for raw in f if raw.strip())
    except OSError:
        return None


async def _lines(stream: IO[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """Numbered lines, read in a thread in 64 KiB batches so a slow pipe never stalls
    the event loop."""
    number = 0
    while True:
        batch = await asyncio.to_thread(stream.readlines, 64 * 1024)
        if not batch:
            return
        for raw in batch:
            number += 1
            yield number, raw


async def bulk_update(
    args: argparse.Namespace,
    *,
    stdin: IO[bytes],
    stderr: IO[str],
    env: dict[str, str],
) -> int:
    """Run ``bulk-update``; return the exit status."""
    username = env.get("SHOPAPI_USERNAME")
    password = env.get("SHOPAPI_PASSWORD")
    if not username or password is None:
        raise UsageError("set SHOPAPI_USERNAME and SHOPAPI_PASSWORD in the environment")
    if args.file == "-":
        source_stream, total = stdin, None
    else:
        try:
            source_stream = open(args.file, "rb")  # noqa: SIM115, ASYNC230 - once, at start; closed below
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
        total = _count_lines(args.file)
    codec: Codec = XmlCodec() if args.format == "xml" else JsonCodec()
    reader = JsonCodec()
    failures_file = None
    journal = None
    try:
        if args.failures:
            try:
                failures_file = open(args.failures, "ab")  # noqa: SIM115, ASYNC230 - once, at start
            except OSError as exc:
                raise UsageError(f"cannot write {args.failures}: {exc.strerror}") from None
        if args.journal:
            try:
                journal = Journal(args.journal)
            except OSError as exc:
                raise UsageError(f"cannot use journal {args.journal}: {exc.strerror}") from None
        progress = Progress(stderr, total)
        report = _Report(progress, failures_file)
        in_flight: dict[int, tuple[int, str]] = {}
        next_index = 0

        stopping = False
        loop = asyncio.get_running_loop()
        job = asyncio.current_task()

        def on_interrupt() -> None:
            # First Ctrl-C: read no more input, let the items in flight finish and be
            # journaled, so a re-run redoes none of them. Second: abandon them.
            nonlocal stopping
            if stopping:
                loop.remove_signal_handler(signal.SIGINT)
                if job is not None:
                    job.cancel()
                return
            stopping = True
            progress.message(
                "shopapi: interrupted; finishing the items in flight (Ctrl-C again to abandon them)"
            )

        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, on_interrupt)

        async def items() -> AsyncIterator[MessageConversationChanges]:
            nonlocal next_index
            async for number, raw in _lines(source_stream):
                if stopping:
                    return
                if not raw.strip():
                    continue
                key = item_key(raw)
                if journal is not None and key in journal:
                    progress.skipped += 1
                    continue
                try:
                    changes = reader.decode(raw, MessageConversationChanges)
                except DecodeError as exc:
                    report.failed(number, None, exc)
                    continue
                in_flight[next_index] = (number, key)
                next_index += 1
                yield changes

        try:
            client = ShopApiClient(
                args.base_url,
                auth=(username, password),
                codec=codec,
                timeout=args.timeout,
                retry=RetryPolicy(max_attempts=args.max_attempts),
                limits=Limits(rate=args.rate),
            )
        except ShopApiError as exc:
            raise UsageError(str(exc)) from None
        async with client:
            results = client.message_conversations.update_many(
                items(), concurrency=args.concurrency
            )
            try:
                async for result in results:
                    number, key = in_flight.pop(result.index)
                    if result.ok:
                        progress.saved += 1
                        if journal is not None:
                            journal.record(
                                key,
                                line=number,
                                shopId=result.changes.shop_id,
                                id=result.changes.id,
                            )
                    else:
                        assert result.error is not None
                        report.failed(number, result.changes, result.error)
                    progress.tick()
            finally:
                await results.aclose()
        progress.finish()
        elapsed = time.monotonic() - progress.started
        done = progress.saved + progress.failed
        stderr.write(
            f"saved {progress.saved}, failed {progress.failed}, "
            f"skipped {progress.skipped} (already in the journal), "
            f"in {elapsed:.1f}s ({done / max(elapsed, 1e-9):.1f} items/s)\n"
        )
        if stopping:
            stderr.write("shopapi: interrupted; the journal keeps every item saved so far\n")
            stderr.flush()
            return INTERRUPTED
        stderr.flush()
        return 0 if progress.failed == 0 else 1
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        if journal is not None:
            journal.close()
        if failures_file is not None:
            failures_file.close()
        if source_stream is not stdin:
            source_stream.close()


def main(argv: Sequence[str] | None = None) -> int:
    """The ``shopapi`` console script and ``python -m shopapi``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "bulk-update":
            return asyncio.run(
                bulk_update(args, stdin=sys.stdin.buffer, stderr=sys.stderr, env=dict(os.environ))
            )
        from ._demo import run_adaptive_demo, run_demo

        if args.adaptive:
            return asyncio.run(run_adaptive_demo())
        return asyncio.run(
            run_demo(items=args.items, concurrency=args.concurrency, fmt=args.format)
        )
    except UsageError as exc:
        parser.exit(USAGE_ERROR, f"shopapi: error: {exc}\n")
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.stderr.write("\nshopapi: interrupted; the journal keeps every item saved so far\n")
        return INTERRUPTED
