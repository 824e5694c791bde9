"""Input order per key, with no two items of one key out at once (pure, no I/O).

The command line sends the lines of a file at some concurrency, and a file may hold
several lines for one conversation. Whichever line the server applies last is what it
keeps, so those lines must be sent one after the other, in input order, each only once
the one before has finished; lines for other conversations go on meanwhile.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["KeyedQueue"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class KeyedQueue(Generic[K, T]):
    """Items released in input order, at most one per key until that one is ``done``.

    ``put`` adds an item; ``pop`` takes the next one that may start (``None``: none may);
    ``done(key)`` says the key's item has finished, which makes the key's next item
    ready. Items of a key that is out wait, and count in :attr:`waiting`, so the caller
    can stop reading input when too many wait.
    """

    def __init__(self) -> None:
        self._ready: deque[tuple[K, T]] = deque()
        self._waiting: dict[K, deque[T]] = {}
        self._busy: set[K] = set()  # keys with an item ready or out
        self.waiting = 0

    def put(self, key: K, item: T) -> None:
        """Queue ``item``; it is ready at once unless an item of ``key`` is ready or out."""
        if key in self._busy:
            self._waiting.setdefault(key, deque()).append(item)
            self.waiting += 1
        else:
            self._busy.add(key)
            self._ready.append((key, item))

    def pop(self) -> tuple[K, T] | None:
        """The next item that may start, oldest first; it is out until ``done``."""
        return self._ready.popleft() if self._ready else None

    def done(self, key: K) -> None:
        """The item of ``key`` that was out has finished."""
        queue = self._waiting.get(key)
        if queue:
            self._ready.append((key, queue.popleft()))
            self.waiting -= 1
            if not queue:
                del self._waiting[key]
        else:
            self._busy.discard(key)

    def __len__(self) -> int:
        """Items not yet popped."""
        return len(self._ready) + self.waiting

    def drain(self) -> Iterator[T]:
        """Take every item not yet popped (ready ones first, then waiting ones)."""
        while self._ready:
            yield self._ready.popleft()[1]
        for queue in self._waiting.values():
            yield from queue
        self._waiting.clear()
        self.waiting = 0
