"""Building requests and reading answers, without I/O (sans-I/O, like h11).

Everything the session needs to know about the API's URLs, headers and answers lives
here as pure functions, testable without an event loop: :func:`build_update` checks and
renders a PUT, :func:`read_answer` turns status, headers and body into a model or a
typed error.
"""

from __future__ import annotations

import base64
import contextlib
import weakref
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import attrs

from .._exceptions import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConfigurationError,
    DecodeError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseMismatchError,
    ServerError,
    ValidationError,
)
from .._resources.message_conversations import (
    MessageBasicInfo,
    MessageChanges,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
)
from .._wire.validation import INT32_MAX, field_errors, is_valid
from ..codecs import Codec, CodecRegistry
from ..codecs._base import normalize_media_type
from .errorbody import parse_error_body

__all__ = [
    "Credentials",
    "Request",
    "Secret",
    "api_error",
    "basic_auth_header",
    "build_get",
    "build_list",
    "build_list_messages",
    "build_post_message",
    "build_update",
    "check_message",
    "check_page",
    "check_page_items",
    "codec_headers",
    "check_id",
    "conversation_path",
    "normalize_base_url",
    "read_answer",
]

T = TypeVar("T")


class Request(NamedTuple):
    """One API call, ready to send (credentials are added by the transport).

    Attributes:
        method: HTTP method.
        path: The path below the base URL (``v1/Shops/1/MessageConversations/2``),
            for logs.
        url: The absolute URL.
        headers: ``Content-Type`` and ``Accept``.
        body: The encoded body, or ``None``.
        idempotent: Whether repeating it is harmless (PUT, GET yes; POST no).
    """

    method: str
    path: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    idempotent: bool = True


class Secret(str):
    """A ``str`` whose ``repr`` hides it: the ``Authorization`` value.

    The header value travels through aiohttp's request headers, the client's cached
    header mappings and the locals of running frames; wherever it lands, ``repr`` (what
    tracebacks with ``capture_locals=True``, ``vars()`` dumps and debuggers show) gives
    ``'<redacted>'``. ``str()`` and formatting still give the value, which is what goes
    on the wire.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


@attrs.frozen(repr=False)
class Credentials:
    """HTTP Basic credentials. The repr never shows them."""

    username: str
    password: str = attrs.field(repr=False)
    header: Secret = attrs.field(init=False, repr=False)

    @header.default
    def _header(self) -> Secret:
        return Secret(basic_auth_header(self.username, self.password))

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


def basic_auth_header(username: str, password: str) -> str:
    """``Authorization`` value for HTTP Basic (UTF-8, as ASP.NET reads it)."""
    if not isinstance(username, str) or not isinstance(password, str):
        raise ConfigurationError("auth must be a (username, password) pair of strings")
    if ":" in username:
        raise ConfigurationError("a Basic auth username cannot contain ':'")
    if any(c in username + password for c in "\r\n\x00"):
        raise ConfigurationError("credentials cannot contain line breaks or NUL")
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def normalize_base_url(base_url: str) -> str:
    """Check a tenant root URL and give it exactly one trailing slash.

    Raises:
        ConfigurationError: Not http(s), no host, credentials in it, or a query or
            fragment (paths are appended to it).
    """
    if not isinstance(base_url, str):
        raise ConfigurationError(f"base_url must be a string, got {type(base_url).__name__}")
    try:
        parts = urlsplit(base_url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigurationError(f"base_url is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError("base_url must start with https:// (or http://)")
    if not parts.hostname:
        raise ConfigurationError("base_url has no host")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("put credentials in auth=(username, password), not in base_url")
    if parts.query or parts.fragment or "?" in base_url or "#" in base_url:
        raise ConfigurationError("base_url cannot have a query or a fragment")
    if any(c in base_url for c in " \r\n\t"):
        raise ConfigurationError("base_url cannot contain whitespace")
    return base_url.strip().rstrip("/") + "/"


def check_id(name: str, value: object) -> int:
    """An id for a URL: an int (not a bool) within .NET's ``int`` range, not negative.

    Raises:
        ValidationError: Naming ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError([FieldError(name, f"must be an int, not {type(value).__name__}")])
    if not 0 <= value <= INT32_MAX:
        raise ValidationError([FieldError(name, f"{value} is not a valid id")])
    return int(value)


def conversation_path(shop_id: int, conversation_id: int | None = None) -> str:
    """``v1/Shops/{shopId}/MessageConversations[/{id}]``: ids are checked ints only."""
    if type(shop_id) is not int or not 0 <= shop_id <= INT32_MAX:
        shop_id = check_id("shopId", shop_id)
    if conversation_id is None:
        return f"v1/Shops/{shop_id}/MessageConversations"
    if type(conversation_id) is not int or not 0 <= conversation_id <= INT32_MAX:
        conversation_id = check_id("messageConversationId", conversation_id)
    return f"v1/Shops/{shop_id}/MessageConversations/{conversation_id}"


_HEADERS: weakref.WeakKeyDictionary[Codec, tuple[Mapping[str, str], Mapping[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def codec_headers(codec: Codec, *, body: bool = True) -> Mapping[str, str]:
    """``Content-Type`` (with a body) and ``Accept`` for a codec: one shared, read-only
    mapping each, so the session can cache what it derives from them."""
    try:
        with_body, without_body = _HEADERS[codec]
    except (KeyError, TypeError):
        content_type = str(getattr(codec, "content_type", codec.media_type))
        with_body = MappingProxyType({"Content-Type": content_type, "Accept": codec.media_type})
        without_body = MappingProxyType({"Accept": codec.media_type})
        with contextlib.suppress(TypeError):  # a codec without weakrefs is not cached
            _HEADERS[codec] = (with_body, without_body)
    return with_body if body else without_body


def check_page(page_number: object, page_size: object) -> tuple[int, int]:
    """``pageNumber`` (from 1) and ``pageSize`` (at least 1), as .NET ints.

    Raises:
        ValidationError: Naming each bad parameter.
    """
    errors = []
    for name, value in (("pageNumber", page_number), ("pageSize", page_size)):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(FieldError(name, f"must be an int, not {type(value).__name__}"))
        elif not 1 <= value <= INT32_MAX:
            errors.append(FieldError(name, f"{value} is not >= 1"))
    if errors:
        raise ValidationError(errors)
    return int(page_number), int(page_size)  # type: ignore[call-overload]


def build_list(
    base_url: str, shop_id: int, *, page_number: int, page_size: int, codec: Codec
) -> Request:
    """``GET v1/Shops/{shopId}/MessageConversations?pageSize&pageNumber``."""
    number, size = check_page(page_number, page_size)
    path = f"{conversation_path(shop_id)}?pageSize={size}&pageNumber={number}"
    return Request("GET", path, base_url + path, codec_headers(codec, body=False))


def build_get(base_url: str, shop_id: int, conversation_id: int, *, codec: Codec) -> Request:
    """``GET v1/Shops/{shopId}/MessageConversations/{id}``: an endpoint the API's help
    pages do not document (see ``MessageConversations.get``)."""
    path = conversation_path(shop_id, conversation_id)
    return Request("GET", path, base_url + path, codec_headers(codec, body=False))


def build_list_messages(
    base_url: str,
    shop_id: int,
    conversation_id: int,
    *,
    page_number: int,
    page_size: int,
    codec: Codec,
) -> Request:
    """``GET v1/Shops/{shopId}/MessageConversations/{id}/Messages?pageSize&pageNumber``."""
    number, size = check_page(page_number, page_size)
    path = (
        f"{conversation_path(shop_id, conversation_id)}/Messages"
        f"?pageSize={size}&pageNumber={number}"
    )
    return Request("GET", path, base_url + path, codec_headers(codec, body=False))


def build_post_message(
    base_url: str,
    shop_id: int,
    conversation_id: int,
    message: MessageChanges,
    codec: Codec,
    *,
    allow_duplicates: bool = False,
) -> Request:
    """Check and render ``POST v1/Shops/{shopId}/MessageConversations/{id}/Messages``.

    Args:
        allow_duplicates: Mark the request as safe to repeat after a timeout or a 5xx,
            accepting that the server may then store the message twice.

    Raises:
        ValidationError: Bad ids, an ``Id`` other than 0 (this endpoint inserts), a
            ``MessageConversationId`` other than the URL's, a field breaking the
            constraints, or a value the codec's format cannot carry.
    """
    path = f"{conversation_path(shop_id, conversation_id)}/Messages"
    if not isinstance(message, MessageChanges):
        found = type(message).__name__
        raise ValidationError([FieldError("<body>", f"expected MessageChanges, got {found}")])
    errors = [] if is_valid(message) else field_errors(message)
    if message.id != 0:
        errors.append(FieldError("Id", f"is {message.id!r}; a new message must have Id 0"))
    if message.message_conversation_id != conversation_id:
        errors.append(
            FieldError(
                "MessageConversationId",
                f"is {message.message_conversation_id!r} but the URL names conversation "
                f"{conversation_id}",
            )
        )
    if errors:
        raise ValidationError(errors, type_name="MessageChanges")
    body = codec.encode(message)
    return Request(
        "POST", path, base_url + path, codec_headers(codec), body, idempotent=allow_duplicates
    )


def build_update(
    base_url: str,
    shop_id: int,
    conversation_id: int,
    changes: MessageConversationChanges,
    codec: Codec,
) -> Request:
    """Check and render ``PUT v1/Shops/{shopId}/MessageConversations/{id}``.

    Raises:
        ValidationError: Every problem at once: bad ids, fields breaking the help
            page's constraints, ``Id``/``ShopId`` not matching the URL, or a value the
            codec's format cannot carry. Nothing has been sent.
    """
    path = conversation_path(shop_id, conversation_id)
    if not isinstance(changes, MessageConversationChanges):
        raise ValidationError(
            [
                FieldError(
                    "<body>",
                    f"expected MessageConversationChanges, got {type(changes).__name__}",
                )
            ]
        )
    errors = [] if is_valid(changes) else field_errors(changes)
    if changes.id is not None and changes.id != conversation_id:
        errors.append(
            FieldError("Id", f"is {changes.id!r} but the URL names conversation {conversation_id}")
        )
    if changes.shop_id is not None and changes.shop_id != shop_id:
        errors.append(
            FieldError("ShopId", f"is {changes.shop_id!r} but the URL names shop {shop_id}")
        )
    if errors:
        raise ValidationError(errors, type_name="MessageConversationChanges")
    body = codec.encode(changes)
    return Request("PUT", path, base_url + path, codec_headers(codec), body, idempotent=True)


_STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def api_error(
    request: Request, status: int, headers: Mapping[str, str], body: bytes, *, attempts: int = 1
) -> ApiError:
    """The typed error for a non-2xx answer, with the server's message if it gave one."""
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ClientError if status >= 400 else ApiError
    parsed = parse_error_body(body, headers.get("Content-Type"))
    return cls(
        status,
        method=request.method,
        url=request.url,
        body=body,
        message=parsed.message if parsed else None,
        model_state=parsed.model_state if parsed else None,
        headers=headers,
        attempts=attempts,
    )


def pick_decoder(codec: Codec, registry: CodecRegistry, content_type: str | None) -> Codec:
    """The codec for an answer's ``Content-Type``: the client's own when it matches.

    Raises:
        DecodeError: The answer's media type has no codec (an HTML error page ...).
    """
    if not content_type:
        return codec
    own = codec.media_type
    if content_type.startswith(own) and content_type[len(own) : len(own) + 1] in ("", ";"):
        return codec  # the usual case, without normalising: "application/json; charset=..."
    media_type = normalize_media_type(content_type)
    if media_type == codec.media_type:
        return codec
    found = registry.lookup(content_type)
    if found is None:
        raise DecodeError(f"unexpected Content-Type {content_type[:100]!r}", media_type=media_type)
    if type(found) is type(codec):
        return codec
    return found


def read_answer(
    request: Request,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    codec: Codec,
    registry: CodecRegistry,
    expect: Any,
    check: Callable[[Any], None] | None = None,
    attempts: int = 1,
) -> Any:
    """Map an answer to the expected model, or raise the typed error.

    Raises:
        ApiError: A non-2xx status (the subclass per status family).
        DecodeError: A 2xx whose body is not an ``expect``.
        ResponseMismatchError: A 2xx about another resource (from ``check``).
    """
    if not 200 <= status < 300:
        raise api_error(request, status, headers, body, attempts=attempts)
    decoder = pick_decoder(codec, registry, headers.get("Content-Type"))
    value = decoder.decode(body, expect)
    if check is not None:
        check(value)
    return value


def check_page_items(shop_id: int, conversation_id: int | None = None) -> Callable[[Any], None]:
    """A ``check`` for list pages: every item belongs to the shop (and conversation)."""

    def check(page: Any) -> None:
        for index, item in enumerate(page):
            if isinstance(item, MessageConversationBasicInfo) and item.shop_id != shop_id:
                raise ResponseMismatchError(
                    f"asked for shop {shop_id}, item [{index}] is in shop {item.shop_id}"
                )
            if (
                isinstance(item, MessageBasicInfo)
                and item.message_conversation_id != conversation_id
            ):
                raise ResponseMismatchError(
                    f"asked for conversation {conversation_id}, item [{index}] is in "
                    f"conversation {item.message_conversation_id}"
                )

    return check


def check_message(conversation_id: int) -> Callable[[Any], None]:
    """A ``check`` for a posted message's answer: it is in the conversation posted to."""

    def check(value: Any) -> None:
        if value.message_conversation_id != conversation_id:
            raise ResponseMismatchError(
                f"posted to conversation {conversation_id}, the answer is a message of "
                f"conversation {value.message_conversation_id}"
            )

    return check


def check_conversation(shop_id: int, conversation_id: int) -> Callable[[Any], None]:
    """A ``check`` for :func:`read_answer`: the answer is the conversation we updated."""

    def check(value: Any) -> None:
        if not isinstance(value, MessageConversation):  # pragma: no cover - decode guarantees
            raise ResponseMismatchError("not a MessageConversation")
        if value.id != conversation_id or value.shop_id != shop_id:
            raise ResponseMismatchError(
                f"asked to update conversation {conversation_id} in shop {shop_id}, "
                f"the answer is conversation {value.id} in shop {value.shop_id}"
            )

    return check
