"""The one place that talks to aiohttp and translates its errors.

:func:`send` makes one attempt and returns status, headers and body, or raises a
:class:`~shopapi.TransportError` subclass chained (``raise ... from exc``) from the
aiohttp error. Nothing else in shopapi catches aiohttp's exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import aiohttp
from yarl import URL

from ._exceptions import ConnectError, RequestTimeoutError, ResponseTooLargeError, TransportError
from ._protocol import Request

__all__ = ["RawResponse", "UrlBuilder", "send"]


class RawResponse(NamedTuple):
    """An HTTP answer, read in full."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class UrlBuilder:
    """Absolute URLs for paths below one base URL, without re-parsing the base each time.

    The base is parsed once, the way aiohttp would parse it (percent-encoding, IDNA,
    dot segments), and :attr:`base` is that parsed form as text: the client builds its
    requests' URLs from it, so the URL in logs and errors is the one sent. Each
    request's path, made of checked ints and fixed words, is then joined to it as
    already encoded. That skips the per-request URL parsing aiohttp would otherwise
    do: a measurable share of a request's cost at high concurrency.
    """

    __slots__ = ("_authority", "_parsed", "_prefix", "_scheme", "base")

    def __init__(self, base_url: str) -> None:
        parsed = URL(str(URL(base_url)))  # the canonical form: no default port either
        self._parsed = parsed
        self._scheme = parsed.scheme
        self._authority = parsed.raw_authority
        self._prefix = parsed.raw_path if parsed.raw_path.endswith("/") else parsed.raw_path + "/"
        #: The base as sent, with one trailing slash.
        self.base = str(self(""))

    def __call__(self, path: str) -> URL:
        """``path`` (relative, with an optional ``?query``) below the base."""
        if "?" not in path:  # the usual case: the cheapest way yarl makes a URL
            return self._parsed.with_path(self._prefix + path, encoded=True)
        path, _, query = path.partition("?")
        return URL.build(
            scheme=self._scheme,
            authority=self._authority,
            path=self._prefix + path,
            query_string=query,
            encoded=True,
        )


async def _read_unsized(resp: aiohttp.ClientResponse, max_size: int, request: Request) -> bytes:
    body = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > max_size:
            raise ResponseTooLargeError(
                f"response exceeds max_response_size ({max_size} bytes)",
                method=request.method,
                url=request.url,
            )
    return bytes(body)


async def send(
    session: aiohttp.ClientSession,
    request: Request,
    *,
    url: URL,
    headers: Mapping[str, str],
    client_timeout: aiohttp.ClientTimeout,
    max_size: int,
    ssl: object = True,
) -> RawResponse:
    """Make one attempt.

    Args:
        session: The aiohttp session.
        request: What to send.
        url: ``request``'s URL, as built by a :class:`UrlBuilder`.
        headers: All headers, credentials included (never logged, never in errors).
        client_timeout: This attempt's timeout.
        max_size: The largest body accepted, in bytes.
        ssl: Passed to aiohttp (``True`` verifies certificates).

    Raises:
        ConnectError: Refused (``request_sent=False``), reset, disconnected (a stale
            keep-alive connection too) or a body cut short.
        RequestTimeoutError: The attempt's timeout ran out.
        ResponseTooLargeError: The body passed ``max_size``.
        TransportError: Any other failure of the connection (TLS, a broken answer).
    """
    method, where = request.method, request.url
    try:
        # Awaited rather than used as ``async with``: the same release as the context
        # manager's exit, without its four extra coroutines per request.
        resp = await session.request(
            method,
            url,
            data=request.body,
            headers=headers,
            timeout=client_timeout,
            allow_redirects=False,
            ssl=ssl,  # type: ignore[arg-type]
        )
        try:
            length = resp.content_length
            if length is None:
                body = await _read_unsized(resp, max_size, request)
            elif length > max_size:
                raise ResponseTooLargeError(
                    f"response of {length} bytes exceeds max_response_size ({max_size})",
                    method=method,
                    url=where,
                )
            else:
                body = await resp.read()
            return RawResponse(resp.status, resp.headers, body)
        finally:
            resp.release()
            await resp.wait_for_close()
    except aiohttp.ConnectionTimeoutError as exc:
        raise ConnectError(
            "timed out connecting", method=method, url=where, request_sent=False
        ) from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise RequestTimeoutError(
            f"no answer within {client_timeout.total:g}s", method=method, url=where
        ) from exc
    except (aiohttp.ClientSSLError, aiohttp.ClientConnectorCertificateError) as exc:
        raise TransportError(f"TLS failed: {exc}", method=method, url=where) from exc
    except aiohttp.ClientConnectorError as exc:
        raise ConnectError(
            f"cannot connect: {exc.os_error.strerror or exc.os_error}",
            method=method,
            url=where,
            request_sent=False,
        ) from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise ConnectError(
            "server disconnected", method=method, url=where, request_sent=True
        ) from exc
    except aiohttp.ClientPayloadError as exc:
        raise ConnectError(
            "response body cut short", method=method, url=where, request_sent=True
        ) from exc
    except aiohttp.ClientOSError as exc:
        raise ConnectError(
            f"connection failed: {exc.strerror or exc}", method=method, url=where, request_sent=True
        ) from exc
    except aiohttp.ClientError as exc:
        raise TransportError(
            f"{type(exc).__name__}: {_safe(exc)}", method=method, url=where
        ) from exc


def _safe(exc: aiohttp.ClientError) -> str:
    # ClientResponseError's str holds only status and message, never request headers.
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{exc.status}, {exc.message}"
    return str(exc)
