"""The command line: ``python -m shopapi bulk-update ...`` and ``python -m shopapi demo``.

Exit status (the README's table): 0 every item saved, 1 some failed, 2 usage error,
3 the journal belongs to another job, 4 the journal is in use by another process,
5 stopped at a fatal error (no item could succeed), 6 the journal or the failures file
could not be written, 130 interrupted, 141 the output pipe was closed. A first Ctrl-C
stops reading input and lets the items in flight finish (so the journal has them all);
a second abandons them.
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

import attrs

from .._exceptions import (
    ApiError,
    AuthenticationError,
    DecodeError,
    PermissionDeniedError,
    ShopApiError,
    ValidationError,
)
from .._protocol.retry import RetryPolicy
from .._session.client import Limits, ShopApiClient
from ..codecs import Codec, JsonCodec, XmlCodec
from .input import ALLOW_UNKNOWN_OPTION, FAILURE_KEY, InputItem, failure_record, read_item
from .journal import (
    Journal,
    JournalError,
    JournalLockedError,
    JournalMismatchError,
    JournalWriteError,
    input_digest,
    job_record,
)
from .ordering import KeyedQueue
from .terminal import printable

__all__ = ["main"]

SOME_FAILED = 1
USAGE_ERROR = 2
JOURNAL_MISMATCH = 3
JOURNAL_LOCKED = 4
FATAL = 5
WRITE_FAILED = 6
INTERRUPTED = 130
#: What a shell reports for a program killed by SIGPIPE (128 + 13): ``| head`` closed it.
BROKEN_PIPE = 141

#: Input lines read ahead while waiting for an earlier line of the same conversation.
MAX_WAITING = 1024
#: Unknown member names warned about, at most (``--allow-unknown-members``).
MAX_WARNINGS = 100


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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shopapi")
    except PackageNotFoundError:  # run from a source tree that is not installed
        from .. import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests)."""
    parser = argparse.ArgumentParser(
        prog="shopapi", description="ShopCtrl API client: bulk updates and a demo."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="show the version"
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
        "--journal",
        default=None,
        help="record saved items here; a re-run of the same job skips them (FILE only)",
    )
    bulk.add_argument(
        "--failures",
        default=None,
        help=(
            "write the items not saved here, as input lines for the next run, each with "
            f"its error under {FAILURE_KEY!r}; truncated at start (default: stderr)"
        ),
    )
    bulk.add_argument("--timeout", type=_positive_float, default=30.0, help="seconds per attempt")
    bulk.add_argument("--max-attempts", type=_positive_int, default=4, help="attempts per item")
    bulk.add_argument(
        ALLOW_UNKNOWN_OPTION,
        action="store_true",
        help=(
            "accept input members this version does not know (exports from a newer "
            "server); they cannot be sent yet, so they are left out, with a warning"
        ),
    )

    demo = commands.add_parser(
        "demo", help="bulk-update a few hundred conversations on the built-in fake server"
    )
    demo.add_argument("--items", type=_positive_int, default=300, help="conversations to update")
    demo.add_argument("--concurrency", type=_positive_int, default=16, help="requests in flight")
    demo.add_argument("--format", choices=("json", "xml"), default="json", help="wire format")
    demo.add_argument(
        "--adaptive",
        action="store_true",
        help="only the second part: concurrency='auto' following a fake server whose "
        "capacity changes (the plain demo runs both parts)",
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
    if isinstance(error, DecodeError) and error.field is not None:
        out["field"] = error.field
    return out


def is_fatal(error: BaseException) -> bool:
    """Whether ``error`` means that no item of the job can succeed: the credentials
    were refused (401) or the user may not do this (403). Sending the rest would only
    repeat the same answer thousands of times."""
    return isinstance(error, AuthenticationError | PermissionDeniedError)


@attrs.define
class _Line:
    """An input line read and waiting to be sent, or sent."""

    number: int
    raw: bytes
    item: InputItem


class _OutputError(Exception):
    """The failures file could not be written."""


class _Report:
    """Where failures go: the failures file as input records, or stderr as lines."""

    def __init__(self, progress: Progress, failures: IO[bytes] | None, input_name: str) -> None:
        self.progress = progress
        self.failures = failures
        self.input_name = input_name

    def _write(self, data: bytes) -> None:
        assert self.failures is not None
        try:
            view = memoryview(data)
            while view:
                written = self.failures.write(view)
                view = view[written:]
        except OSError as exc:
            raise _OutputError(
                f"cannot write the failures file {self.failures.name}: {exc.strerror or exc}"
            ) from None

    def failed(
        self,
        line: int,
        raw: bytes,
        item: InputItem | None,
        error: BaseException,
        *,
        quiet: bool = False,
    ) -> None:
        """Report one failed line; ``quiet`` keeps it off stderr (the fatal stop's
        single message covers it)."""
        self.progress.failed += 1
        info: dict[str, Any] = {"line": line, "input": self.input_name}
        info.update(describe_error(error))
        if self.failures is not None:
            self._write(failure_record(raw, item.members if item else None, info))
        elif not quiet:
            where = f"line {line}"
            if item is not None:
                where += f" (shop {item.changes.shop_id}, conversation {item.changes.id})"
            self.progress.message(printable(f"failed: {where}: {info['error']}: {info['message']}"))

    def not_attempted(self, line: int, raw: bytes, item: InputItem | None, why: str) -> None:
        """Record a line the job stopped before sending, so the failures file has it."""
        if self.failures is not None:
            info = {"line": line, "input": self.input_name, "error": "NotAttempted"}
            info["message"] = why
            self._write(failure_record(raw, item.members if item else None, info))


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


def _check_input(path: str, failures: str | None) -> tuple[int, str]:
    """The input's line count and digest; refuse a failures file that is the input."""
    try:
        total, digest = input_digest(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    if failures and os.path.exists(failures):
        same = False
        with contextlib.suppress(OSError):
            same = os.path.samefile(failures, path)
        if same:
            raise UsageError(
                f"--failures {failures} is the input, and it is truncated at start: "
                f"rename it first (mv {failures} retry.jsonl)"
            )
    return total, digest


def _usage_or_status(exc: JournalError) -> int:
    if isinstance(exc, JournalMismatchError):
        return JOURNAL_MISMATCH
    if isinstance(exc, JournalLockedError):
        return JOURNAL_LOCKED
    return WRITE_FAILED


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
    digest = None
    if args.file == "-":
        if args.journal:
            # Its records are line numbers of one input: a pipe cannot be checked for
            # being that input again, so a re-run could skip lines never saved.
            raise UsageError("--journal needs an input FILE (stdin cannot be identified)")
        total = None
    else:
        total, digest = await asyncio.to_thread(_check_input, args.file, args.failures)
    codec: Codec = XmlCodec() if args.format == "xml" else JsonCodec()
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

    def error(status: int, text: str) -> int:
        stderr.write(f"shopapi: error: {printable(text)}\n")
        stderr.flush()
        return status

    source_stream = stdin
    failures_file = None
    journal = None
    try:
        if args.file != "-":
            try:
                source_stream = open(args.file, "rb")  # noqa: SIM115, ASYNC230 - once, at start; closed below
            except OSError as exc:
                raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
        if args.journal:
            assert digest is not None
            try:
                journal = Journal(args.journal, job=job_record(args.base_url, args.file, digest))
            except JournalError as exc:
                return error(_usage_or_status(exc), str(exc))
            except OSError as exc:
                raise UsageError(f"cannot use journal {args.journal}: {exc.strerror}") from None
        if args.failures:
            # Opened only now, holding the journal's lock: a refused second run must
            # not truncate the first one's failures.
            try:
                # Unbuffered: each record is written whole as it is made, so a full disk
                # fails that write, not a flush at close.
                failures_file = open(args.failures, "wb", buffering=0)  # noqa: SIM115, ASYNC230 - once, at start
            except OSError as exc:
                raise UsageError(f"cannot write {args.failures}: {exc.strerror}") from None
        return await _run(args, client, source_stream, total, journal, failures_file, stderr=stderr)
    finally:
        if failures_file is not None:
            failures_file.close()
        if source_stream is not stdin:
            source_stream.close()
        if journal is not None:
            try:
                journal.close()  # closed by _run unless it stopped on an error
            except JournalWriteError as exc:
                stderr.write(f"shopapi: error: {printable(str(exc))}\n")


async def _run(
    args: argparse.Namespace,
    client: ShopApiClient,
    source_stream: IO[bytes],
    total: int | None,
    journal: Journal | None,
    failures_file: IO[bytes] | None,
    *,
    stderr: IO[str],
) -> int:
    """Send the lines; the job's files are open and checked."""
    progress = Progress(stderr, total)
    report = _Report(progress, failures_file, args.file)
    queue: KeyedQueue[tuple[int, int], _Line] = KeyedQueue()
    in_flight: dict[int, _Line] = {}
    popped: list[_Line] = []  # taken from the queue but never sent: the job stopped
    lines = _lines(source_stream)
    next_index = 0
    eof = False
    warned: set[str] = set()
    # Why no new item may start: None (go on), "interrupt", "fatal" or "write".
    halt: str | None = None
    fatal: tuple[int, InputItem, ShopApiError] | None = None
    write_error: str | None = None
    unjournaled = 0
    loop = asyncio.get_running_loop()
    wake: asyncio.Future[None] | None = None
    job = asyncio.current_task()

    def wake_up() -> None:
        if wake is not None and not wake.done():
            wake.set_result(None)

    def stop(why: str) -> None:
        nonlocal halt
        if halt is None:
            halt = why
        wake_up()

    interrupts = 0

    def on_interrupt() -> None:
        # First Ctrl-C: read no more input, let the items in flight finish and be
        # journaled, so a re-run redoes none of them. Second: abandon them.
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            loop.remove_signal_handler(signal.SIGINT)
            if job is not None:
                job.cancel()
            return
        stop("interrupt")
        progress.message(
            "shopapi: interrupted; finishing the items in flight (Ctrl-C again to abandon them)"
        )

    def warn_dropped(number: int, names: tuple[str, ...]) -> None:
        for name in names:
            if name in warned or len(warned) >= MAX_WARNINGS:
                continue
            warned.add(name)
            progress.message(
                printable(
                    f"shopapi: warning: line {number}: unknown member {name!r} left out "
                    f"({ALLOW_UNKNOWN_OPTION}: this version cannot send members it does "
                    "not know, and the server may reset that field); not repeated"
                )
            )

    async def items() -> AsyncIterator[Any]:
        nonlocal next_index, eof, wake
        while halt is None:
            ready = queue.pop()
            if ready is not None:
                # Let the results already delivered be seen first: no item starts
                # after a fatal answer has arrived.
                await asyncio.sleep(0)
                if halt is not None:
                    popped.append(ready[1])
                    return
                in_flight[next_index] = ready[1]
                next_index += 1
                yield ready[1].item.changes
                continue
            if eof or queue.waiting >= MAX_WAITING:
                if eof and not len(queue):
                    return
                wake = loop.create_future()  # an item ends, freeing its conversation
                await wake
                continue
            try:
                number, raw = await anext(lines)
            except StopAsyncIteration:
                eof = True
                continue
            if not raw.strip():
                continue
            try:
                item = read_item(raw, allow_unknown=args.allow_unknown_members)
            except DecodeError as exc:
                report.failed(number, raw, None, exc)
                continue
            if item.dropped:
                warn_dropped(number, item.dropped)
            changes = item.changes
            if journal is not None and journal.done(changes.shop_id, changes.id, number):
                progress.skipped += 1
                continue
            queue.put((changes.shop_id, changes.id), _Line(number, raw, item))

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        async with client:
            results = client.message_conversations.update_many(
                items(), concurrency=args.concurrency
            )
            try:
                async for result in results:
                    sent = in_flight.pop(result.index)
                    changes = sent.item.changes
                    if result.ok:
                        if journal is None:
                            progress.saved += 1
                        elif write_error is not None:
                            unjournaled += 1
                        else:
                            try:
                                journal.record(sent.number, changes.shop_id, changes.id)
                            except JournalWriteError as exc:
                                write_error = str(exc)
                                unjournaled += 1
                                stop("write")
                            else:
                                progress.saved += 1
                    else:
                        assert result.error is not None
                        failure = result.error
                        if is_fatal(failure):
                            if fatal is None:
                                fatal = (sent.number, sent.item, failure)
                                stop("fatal")
                            quiet = True
                        else:
                            quiet = False
                        try:
                            report.failed(sent.number, sent.raw, sent.item, failure, quiet=quiet)
                        except _OutputError as exc:
                            if write_error is None:
                                write_error = str(exc)
                            report.failures = None
                            stop("write")
                    # Only now may the next line for this conversation start: this one
                    # is journaled, so the order holds across a crash as well.
                    queue.done((changes.shop_id, changes.id))
                    wake_up()
                    progress.tick()
            finally:
                await results.aclose()
        if journal is not None:
            try:
                journal.close()  # its final fsync, before anything is claimed saved
            except JournalWriteError as exc:
                # After a failed write the same disk usually fails the last fsync too:
                # the first error is the one to report.
                write_error = str(exc) if write_error is None else write_error
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)
    progress.finish()

    left = popped + sorted(queue.drain(), key=lambda line: line.number)
    not_attempted = len(left)
    if fatal is not None and write_error is None:
        # Every line the job did not send goes to the failures file, so that re-running
        # the failures does them; the rest of the input is read for that.
        why = f"not attempted: the job stopped at line {fatal[0]} ({type(fatal[2]).__name__})"
        try:
            for line in left:
                report.not_attempted(line.number, line.raw, line.item, why)
            async for number, raw in lines:
                if raw.strip():
                    not_attempted += 1
                    report.not_attempted(number, raw, None, why)
        except _OutputError as exc:
            write_error = str(exc)
    elapsed = time.monotonic() - progress.started
    done = progress.saved + progress.failed
    summary = (
        f"saved {progress.saved}, failed {progress.failed}, "
        f"skipped {progress.skipped} (already in the journal)"
    )
    if not_attempted:
        summary += f", not attempted {not_attempted}"
    if unjournaled:
        summary += f", saved on the server but not journaled {unjournaled} (a re-run redoes them)"
    stderr.write(f"{summary}, in {elapsed:.1f}s ({done / max(elapsed, 1e-9):.1f} items/s)\n")
    stderr.flush()
    if write_error is not None:
        claim = "; saved counts only what the journal holds" if journal is not None else ""
        stderr.write(
            f"shopapi: error: {printable(write_error)}; stopped{claim}, and a re-run does "
            "the rest\n"
        )
        stderr.flush()
        return WRITE_FAILED
    if fatal is not None:
        number, item, failure = fatal
        stderr.write(
            printable(
                f"shopapi: stopped: line {number} (shop {item.changes.shop_id}, conversation "
                f"{item.changes.id}): {type(failure).__name__}: {failure}"
            )
            + "\nshopapi: no item can succeed with these credentials and permissions: "
            f"{not_attempted} items were not attempted; fix the cause and re-run"
            + (" (the failures file holds them)" if failures_file is not None else "")
            + "\n"
        )
        stderr.flush()
        return FATAL
    if interrupts:
        stderr.write("shopapi: interrupted; the journal keeps every item saved so far\n")
        stderr.flush()
        return INTERRUPTED
    return 0 if progress.failed == 0 else SOME_FAILED


def _discard_output() -> None:
    """Point stdout and stderr at the null device, so that the interpreter's final
    flush of what is still buffered cannot raise ``BrokenPipeError`` again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                fd = stream.fileno()
            except (AttributeError, OSError, ValueError):
                continue  # not a real file (a test's capture): nothing to flush at exit
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``shopapi`` console script and ``python -m shopapi``.

    A reader that closes the pipe early (``shopapi demo | head -3``) ends the command
    with status 141 and no traceback, as a program killed by SIGPIPE would end. SIGPIPE
    itself stays ignored (Python's default): it would also kill the process on a write
    to a socket the server closed.
    """
    try:
        try:
            code = _main(argv)
        except SystemExit:  # argparse's --help, --version and usage errors
            sys.stdout.flush()
            raise
        sys.stdout.flush()  # a closed pipe is reported here, not at interpreter exit
        return code
    except BrokenPipeError:
        _discard_output()
        return BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "bulk-update":
            return asyncio.run(
                bulk_update(args, stdin=sys.stdin.buffer, stderr=sys.stderr, env=dict(os.environ))
            )
        from .demo import run_adaptive_demo, run_demo

        if args.adaptive:
            return asyncio.run(run_adaptive_demo())
        status = asyncio.run(
            run_demo(items=args.items, concurrency=args.concurrency, fmt=args.format)
        )
        sys.stdout.write("\n")
        return status or asyncio.run(run_adaptive_demo())
    except UsageError as exc:
        parser.exit(USAGE_ERROR, f"shopapi: error: {printable(str(exc))}\n")
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.stderr.write("\nshopapi: interrupted; the journal keeps every item saved so far\n")
        return INTERRUPTED
