"""The reading commands: ``export`` (a LIST endpoint, one line per item) and ``get``.

Each calls the client's typed method that the conventions name after the endpoint
(``getattr(client.<resource>, endpoint.name)``), with the path parameters positionally
in template order and the filters as keywords; nothing here knows a resource.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import IO, Any

import attrs

from .._exceptions import ShopApiError
from .._resources.spec import Endpoint, Role
from .._session.client import ShopApiClient
from .commands import Command
from .common import FATAL, Progress, UsageError, connect, encode_line
from .terminal import printable

__all__ = ["export", "full_reader", "get"]


def path_values(command: Command, args: argparse.Namespace) -> list[Any]:
    """The path parameters' values from the options, in template order."""
    return [getattr(args, p.dest) for p in command.path]


def filter_values(command: Command, args: argparse.Namespace) -> dict[str, Any]:
    """The filters given (the others are left to the server's defaults)."""
    out = {}
    for f in command.filters:
        value = getattr(args, f.dest)
        if value is not None:
            out[f.dest] = value
    return out


def full_reader(command: Command) -> Endpoint | None:
    """The GET endpoint that reads a listed item in full: the resource's GET whose
    key fields are all fields of the list's items (``--full``), or ``None``."""
    listed = command.endpoint.answer
    if listed is None:
        return None
    fields = attrs.fields_dict(listed)
    for endpoint in command.resource.by_role(Role.GET):
        keyed = {key.param for key in endpoint.keys if key.field in fields}
        if endpoint.params and all(p.name in keyed for p in endpoint.params):
            return endpoint
    return None


async def _items(method: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
    """A list method's items: a paged list is an async iterator, an unpaged one an
    awaitable list."""
    result = method(*args, **kwargs)
    if inspect.isawaitable(result):
        for item in await result:
            yield item
        return
    async for item in result:
        yield item


def _reader_args(endpoint: Endpoint, item: Any) -> list[Any]:
    by_param = {key.param: key.field for key in endpoint.keys}
    return [getattr(item, by_param[p.name]) for p in endpoint.params]


async def _in_full(
    items: AsyncIterator[Any], read_one: Any, reader: Endpoint, window: int
) -> AsyncIterator[Any]:
    """Each listed item read in full, ``window`` reads in flight, in list order.

    The reads run ahead of the output by at most ``window`` items (so memory stays
    bounded), and the list's next page is fetched only as the window needs it. A failed
    read stops the export at that item: the lines before it are all written.
    """
    pending: deque[asyncio.Task[Any]] = deque()
    try:
        async for item in items:
            pending.append(asyncio.create_task(read_one(*_reader_args(reader, item))))
            if len(pending) >= window:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def export(
    command: Command,
    args: argparse.Namespace,
    *,
    stdout: IO[bytes],
    stderr: IO[str],
    env: Mapping[str, str],
    client: ShopApiClient | None = None,
) -> int:
    """Write every item of the list, one per line, pages fetched as the lines go out."""
    reader = None
    if args.full:
        reader = full_reader(command)
        if reader is None:
            raise UsageError(f"{command.name}: the resource has no GET to read an item in full")
    client = client if client is not None else connect(args, env)
    noun = command.endpoint.collection
    progress = Progress(stderr, None, noun=noun)
    async with client:
        resource = getattr(client, command.resource.name)
        method = getattr(resource, command.endpoint.name)
        read_one = getattr(resource, reader.name) if reader is not None else None
        codec = client.codec
        items = _items(method, *path_values(command, args), **filter_values(command, args))
        if read_one is not None and reader is not None:
            items = _in_full(items, read_one, reader, args.concurrency)
        try:
            async for item in items:
                stdout.write(encode_line(item, codec) + b"\n")
                progress.saved += 1
                progress.tick()
        except ShopApiError as exc:
            progress.finish()
            stdout.flush()
            stderr.write(
                f"shopapi: error: {printable(f'{type(exc).__name__}: {exc}')}; "
                f"exported {progress.saved} {noun} before it\n"
            )
            return FATAL
    stdout.flush()
    progress.finish()
    elapsed = time.monotonic() - progress.started
    stderr.write(
        f"exported {progress.saved} {noun} in {elapsed:.1f}s "
        f"({progress.saved / max(elapsed, 1e-9):.1f} items/s)\n"
    )
    stderr.flush()
    return 0


async def get(
    command: Command,
    args: argparse.Namespace,
    *,
    stdout: IO[bytes],
    stderr: IO[str],
    env: Mapping[str, str],
    client: ShopApiClient | None = None,
) -> int:
    """Write the one item, as one line."""
    client = client if client is not None else connect(args, env)
    started = time.monotonic()
    values = path_values(command, args)
    where = ", ".join(f"{p.label} {v}" for p, v in zip(command.path, values, strict=True))
    async with client:
        method = getattr(getattr(client, command.resource.name), command.endpoint.name)
        try:
            item = await method(*values)
        except ShopApiError as exc:
            stderr.write(f"shopapi: error: {where}: {printable(f'{type(exc).__name__}: {exc}')}\n")
            return FATAL
        stdout.write(encode_line(item, client.codec) + b"\n")
    stdout.flush()
    stderr.write(f"got {where} in {time.monotonic() - started:.2f}s\n")
    return 0
