"""The one place that talks to aiohttp and translates its errors.

:func:`send` makes one attempt and returns status, headers and body, or raises a
:class:`~shopapi.TransportError` subclass chained (``raise ... from exc``) from the
aiohttp error. Nothing else in shopapi catches aiohttp's exceptions.

Two promises are kept here, on every answer (success, error, each retry):

* **Nothing unbounded is read.** ``max_size`` caps the *decoded* body, read as a stream:
  a 2 MB gzip that inflates to 2 GiB is refused after ``max_size`` bytes, whatever its
  ``Content-Length`` says. An error answer's body is kept only up to
  :data:`ERROR_BODY_LIMIT` (64 KiB): it is for people and logs, and the status is what
  matters.
* **Nothing in the exception chain holds the credentials.** aiohttp's
  ``ClientResponseError`` carries the request's headers (``Authorization`` among them)
  in ``request_info`` and ``args``; before it is chained, those are replaced by a copy
  with the value redacted, and the locals of aiohttp's finished frames are cleared. The
  value itself is a :class:`~shopapi._protocol.requests.Secret`, whose ``repr`` is redacted, for
  the frames that are still running (``capture_locals=True``).
* **A request that is not idempotent is sent once.** aiohttp resends a PUT (or any
  method RFC 9110 calls idempotent) by itself when a kept-alive connection drops,
  before any retry policy sees it; ``PUT v1/Shops/{shopId}/Ticket`` adds a ticket, so
  such a resend could add two. For a non-idempotent request a middleware turns that
  drop into an error aiohttp does not resend (:class:`_NotResent`), translated as
  the drop itself.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Final, NamedTuple

import aiohttp
from aiohttp import hdrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .._exceptions import ConnectError, RequestTimeoutError, ResponseTooLargeError, TransportError
from .._protocol.requests import Request

__all__ = ["ERROR_BODY_LIMIT", "RawResponse", "UrlBuilder", "send"]

#: The most of an error answer's body that is read and kept on its ``ApiError``, in
#: decoded bytes (or ``max_response_size``, if smaller). The rest is not read.
ERROR_BODY_LIMIT = 64 * 1024
_CHUNK = 64 * 1024


class RawResponse(NamedTuple):
    """An HTTP answer, read in full (an error answer: up to :data:`ERROR_BODY_LIMIT`)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    #: Whether the body was cut at the error-body limit.
    truncated: bool = False


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


class _NotResent(aiohttp.ClientConnectionError):
    """A dropped connection that aiohttp must not resend the request after (it resends
    only :class:`aiohttp.ClientOSError` and :class:`aiohttp.ServerDisconnectedError`)."""

    def __init__(self, dropped: aiohttp.ClientError) -> None:
        super().__init__(str(dropped))
        self.dropped = dropped


async def _no_resend(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """The middleware of a non-idempotent request: a drop after connecting is raised
    as :class:`_NotResent`; a refused connection (never sent) passes unchanged."""
    try:
        return await handler(request)
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
        raise
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
        raise _NotResent(exc) from exc


_NO_RESEND: Final = (_no_resend,)


async def _read_capped(
    resp: aiohttp.ClientResponse, limit: int, request: Request, *, cut: bool
) -> tuple[bytes, bool]:
    """The decoded body, read as a stream up to ``limit`` bytes.

    aiohttp inflates gzip and deflate in bounded steps as the stream is read, so the
    memory held stays within about ``limit`` plus one chunk, however far the body
    would inflate. Past ``limit``: cut there (``cut=True``, an error answer) or raise.
    """
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            if cut:
                del body[limit:]
                return bytes(body), True
            raise ResponseTooLargeError(
                f"decoded response exceeds max_response_size ({limit} bytes)",
                method=request.method,
                url=request.url,
            )
    return bytes(body), False


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
            middlewares=None if request.idempotent else _NO_RESEND,
        )
        try:
            status = resp.status
            ok = 200 <= status < 300
            limit = max_size if ok else min(max_size, ERROR_BODY_LIMIT)
            length = resp.content_length
            encoding = resp.headers.get(hdrs.CONTENT_ENCODING)  # an istr: no conversion
            if encoding is not None and encoding.strip().lower() in ("", "identity"):
                encoding = None
            if encoding is None and length is not None and length <= limit:
                # The usual answer: an unencoded body whose Content-Length aiohttp
                # reads exactly, no more, so it is within the cap as announced.
                return RawResponse(status, resp.headers, await resp.read())
            if ok and encoding is None and length is not None:
                raise ResponseTooLargeError(
                    f"response of {length} bytes exceeds max_response_size ({max_size})",
                    method=method,
                    url=where,
                )
            # Unsized, or encoded (Content-Length counts compressed bytes, and the cap
            # is on what they inflate to), or an error body past its own limit.
            body, truncated = await _read_capped(resp, limit, request, cut=not ok)
            return RawResponse(status, resp.headers, body, truncated)
        finally:
            resp.release()
            await resp.wait_for_close()
    except aiohttp.ClientError as exc:
        _scrub(exc, headers)
        raise _translate(exc, request, client_timeout) from exc
    except TimeoutError as exc:
        raise RequestTimeoutError(
            f"no answer within {client_timeout.total:g}s", method=method, url=where
        ) from exc


def _scrub(exc: BaseException, headers: Mapping[str, str]) -> None:
    """Remove the credentials from an aiohttp error and everything chained to it.

    A ``ClientResponseError`` keeps the request's headers in ``request_info`` (and in
    ``args``): they are replaced by a copy with ``Authorization`` redacted. The locals of
    aiohttp's frames, finished by now, are cleared (their lines stay in the traceback).
    """
    secret = headers.get("Authorization")
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, aiohttp.ClientResponseError):
            info = current.request_info
            if secret is not None and "Authorization" in info.headers:
                clean = CIMultiDict(info.headers)
                clean["Authorization"] = "<redacted>"
                current.request_info = aiohttp.RequestInfo(
                    info.url, info.method, CIMultiDictProxy(clean), info.real_url
                )
                current.args = (current.request_info, current.history)
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)  # skips frames still running
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _translate(
    exc: aiohttp.ClientError, request: Request, client_timeout: aiohttp.ClientTimeout
) -> TransportError:
    """The TransportError for an aiohttp error (the caller chains it)."""
    method, where = request.method, request.url
    if isinstance(exc, _NotResent):
        exc = exc.dropped
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectError("timed out connecting", method=method, url=where, request_sent=False)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return RequestTimeoutError(
            f"no answer within {client_timeout.total:g}s", method=method, url=where
        )
    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.ClientConnectorCertificateError)):
        return TransportError(f"TLS failed: {exc}", method=method, url=where)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(
            f"cannot connect: {exc.os_error.strerror or exc.os_error}",
            method=method,
            url=where,
            request_sent=False,
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ConnectError("server disconnected", method=method, url=where, request_sent=True)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ConnectError("response body cut short", method=method, url=where, request_sent=True)
    if isinstance(exc, aiohttp.ClientOSError):
        return ConnectError(
            f"connection failed: {exc.strerror or exc}", method=method, url=where, request_sent=True
        )
    return TransportError(f"{type(exc).__name__}: {_safe(exc)}", method=method, url=where)


def _safe(exc: aiohttp.ClientError) -> str:
    # ClientResponseError's str holds only status and message, never request headers.
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{exc.status}, {exc.message}"
    return str(exc)
