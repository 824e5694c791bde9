"""Every error shopapi raises, in one tree::

    ShopApiError                    root: catch this to catch everything from shopapi
    ├── ConfigurationError          a bad option or argument (also a ValueError)
    ├── ValidationError             refused before sending; names every offending field
    ├── DecodeError                 a body that does not parse into the expected type
    │   └── ResponseMismatchError   a well-formed answer about another resource
    ├── ApiError                    the server answered with an HTTP error status
    │   ├── ClientError             4xx
    │   │   ├── BadRequestError         400, usually with ASP.NET ModelState
    │   │   ├── AuthenticationError     401
    │   │   ├── PermissionDeniedError   403
    │   │   ├── NotFoundError           404
    │   │   └── RateLimitError          429
    │   └── ServerError             5xx
    └── TransportError              no usable HTTP answer, after the retries
        ├── ConnectError            refused, reset or disconnected
        ├── RequestTimeoutError     an attempt or the deadline ran out
        └── ResponseTooLargeError   the body passed the client's size cap

Errors from aiohttp are translated in one place (``shopapi._session.transport``) and chained
with ``raise ... from exc``. No error carries credentials: requests are described by
method and URL only, and URLs never hold user info.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ClientError",
    "ConfigurationError",
    "ConnectError",
    "DecodeError",
    "FieldError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseMismatchError",
    "ResponseTooLargeError",
    "ServerError",
    "ShopApiError",
    "TransportError",
    "ValidationError",
]


class ShopApiError(Exception):
    """Root of every error raised by shopapi."""


class ConfigurationError(ShopApiError, ValueError):
    """An option or argument is unusable (a negative timeout, a URL with credentials)."""


@attrs.frozen
class FieldError:
    """One offending field of a :class:`ValidationError`.

    Attributes:
        field: The wire name (``CustomerEmail``), as the API docs spell it.
        message: What is wrong with it.
    """

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(ShopApiError):
    """The input breaks the API's constraints; nothing was sent.

    Attributes:
        errors: Every offending field, in wire order.
    """

    def __init__(self, errors: Sequence[FieldError], *, type_name: str | None = None) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        self.type_name = type_name
        what = f"invalid {type_name}" if type_name else "invalid input"
        detail = "; ".join(str(e) for e in self.errors)
        super().__init__(f"{what}: {detail}")

    @property
    def fields(self) -> tuple[str, ...]:
        """The wire names of the offending fields."""
        return tuple(e.field for e in self.errors)


class DecodeError(ShopApiError):
    """A body does not parse into the expected type.

    Attributes:
        reason: What is wrong, without the field, position and media type.
        media_type: The format that was being read (``application/json`` ...).
        field: The wire name of the offending field, when one is to blame; inside a
            list, prefixed by the item's index (``[3].Id``).
        position: Where the parser stopped (``line 3, column 7``), when known.
    """

    def __init__(
        self,
        message: str,
        *,
        media_type: str | None = None,
        field: str | None = None,
        position: str | None = None,
    ) -> None:
        self.media_type = media_type
        self.field = field
        self.position = position
        self.reason = message
        parts = [message]
        if field is not None:
            parts.insert(0, f"{field}:")
        if position is not None:
            parts.append(f"(at {position})")
        if media_type is not None:
            parts.append(f"[{media_type}]")
        super().__init__(" ".join(parts))


class ResponseMismatchError(DecodeError):
    """The server answered 2xx with a body that describes another resource."""


class ApiError(ShopApiError):
    """The server answered with an HTTP error status.

    Attributes:
        status: The HTTP status code.
        message: The server's ``Message``, when the body carried one.
        model_state: ASP.NET's ``ModelState``: field path to error messages.
        body: The raw response body (decoded), kept up to 64 KiB
            (``shopapi._session.transport.ERROR_BODY_LIMIT``); a longer one is cut there, not
            read further, and the error carries a note saying so.
        method: The request's method.
        url: The request's URL (never with credentials).
        headers: The response headers.
        attempts: How many attempts were made before giving up.
    """

    def __init__(
        self,
        status: int,
        *,
        method: str,
        url: str,
        body: bytes = b"",
        message: str | None = None,
        model_state: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body = body
        self.message = message
        self.model_state: dict[str, tuple[str, ...]] = {
            k: tuple(v) for k, v in (model_state or {}).items()
        }
        self.headers: dict[str, str] = dict(headers or {})
        self.attempts = attempts
        text = f"{status} from {method} {url}"
        if message:
            text += f": {message}"
        if self.model_state:
            text += (
                " (" + "; ".join(f"{k}: {' '.join(v)}" for k, v in self.model_state.items()) + ")"
            )
        super().__init__(text)


class ClientError(ApiError):
    """A 4xx answer: the request itself was refused. Never retried (but 408/429)."""


class BadRequestError(ClientError):
    """400: usually field errors in :attr:`ApiError.model_state`."""


class AuthenticationError(ClientError):
    """401: the credentials were refused."""


class PermissionDeniedError(ClientError):
    """403: the user may not touch this shop or conversation."""


class NotFoundError(ClientError):
    """404: no such shop or conversation (or a wrong base URL)."""


class RateLimitError(ClientError):
    """429 after the retries ran out."""


class ServerError(ApiError):
    """A 5xx answer that outlived the retries."""


class TransportError(ShopApiError):
    """No usable HTTP answer: the connection or the clock failed, after the retries.

    Attributes:
        method: The request's method.
        url: The request's URL (never with credentials).
        attempts: How many attempts were made.
    """

    def __init__(self, message: str, *, method: str, url: str, attempts: int = 1) -> None:
        self.method = method
        self.url = url
        self.attempts = attempts
        self.reason = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.reason} ({self.method} {self.url}, after {self.attempts} attempt(s))"


class ConnectError(TransportError):
    """The connection was refused, reset or dropped.

    Attributes:
        request_sent: ``False`` when the request provably never reached the server
            (the connection was never made), which makes even a POST safe to retry.
    """

    def __init__(
        self, message: str, *, method: str, url: str, attempts: int = 1, request_sent: bool
    ) -> None:
        self.request_sent = request_sent
        super().__init__(message, method=method, url=url, attempts=attempts)


class RequestTimeoutError(TransportError):
    """An attempt's timeout or the overall deadline ran out."""


class ResponseTooLargeError(TransportError):
    """The response body passed the client's ``max_response_size``.

    The cap counts decoded bytes, read as a stream, so a small compressed body that
    inflates past it (a decompression bomb) is refused while memory stays within about
    twice the cap. Not retried: the same request would get the same answer.
    """
