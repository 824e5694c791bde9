"""Bulk updates: every input item yields exactly one result, in constant memory.

The bulk path holds no transport logic: each item goes through the client's own
``update()``, so retries, the retry budget, the rate limit and the coordinated 429
pause apply to it unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import attrs

from ._exceptions import ConfigurationError, FieldError, ShopApiError, ValidationError
from ._models import MessageConversation, MessageConversationChanges

__all__ = ["UpdateResult", "run_bulk"]


@attrs.frozen
class UpdateResult:
    """The outcome of one item of a bulk update.

    Attributes:
        index: The item's position in the input, from 0.
        changes: The item as given.
        conversation: The conversation as saved, or ``None`` if it failed.
        error: Why it failed (a :class:`~shopapi.ShopApiError`), or ``None``.
    """

    index: int
    changes: MessageConversationChanges
    conversation: MessageConversation | None = None
    error: ShopApiError | None = None

    @property
    def ok(self) -> bool:
        """Whether the item was saved."""
        return self.error is None


Update = Callable[[int, int, MessageConversationChanges], Awaitable[MessageConversation]]


async def _one(update: Update, index: int, item: Any) -> UpdateResult:
    if not isinstance(item, MessageConversationChanges):
        error = ValidationError(
            [
                FieldError(
                    "<item>", f"expected MessageConversationChanges, got {type(item).__name__}"
                )
            ]
        )
        return UpdateResult(index, item, error=error)
    try:
        saved = await update(item.shop_id, item.id, item)
    except ShopApiError as exc:
        return UpdateResult(index, item, error=exc)
    return UpdateResult(index, item, conversation=saved)


class _Finished:
    """A worker found the input exhausted."""


_FINISHED = _Finished()


async def run_bulk(
    update: Update,
    items: Iterable[MessageConversationChanges] | AsyncIterable[MessageConversationChanges],
    *,
    concurrency: int,
) -> AsyncIterator[UpdateResult]:
    """Run ``update`` over ``items``, at most ``concurrency`` at once, yielding as they end.

    ``concurrency`` workers pull from the input, so no more than that many requests are
    in flight. Each pull takes a permit that comes back only when the consumer takes a
    result, and there are ``2 * concurrency`` permits: the input is never read more than
    that far ahead of what was consumed, yet a worker need not wait for the consumer to
    catch up on every single result before it starts its next request. Closing the
    iterator (``aclose()``, or cancelling the consumer) cancels the workers and waits for
    them, so no task outlives it. An error
    that is not a :class:`~shopapi.ShopApiError` (a bug, or the input failing) is not an
    item failure: it propagates.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be an int >= 1, got {concurrency!r}")
    if isinstance(items, AsyncIterable):
        source: AsyncIterator[Any] | None = aiter(items)
        sync_source = None
    else:
        source = None
        sync_source = iter(items)
    permits = asyncio.Semaphore(2 * concurrency)
    pulling = asyncio.Lock()
    results: asyncio.Queue[UpdateResult | _Finished | BaseException] = asyncio.Queue()
    next_index = 0

    async def pull() -> tuple[int, Any] | None:
        nonlocal next_index
        async with pulling:
            try:
                if source is not None:
                    item = await anext(source)
                else:
                    assert sync_source is not None
                    item = next(sync_source)
            except (StopIteration, StopAsyncIteration):
                return None
            index = next_index
            next_index += 1
            return index, item

    async def worker() -> None:
        try:
            while True:
                await permits.acquire()
                pulled = await pull()
                if pulled is None:
                    permits.release()
                    results.put_nowait(_FINISHED)
                    return
                results.put_nowait(await _one(update, *pulled))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            results.put_nowait(exc)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    try:
        running = concurrency
        while running:
            result = await results.get()
            if isinstance(result, _Finished):
                running -= 1
            elif isinstance(result, BaseException):
                raise result
            else:
                yield result
                permits.release()
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
