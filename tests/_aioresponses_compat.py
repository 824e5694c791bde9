"""aioresponses 0.7.9 predates aiohttp 3.14, whose ``ClientResponse`` requires a
``stream_writer`` argument (pnuckowski/aioresponses#289). aiohttp 3.14 is a security
release, so rather than pin aiohttp below it, the tests give aioresponses a response
class that supplies the missing argument. Drop this once aioresponses ships the fix."""

from __future__ import annotations

import inspect
from typing import Any

import aiohttp
from aioresponses import aioresponses

_NEEDS_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters


class _NoWriter:
    """Stands in for the request's stream writer: nothing was written to a socket."""

    output_size = 0


class CompatResponse(aiohttp.ClientResponse):
    """A ``ClientResponse`` that tolerates aioresponses' missing ``stream_writer``."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if _NEEDS_WRITER:
            kwargs.setdefault("stream_writer", _NoWriter())
        super().__init__(method, url, **kwargs)


class mock_api(aioresponses):
    """``aioresponses`` with :class:`CompatResponse` as the default response class."""

    def add(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("response_class", CompatResponse)
        super().add(*args, **kwargs)
