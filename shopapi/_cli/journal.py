"""A durable record of the lines a bulk job has saved, so that a re-run skips them.

The first line records the job: the base URL and a digest of the input. A journal is
only meaningful for the job that wrote it (its records are line numbers of that input,
sent to that tenant), so opening it for another job raises :class:`JournalMismatchError`
instead of silently skipping lines that were never saved there.

Then one line per saved input line, keyed by the item's identity (shop and conversation)
and its line number, appended with an unbuffered ``write`` as soon as its result
arrives: once the line is written, a ``kill -9`` of the process cannot lose it (the
kernel has it). ``fsync`` runs every ``sync_every`` seconds and on close, bounding what a
power cut could lose; a lost line only means that item is sent again, and PUT is
idempotent. A torn last line (a crash mid-write) is ignored and cut off on open.

A line is done when it, or a later line for the same conversation, was saved: the last
line for each conversation is what the server must end up with, and a later line that
was saved has already overwritten an earlier one.

The file is locked (``flock``) while open, so a second process refuses it with
:class:`JournalLockedError` instead of running the whole job a second time. The lock
dies with the process, ``kill -9`` included. A failed write raises
:class:`JournalWriteError`, after cutting the partial record off.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import orjson

from .._exceptions import ShopApiError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no advisory locks
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "JOURNAL_VERSION",
    "Journal",
    "JournalError",
    "JournalLockedError",
    "JournalMismatchError",
    "JournalWriteError",
    "input_digest",
    "job_record",
]

JOURNAL_VERSION = 2


class JournalError(ShopApiError):
    """The journal cannot be used; ``path`` names it."""

    def __init__(self, message: str, *, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        super().__init__(message)


class JournalMismatchError(JournalError):
    """The journal was written for another job (another base URL or input)."""


class JournalLockedError(JournalError):
    """Another process has the journal open."""


class JournalWriteError(JournalError):
    """A record could not be written or synced (a full disk, an I/O error).

    Attributes:
        errno: The ``OSError``'s errno.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str], errno: int | None) -> None:
        self.errno = errno
        super().__init__(message, path=path)


def input_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """The non-blank lines of an input file and the digest of its bytes: the input's
    identity in the job record."""
    digest = hashlib.blake2b(digest_size=16)
    lines = 0
    with open(path, "rb") as f:
        for raw in f:
            digest.update(raw)
            if raw.strip():
                lines += 1
    return lines, digest.hexdigest()


def job_record(
    base_url: str, input_name: str, digest: str, *, command: str | None = None
) -> dict[str, object]:
    """What identifies a job: the tenant, the input (by content; the name is shown) and,
    for any command but ``conversations update`` (``bulk-update``, whose journals have
    no such member), the command: the same input sent by another command is another
    job."""
    record: dict[str, object] = {
        "version": JOURNAL_VERSION,
        "baseUrl": base_url.rstrip("/"),
        "input": input_name,
        "inputDigest": digest,
    }
    if command is not None:
        record["command"] = command
    return record


#: A record's identity: two int ids packed in one int, or the key as given.
Identity = int | tuple[int | str, ...]


def _identity(*key: int | str) -> Identity:
    # Two int32 ids packed in one int: a fraction of a tuple's memory per conversation.
    if len(key) == 2:
        shop_id, conversation_id = key
        if (
            type(shop_id) is int
            and type(conversation_id) is int
            and -(2**31) <= shop_id < 2**31
            and -(2**31) <= conversation_id < 2**31
        ):
            return ((shop_id & 0xFFFFFFFF) << 32) | (conversation_id & 0xFFFFFFFF)
    return key


def _record(line: int, key: tuple[int | str, ...]) -> bytes:
    """A saved line: ``shopId`` and ``id`` for a conversation's two ids (the format
    ``bulk-update`` always wrote), else the key's values under ``key``."""
    if len(key) == 2 and all(type(k) is int for k in key):
        return orjson.dumps({"line": line, "shopId": key[0], "id": key[1]}) + b"\n"
    return orjson.dumps({"line": line, "key": list(key)}) + b"\n"


def _write_error(action: str, path: Path, exc: OSError) -> JournalWriteError:
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
    message = f"cannot {action} the journal {path}: {reason}"
    return JournalWriteError(message, path=path, errno=exc.errno)


class Journal:
    """The lines saved by one job, read back on open and appended durably as saved.

    Args:
        path: The journal file; created (with the job record) if missing or empty.
        job: The job it belongs to (:func:`job_record`).
        sync_every: Seconds between ``fsync`` calls.

    Raises:
        JournalMismatchError: The file belongs to another job, or is not a journal.
        JournalLockedError: Another process has it open.
        JournalWriteError: The job record cannot be written.
        OSError: The file cannot be opened or read.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        job: Mapping[str, object],
        sync_every: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.job = dict(job)
        self._sync_every = sync_every
        self._done: dict[Identity, int] = {}  # identity -> last line saved
        self._records = 0
        self.torn = False
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self._lock()
            self._size = self._load()
            if self._size == 0:
                self._append(orjson.dumps({"job": self.job}) + b"\n", "write")
                self._sync()
        except BaseException:
            os.close(self._fd)
            self._fd = -1
            raise
        self._last_sync = time.monotonic()
        self._dirty = False

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover - not POSIX
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JournalLockedError(
                f"the journal {self.path} is in use by another process (a second run of "
                "the same job would send every item twice); wait for it to end",
                path=self.path,
            ) from None

    def _load(self) -> int:
        """Read the records; return the size of the complete ones."""
        with open(self.path, "rb") as f:
            data = f.read()
        end = data.rfind(b"\n") + 1
        lines = data[:end].splitlines()
        if lines:
            self._check_job(lines[0])
        if end < len(data):
            # A crash cut the last record short: drop it (that item is simply redone).
            self.torn = True
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        for raw in lines[1:]:
            try:
                record = orjson.loads(raw)
                line = record["line"]
                if "key" in record:
                    values = tuple(record["key"])
                else:
                    values = (record["shopId"], record["id"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue  # a damaged line: its item is redone, which PUT allows
            if type(line) is int and all(type(v) in (int, str) for v in values):
                key = _identity(*values)
                if line > self._done.get(key, 0):
                    self._done[key] = line
                self._records += 1
        return end

    def _check_job(self, first: bytes) -> None:
        try:
            found = orjson.loads(first)["job"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            found = None
        if not isinstance(found, dict):
            raise JournalMismatchError(
                f"{self.path} is not a journal of this version of shopapi (its first line "
                "is not a job record); use a new journal file",
                path=self.path,
            )
        differences = []
        if found.get("version") != self.job["version"]:
            differences.append(f"journal version {found.get('version')!r}")
        if found.get("baseUrl") != self.job["baseUrl"]:
            differences.append(f"base URL {found.get('baseUrl')!r}, not {self.job['baseUrl']!r}")
        if found.get("command") != self.job.get("command"):
            differences.append(
                f"command {found.get('command') or 'conversations update'!r}, not "
                f"{self.job.get('command') or 'conversations update'!r}"
            )
        if found.get("inputDigest") != self.job["inputDigest"]:
            differences.append(
                f"another input ({found.get('input')!r} as it was then; "
                f"{self.job['input']!r} now has other content)"
            )
        if differences:
            raise JournalMismatchError(
                f"the journal {self.path} belongs to another job: "
                + "; ".join(differences)
                + ". Use a new journal for this job (or delete that one to start over)",
                path=self.path,
            )

    def done(self, shop_id: int, conversation_id: int, line: int) -> bool:
        """Whether input line ``line`` needs no sending: it, or a later line for the same
        conversation, was saved."""
        return line <= self._done.get(_identity(shop_id, conversation_id), 0)

    def done_key(self, key: tuple[int | str, ...], line: int) -> bool:
        """:meth:`done` for any item identity (a command's path parameters)."""
        return line <= self._done.get(_identity(*key), 0)

    def __len__(self) -> int:
        """The saved records."""
        return self._records

    def _append(self, data: bytes, action: str) -> None:
        try:
            written = os.write(self._fd, data)
            while written < len(data):  # a regular file writes whole but at a limit
                written += os.write(self._fd, data[written:])
        except OSError as exc:
            error = _write_error(action, self.path, exc)
            try:  # a partial record would be cut on the next open anyway; cut it now
                os.ftruncate(self._fd, self._size)
            except OSError as cleanup:
                error.add_note(f"cutting the partial record off failed too: {cleanup}")
            raise error from None
        self._size += len(data)

    def record(self, line: int, shop_id: int, conversation_id: int) -> None:
        """Append one saved line; it survives a kill of the process from here on.

        Raises:
            JournalWriteError: The record could not be written (nothing of it is kept).
        """
        self.record_key(line, (shop_id, conversation_id))

    def record_key(self, line: int, key: tuple[int | str, ...]) -> None:
        """:meth:`record` for any item identity (a command's path parameters).

        Raises:
            JournalWriteError: The record could not be written (nothing of it is kept).
        """
        self._append(_record(line, key), "write to")
        identity = _identity(*key)
        if line > self._done.get(identity, 0):
            self._done[identity] = line
        self._records += 1
        self._dirty = True
        if time.monotonic() - self._last_sync >= self._sync_every:
            self.sync()

    def _sync(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise _write_error("sync", self.path, exc) from None

    def sync(self) -> None:
        """Flush to the disk.

        Raises:
            JournalWriteError: ``fsync`` failed.
        """
        if self._dirty:
            self._dirty = False
            self._sync()
        self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync and close (idempotent); the lock goes with the file.

        Raises:
            JournalWriteError: The final ``fsync`` failed.
        """
        if self._fd >= 0:
            try:
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
