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


async def run_bulk(
    update: Update,
    items: Iterable[MessageConversationChanges] | AsyncIterable[MessageConversationChanges],
    *,
    concurrency: int,
) -> AsyncIterator[UpdateResult]:
    """Run ``update`` over ``items``, at most ``concurrency`` at once, yielding as they end.

    Input is pulled only to refill a free slot, so it is never read more than
    ``concurrency`` items ahead of what the consumer has taken. Closing the iterator
    (``aclose()``, or cancelling the consumer) cancels the work in flight and waits for
    it to finish cancelling, so no task outlives it. An error that is not a
    :class:`~shopapi.ShopApiError` is a bug, not an item failure: it propagates.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be an int >= 1, got {concurrency!r}")
    if isinstance(items, AsyncIterable):
        source: AsyncIterator[Any] | None = aiter(items)
        sync_source = None
    else:
        source = None
        sync_source = iter(items)
    pending: set[asyncio.Task[UpdateResult]] = set()
    index = 0
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < concurrency:
                try:
                    if source is not None:
                        item = await anext(source)
                    else:
                        assert sync_source is not None
                        item = next(sync_source)
                except (StopIteration, StopAsyncIteration):
                    exhausted = True
                    break
                pending.add(asyncio.create_task(_one(update, index, item)))
                index += 1
            if not pending:
                return
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
