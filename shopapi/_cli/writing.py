"""The writing commands: ``update`` (``bulk-update``), and an insert's bulk path
(``post-message``), with the journal, the failures file and the exit statuses.

One input line is one body of the command's endpoint. Its path parameters come from its
key fields, and the rest from options. Lines for one item (the same path) are sent one
after the other, in input order (:class:`~shopapi._cli.ordering.KeyedQueue`); an insert's
lines are journaled each on its own, an update's as "this item is saved up to this
line". The calls go through the client's ``{name}_many`` (the conventions' bulk method),
which every update and insert has.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import signal
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
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
from .._resources.spec import Role
from .._session.client import ShopApiClient
from .._wire.fields import wire_fields
from .commands import Command
from .common import (
    FATAL,
    INTERRUPTED,
    JOURNAL_LOCKED,
    JOURNAL_MISMATCH,
    SOME_FAILED,
    WRITE_FAILED,
    Progress,
    UsageError,
    base_url,
    connect,
    wire_codec,
)
from .dryrun import dry_run
from .input import InputItem, failure_record, read_item
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

__all__ = ["describe_error", "is_fatal", "reader", "write"]

#: Input lines read ahead while waiting for an earlier line of the same item.
MAX_WAITING = 1024
#: The command whose journals name no command (``bulk-update`` wrote them first).
_DEFAULT_COMMAND = "conversations update"


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
    path: tuple[Any, ...]

    @property
    def key(self) -> tuple[Any, ...]:
        """What orders it: its item (the path), or, with no path, nothing (itself)."""
        return self.path if self.path else (self.number,)

    @property
    def journal_key(self) -> tuple[Any, ...]:
        """What the journal records: an update's item, or an insert's own line."""
        return (*self.path, self.number) if self.inserts else self.key

    inserts: bool = False


class _OutputError(Exception):
    """The failures file could not be written."""


class _Report:
    """Where failures go: the failures file as input records, or stderr as lines."""

    def __init__(
        self,
        progress: Progress,
        failures: IO[bytes] | None,
        input_name: str,
        command: Command,
    ) -> None:
        self.progress = progress
        self.failures = failures
        self.input_name = input_name
        self.command = command

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
        path: tuple[Any, ...] = (),
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
                where += _where(self.command, path)
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


def reader(command: Command, allow_unknown: bool) -> Callable[[bytes], InputItem]:
    """The line reader of ``command``: the strict reader for its body model and, for an
    update, the rule that a line gives every member.

    An update replaces the whole item (a PUT sends every field), so a member left out
    would go out as null and may clear that field: a list's export (a basic info, ten
    members short of a conversation) piped into ``update`` would wipe them. Such a line
    fails alone, naming the members; ``null`` clears one on purpose.
    """
    model = command.endpoint.body
    assert model is not None
    read = functools.partial(read_item, allow_unknown=allow_unknown, model=model)
    if command.endpoint.role is not Role.UPDATE:
        return read
    names = tuple(f.wire for f in wire_fields(model))
    every = frozenset(names)

    def read_whole(raw: bytes) -> InputItem:
        item = read(raw)
        if every <= item.given:  # the usual line: one set comparison
            return item
        missing = [name for name in names if name not in item.given]
        raise DecodeError(
            f"missing {', '.join(missing)}: an update sends every member, so these "
            "would be sent as null and may clear them; give them (null clears one on "
            "purpose), or export with --full; nothing was sent for this line",
            media_type="application/json" if item.members is not None else "application/xml",
            field=missing[0],
        )

    return read_whole


def _where(command: Command, path: tuple[Any, ...]) -> str:
    """`` (shop 1, conversation 5)``: the item's path, for messages."""
    if not command.path:
        return ""
    return " (" + ", ".join(f"{p.label} {v}" for p, v in zip(command.path, path, strict=True)) + ")"


def _path_of(command: Command, options: Mapping[str, Any]) -> Callable[[Any], tuple[Any, ...]]:
    """The path parameters of a body: its key fields, and the options for the rest."""
    parts = [(p.field, options.get(p.dest)) for p in command.path]

    def path(body: Any) -> tuple[Any, ...]:
        return tuple(getattr(body, f) if f is not None else v for f, v in parts)

    return path


async def write(
    args: argparse.Namespace,
    *,
    stdin: IO[bytes],
    stderr: IO[str],
    env: Mapping[str, str],
    stdout: IO[bytes] | None = None,
) -> int:
    """Run a writing command (``args.command_spec``); return the exit status."""
    command: Command = args.command_spec
    options = {p.dest: getattr(args, p.dest) for p in command.options}
    read = reader(command, args.allow_unknown_members)
    if args.dry_run:
        if args.journal or args.failures:
            raise UsageError("--dry-run writes no journal and no failures file")
        if args.against is not None and command.endpoint.role is not Role.UPDATE:
            raise UsageError("--against compares updates with an export; an insert adds items")
        return await asyncio.to_thread(
            _dry_run, command, read, args, options, stdin, stdout, stderr
        )
    if args.against is not None:
        raise UsageError("--against is for --dry-run")
    digest = None
    if args.file == "-":
        if args.journal:
            # Its records are line numbers of one input: a pipe cannot be checked for
            # being that input again, so a re-run could skip lines never saved.
            raise UsageError("--journal needs an input FILE (stdin cannot be identified)")
        total = None
    else:
        total, digest = await asyncio.to_thread(_check_input, args.file, args.failures)
    client = connect(args, env)

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
                name = None if command.name == _DEFAULT_COMMAND else command.name
                job = job_record(base_url(args, env), args.file, digest, command=name)
                journal = Journal(args.journal, job=job)
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
        return await _run(
            args,
            command,
            options,
            read,
            client,
            source_stream,
            total,
            journal,
            failures_file,
            stderr=stderr,
        )
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


def _dry_run(
    command: Command,
    read: Callable[[bytes], InputItem],
    args: argparse.Namespace,
    options: dict[str, Any],
    stdin: IO[bytes],
    stdout: IO[bytes] | None,
    stderr: IO[str],
) -> int:
    assert stdout is not None, "a dry run prints to stdout"
    if args.file == "-":
        source = stdin
    else:
        try:
            source = open(args.file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        return dry_run(
            command,
            read,
            source,
            codec=wire_codec(args.format),
            fmt=args.format,
            options=options,
            against=args.against,
            show=args.show,
            stdout=stdout,
            stderr=stderr,
        )
    finally:
        if source is not stdin:
            source.close()


async def _run(
    args: argparse.Namespace,
    command: Command,
    options: dict[str, Any],
    read: Callable[[bytes], InputItem],
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
    report = _Report(progress, failures_file, args.file, command)
    path_of = _path_of(command, options)
    inserts = command.endpoint.role is Role.INSERT
    queue: KeyedQueue[tuple[Any, ...], _Line] = KeyedQueue()
    in_flight: dict[int, _Line] = {}
    popped: list[_Line] = []  # taken from the queue but never sent: the job stopped
    lines = _lines(source_stream)
    next_index = 0
    eof = False
    # Why no new item may start: None (go on), "interrupt", "fatal" or "write".
    halt: str | None = None
    fatal: tuple[_Line, ShopApiError] | None = None
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
                item = read(raw)
            except DecodeError as exc:
                report.failed(number, raw, None, exc)
                continue
            line = _Line(number, raw, item, path_of(item.changes), inserts)
            if journal is not None and journal.done_key(line.journal_key, number):
                progress.skipped += 1
                continue
            queue.put(line.key, line)

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        async with client:
            resource = getattr(client, command.resource.name)
            # Every update or insert has a {name}_many (Resource checks it when made).
            many = getattr(resource, command.endpoint.name + "_many")
            results: AsyncGenerator[Any, None] = many(
                *options.values(), items(), concurrency=args.concurrency
            )
            try:
                async for result in results:
                    sent = in_flight.pop(result.index)
                    if result.ok:
                        if journal is None:
                            progress.saved += 1
                        elif write_error is not None:
                            unjournaled += 1
                        else:
                            try:
                                journal.record_key(sent.number, sent.journal_key)
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
                                fatal = (sent, failure)
                                stop("fatal")
                            quiet = True
                        else:
                            quiet = False
                        try:
                            report.failed(
                                sent.number,
                                sent.raw,
                                sent.item,
                                failure,
                                quiet=quiet,
                                path=sent.path,
                            )
                        except _OutputError as exc:
                            if write_error is None:
                                write_error = str(exc)
                            report.failures = None
                            stop("write")
                    # Only now may the next line for this conversation start: this one
                    # is journaled, so the order holds across a crash as well.
                    queue.done(sent.key)
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
        why = (
            f"not attempted: the job stopped at line {fatal[0].number} ({type(fatal[1]).__name__})"
        )
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
        line, failure = fatal
        stderr.write(
            printable(
                f"shopapi: stopped: line {line.number}{_where(command, line.path)}: "
                f"{type(failure).__name__}: {failure}"
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
