"""Bulk updates and inserts: every input item yields exactly one result, in constant
memory.

The bulk path holds no transport logic and knows no resource: each item goes through
the client's generic call for one endpoint (``{name}_many`` of any update or insert), so
retries, the retry budget, the rate limit and the coordinated 429 pause apply to it
unchanged.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from typing import Any, Generic, Protocol, TypeVar

import attrs

from ._exceptions import ConfigurationError, FieldError, ShopApiError, ValidationError

__all__ = ["UpdateResult", "run_bulk"]

I = TypeVar("I")  # noqa: E741 - the item (body) type
A = TypeVar("A")  # the answer type


@attrs.frozen
class UpdateResult(Generic[I, A]):
    """The outcome of one item of a bulk update (or insert).

    ``UpdateResult[MessageConversationChanges, MessageConversation]`` for
    ``update_many``; the type parameters are the endpoint's body and answer types.

    Attributes:
        index: The item's position in the input, from 0.
        changes: The item as given.
        conversation: The answer for it (the conversation as saved, the message as
            stored ...), or ``None`` if it failed or the endpoint answers no body.
            Named for the first resource; :attr:`answer` is the same value.
        error: Why it failed (a :class:`~shopapi.ShopApiError`), or ``None``.
    """

    index: int
    changes: I
    conversation: A | None = None
    error: ShopApiError | None = None

    @property
    def ok(self) -> bool:
        """Whether the item was saved."""
        return self.error is None

    @property
    def answer(self) -> A | None:
        """The answer for the item (:attr:`conversation`, by its generic name)."""
        return self.conversation


_new = object.__new__
_set_index, _set_changes, _set_conversation, _set_error = (
    UpdateResult.__dict__[name].__set__ for name in ("index", "changes", "conversation", "error")
)


def _result(
    index: int, changes: Any, conversation: Any, error: ShopApiError | None
) -> UpdateResult[Any, Any]:
    """``UpdateResult(index, changes, conversation, error)``, filled through its slots:
    one is made per item, and this costs half the frozen ``__init__``."""
    result: UpdateResult[Any, Any] = _new(UpdateResult)
    _set_index(result, index)
    _set_changes(result, changes)
    _set_conversation(result, conversation)
    _set_error(result, error)
    return result


class Admission(Protocol):
    """What an adaptive limit asks of the bulk layer: wait for room before each pull."""

    async def room(self) -> None:
        """Return when the next item may start."""

    def drained(self) -> None:
        """The input is exhausted: release every worker waiting in :meth:`room`."""


class _Finished:
    """A worker found the input exhausted."""


_FINISHED = _Finished()


def _not_an_item(item_type: type, item: object) -> ValidationError:
    return ValidationError(
        [FieldError("<item>", f"expected {item_type.__name__}, got {type(item).__name__}")]
    )


async def run_bulk(
    update: Callable[[I], Awaitable[A]],
    items: Iterable[I] | AsyncIterable[I],
    *,
    item_type: type[I],
    concurrency: int,
    admission: Admission | None = None,
) -> AsyncGenerator[UpdateResult[I, A], None]:
    """Run ``update`` over ``items``, at most ``concurrency`` at once, yielding as they end.

    ``update`` takes one item (an ``item_type``; anything else fails alone with a
    ``ValidationError`` naming ``<item>``) and returns its answer.

    ``concurrency`` workers pull from the input, so no more than that many requests are
    in flight. Each pull takes a permit that comes back only when the consumer takes a
    result, and there are ``2 * concurrency`` permits: the input is never read more than
    that far ahead of what was consumed, yet a worker need not wait for the consumer to
    catch up on every single result before it starts its next request. Closing the
    iterator (``aclose()``, or cancelling the consumer) cancels the workers and waits for
    them, so no task outlives it. An error that is not a :class:`~shopapi.ShopApiError`
    (a bug, or the input failing) is not an item failure: it propagates.

    The bookkeeping is a counter, a deque and futures rather than a semaphore, a lock
    and a queue: every item passes through it, and on one event loop nothing more is
    needed. A synchronous input is read without a lock (``next()`` cannot be
    interleaved); an asynchronous one is read under a lock, so indexes follow the
    input's order.

    With ``admission`` (an adaptive limit), ``concurrency`` is its ceiling, and each
    worker waits for ``admission.room()`` before it pulls an item: items wait for
    capacity before their call starts, so the wait is not charged to its deadline.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be an int >= 1, got {concurrency!r}")
    if isinstance(items, AsyncIterable):
        source: AsyncIterator[Any] | None = aiter(items)
        sync_source = None
    else:
        source = None
        sync_source = iter(items)
    loop = asyncio.get_running_loop()
    pulling = asyncio.Lock()
    free = 2 * concurrency  # permits not held by a worker or an unconsumed result
    blocked: deque[asyncio.Future[None]] = deque()  # workers waiting for a permit
    ready: deque[UpdateResult[I, A] | _Finished | BaseException] = deque()
    consumer: asyncio.Future[None] | None = None  # set while the consumer waits
    next_index = 0

    def give_permit() -> None:
        nonlocal free
        while blocked:
            waiter = blocked.popleft()
            if not waiter.done():
                waiter.set_result(None)  # handed straight to a waiting worker
                return
        free += 1

    def deliver(outcome: UpdateResult[I, A] | _Finished | BaseException) -> None:
        ready.append(outcome)
        if consumer is not None and not consumer.done():
            consumer.set_result(None)

    async def pull() -> tuple[int, Any] | None:
        nonlocal next_index
        async with pulling:
            assert source is not None
            try:
                item = await anext(source)
            except StopAsyncIteration:
                return None
            index = next_index
            next_index += 1
            return index, item

    async def worker() -> None:
        nonlocal free, next_index
        try:
            while True:
                if free:
                    free -= 1
                else:
                    waiter = loop.create_future()
                    blocked.append(waiter)
                    await waiter
                if admission is not None:
                    await admission.room()
                if sync_source is not None:
                    try:
                        item = next(sync_source)
                    except StopIteration:
                        pulled = None
                    else:
                        pulled = (next_index, item)
                        next_index += 1
                else:
                    pulled = await pull()
                if pulled is None:
                    if admission is not None:
                        admission.drained()
                    give_permit()
                    deliver(_FINISHED)
                    return
                index, item = pulled
                if not isinstance(item, item_type):
                    deliver(_result(index, item, None, _not_an_item(item_type, item)))
                    continue
                try:
                    saved = await update(item)
                except ShopApiError as exc:
                    deliver(_result(index, item, None, exc))
                else:
                    deliver(_result(index, item, saved, None))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            deliver(exc)
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and not task.cancelling():
                # Raised inside an update while nobody cancelled this worker: the
                # consumer must hear of it rather than wait for it forever.
                deliver(exc)
            raise

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        running = concurrency
        while running:
            while not ready:
                consumer = loop.create_future()
                try:
                    await consumer
                finally:
                    consumer = None
            outcome = ready.popleft()
            if isinstance(outcome, _Finished):
                running -= 1
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                yield outcome
                give_permit()
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
