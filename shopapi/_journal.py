"""A durable record of saved bulk items, so that a re-run skips them.

One line per saved item, appended with an unbuffered ``write`` as soon as its result
arrives: once the line is written, a ``kill -9`` of the process cannot lose it (the
kernel has it). ``fsync`` runs every ``sync_every`` seconds and on close, bounding
what a power cut could lose; a lost line only means that item is sent again, and PUT
is idempotent. A torn last line (a crash mid-write) is ignored and cut off on open.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from types import TracebackType

import orjson

__all__ = ["Journal", "item_key"]


def item_key(line: bytes) -> str:
    """The identity of an input line: its content's digest (whitespace at the ends aside)."""
    return hashlib.blake2b(line.strip(), digest_size=16).hexdigest()


class Journal:
    """Keys of saved items, read back on open and appended durably as items are saved.

    Args:
        path: The journal file; created if missing.
        sync_every: Seconds between ``fsync`` calls.
    """

    def __init__(self, path: str | os.PathLike[str], *, sync_every: float = 0.5) -> None:
        self.path = Path(path)
        self._sync_every = sync_every
        self._saved: set[bytes] = set()
        self.torn = False
        self._load()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._last_sync = time.monotonic()
        self._dirty = False

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        if end < len(data):
            # A crash cut the last record short: drop it (that item is simply redone).
            self.torn = True
            with open(self.path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
        for raw in data[:end].splitlines():
            try:
                record = orjson.loads(raw)
                key = record["key"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue  # a damaged line: its item is redone, which PUT allows
            if isinstance(key, str):
                self._saved.add(bytes.fromhex(key) if _is_hex(key) else key.encode())

    def __contains__(self, key: str) -> bool:
        return (bytes.fromhex(key) if _is_hex(key) else key.encode()) in self._saved

    def __len__(self) -> int:
        return len(self._saved)

    def record(self, key: str, **info: object) -> None:
        """Append one saved item; it survives a kill of the process from here on."""
        line = orjson.dumps({"key": key, **info}) + b"\n"
        written = os.write(self._fd, line)
        while written < len(line):  # pragma: no cover - regular files write whole
            written += os.write(self._fd, line[written:])
        self._saved.add(bytes.fromhex(key) if _is_hex(key) else key.encode())
        self._dirty = True
        now = time.monotonic()
        if now - self._last_sync >= self._sync_every:
            self.sync()

    def sync(self) -> None:
        """Flush to the disk."""
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync and close (idempotent)."""
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


def _is_hex(key: str) -> bool:
    return len(key) % 2 == 0 and all(c in "0123456789abcdef" for c in key)
