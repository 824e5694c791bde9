"""A fake ShopCtrl server: a real aiohttp application on 127.0.0.1, for tests and demos.

It emulates the ASP.NET Web API behind ``v1/Shops/{shopId}/MessageConversations``: HTTP
Basic auth, content negotiation by ``Accept`` (and, like Web API, by the request's
``Content-Type`` when ``Accept`` matches nothing), byte-exact compact Json.NET and
XmlSerializer bodies, ``HttpError`` bodies with ``ModelState`` for 400s, and faults on
demand. Because it is a real server on a real socket, a client under test goes through
its whole stack (connection pool, timeouts, retries) exactly as it would in production.

Use it in your own tests (pytest-asyncio)::

    import pytest
    from shopapi.testing import FakeShopServer, Fault

    @pytest.fixture
    async def shop():
        async with FakeShopServer(username="user", password="secret") as server:
            server.seed(10)                      # conversations 1..10 in shop 1
            yield server

    async def test_update_retries_a_503(shop):
        shop.inject(Fault.status(503, retry_after=0), conversation_id=3)
        ...  # point your client at shop.base_url with auth ("user", "secret")
        assert shop.put_count(3) == 2 and shop.saves(3) == 1

Endpoints (paths match case-insensitively, as ASP.NET routing does):

* ``PUT  /v1/Shops/{shopId}/MessageConversations/{id}``: stores the
  ``MessageConversationChanges`` and answers the stored ``MessageConversation``.
* ``GET  /v1/Shops/{shopId}/MessageConversations/{id}``: the stored conversation.
  **The real API documents no such endpoint**: none of its help pages found so far
  has a GET of a single conversation. The fake serves one so that
  ``MessageConversations.get`` (undocumented too, and said so) can be tested; a test
  passing here says nothing about whether your tenant serves it.
* ``GET  /v1/Shops/{shopId}/MessageConversations?pageSize=&pageNumber=``: a bare array
  of ``MessageConversationBasicInfo``, sorted by id; an empty page ends the list.
* ``GET  /v1/Shops/{shopId}/MessageConversations/{id}/Messages?pageSize=&pageNumber=``:
  the conversation's ``MessageBasicInfo``, oldest first, paged the same way.
* ``POST /v1/Shops/{shopId}/MessageConversations/{id}/Messages``: stores a
  ``MessageChanges`` (``Id`` 0) under a new id and answers its ``MessageBasicInfo``.
  Message enums are stored as integers and written in XML with the server's own names
  (:data:`MESSAGE_SENDER_NAMES`, :data:`MESSAGE_TYPE_NAMES`).

Faults (queue them with :meth:`FakeShopServer.inject`, or draw them at random with
:meth:`FakeShopServer.fault_rate`). Each one replaces the processing of one request;
except for ``delay``, the update it hits is **not** stored:

* ``Fault.status(code, retry_after=..., body=..., content_type=...)``: answer that
  status (default body: an ``HttpError`` "<Reason> (injected)").
* ``Fault.delay(seconds)``: stall, then answer (and store) normally, so a client
  timeout fires while the update still lands.
* ``Fault.drop(after_body=False)``: close the connection with no answer, before or
  after reading the request body.
* ``Fault.truncated()``: a 200 whose ``Content-Length`` promises more than is sent.
* ``Fault.malformed(body)``: a 200 with a body that does not parse.
* ``Fault.wrong_content_type()``: a 200 with a correct body labelled ``text/html``.
* ``Fault.other_conversation()``: a 200 describing another conversation (``Id+1000000``).

Faults apply to authenticated requests on the endpoints above (a 401 never consumes one).

A capacity model makes it behave like a server with finite workers, for adaptive
concurrency: ``FakeShopServer(capacity=4, service_time=0.02, queue_limit=16)`` serves
4 requests at once for 20 ms each, queues up to 16 more first come first served (so
latency grows with load), and answers the rest at once with 503, or with
``overload=Fault.status(429, retry_after=1)``. ``server.capacity = 2`` changes it
during a run; :meth:`FakeShopServer.load` and :attr:`FakeShopServer.rejections` say what
it went through.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import math
import re
import time
import types
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from http import HTTPStatus
from typing import Any, Final, Literal, TypeAlias

import attrs
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiMapping

from ._exceptions import DecodeError, ValidationError
from ._protocol.errorbody import render_error_body
from ._resources.message_conversations import (
    MessageBasicInfo,
    MessageChanges,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
)
from ._wire.enums import PlatformKindEnum
from ._wire.fields import wire_fields
from ._wire.timestamps import Timestamp
from ._wire.validation import INT32_MAX, INT32_MIN, field_errors, utf16_length
from .codecs import JsonCodec, XmlCodec, normalize_media_type

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "OTHER_CONVERSATION_OFFSET",
    "FakeShopServer",
    "Fault",
    "FaultKind",
    "Load",
    "RecordedRequest",
]

FaultKind: TypeAlias = Literal[
    "status", "delay", "drop", "truncated", "malformed", "wrong_content_type", "other_conversation"
]
_FAULT_KINDS: Final = frozenset(
    {
        "status",
        "delay",
        "drop",
        "truncated",
        "malformed",
        "wrong_content_type",
        "other_conversation",
    }
)

#: Request bodies larger than this are refused with 413 (bytes).
DEFAULT_MAX_BODY_SIZE: Final = 4 * 1024 * 1024
#: Added to a conversation's id by ``Fault.other_conversation()``.
OTHER_CONVERSATION_OFFSET: Final = 1_000_000
_REALM: Final = "ShopCtrl"
_SHUTDOWN_TIMEOUT: Final = 1.0


# -- faults -------------------------------------------------------------------------------


def _check_seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _validate_kind(instance: Fault, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in _FAULT_KINDS:
        raise ValueError(f"unknown fault kind {value!r}; expected one of {sorted(_FAULT_KINDS)}")


@attrs.frozen(repr=False)
class Fault:
    """One injected misbehaviour: plain data, built with the constructors below.

    ``repr(fault)`` is the constructor call that builds it, e.g.
    ``Fault.status(503, retry_after=2)``.

    Attributes:
        kind: Which misbehaviour.
        code: The status of a ``status`` fault.
        retry_after: The ``Retry-After`` value of a ``status`` fault.
        body: The body of a ``status`` or ``malformed`` fault (``None``: the default).
        content_type: That body's ``Content-Type`` (``None``: the negotiated one).
        seconds: How long a ``delay`` fault stalls.
        after_body: Whether a ``drop`` fault reads the request body first.
    """

    kind: FaultKind = attrs.field(validator=_validate_kind)
    code: int | None = None
    retry_after: float | str | None = None
    body: bytes | None = None
    content_type: str | None = None
    seconds: float = 0.0
    after_body: bool = False

    @classmethod
    def status(
        cls,
        code: int,
        *,
        retry_after: float | str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Fault:
        """Answer ``code`` instead of processing the request.

        Args:
            code: An HTTP status, 200..599.
            retry_after: Sent as ``Retry-After``: a number of seconds (``2``; a whole
                float is written as an integer) or a string sent verbatim (an HTTP
                date, or garbage to test a client's parser). RFC 9110 allows whole
                seconds only: a fraction such as ``0.5`` is written as ``0.5``, which
                shopapi's client ignores (it falls back to its own backoff).
            body: The body; by default an ASP.NET ``HttpError`` in the negotiated format
                whose message is ``"<Reason> (injected)"``.
            content_type: The body's ``Content-Type``; by default the negotiated one.
        """
        if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
            raise ValueError(f"code must be an HTTP status in 200..599, got {code!r}")
        if retry_after is not None and not isinstance(retry_after, str):
            retry_after = _check_seconds("retry_after", retry_after)
        if isinstance(retry_after, str) and ("\r" in retry_after or "\n" in retry_after):
            raise ValueError("retry_after must not contain CR or LF")
        return cls(
            "status", code=code, retry_after=retry_after, body=body, content_type=content_type
        )

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Stall ``seconds``, then answer normally: the update *is* stored.

        This is the fault behind client timeouts: the client gives up while the server
        still applies the change.
        """
        return cls("delay", seconds=_check_seconds("seconds", seconds))

    @classmethod
    def drop(cls, *, after_body: bool = False) -> Fault:
        """Close the connection without answering; the update is not stored.

        Args:
            after_body: Read the whole request body first (the request provably
                arrived), rather than closing before reading it.
        """
        return cls("drop", after_body=bool(after_body))

    @classmethod
    def truncated(cls) -> Fault:
        """Answer 200 with a ``Content-Length`` larger than the body sent, then close."""
        return cls("truncated")

    @classmethod
    def malformed(cls, body: bytes = b'{"Id": 1,', content_type: str | None = None) -> Fault:
        """Answer 200 with ``body`` (by default cut-off JSON) under the negotiated type."""
        return cls("malformed", body=bytes(body), content_type=content_type)

    @classmethod
    def wrong_content_type(cls) -> Fault:
        """Answer 200 with the body a success would carry, labelled ``text/html``."""
        return cls("wrong_content_type")

    @classmethod
    def other_conversation(cls) -> Fault:
        """Answer 200 with a valid conversation whose ``Id`` is another one's (+1000000)."""
        return cls("other_conversation")

    def __repr__(self) -> str:
        args: list[str] = []
        if self.kind == "status":
            args.append(str(self.code))
            if self.retry_after is not None:
                args.append(f"retry_after={self.retry_after!r}")
            if self.body is not None:
                args.append(f"body={self.body!r}")
            if self.content_type is not None:
                args.append(f"content_type={self.content_type!r}")
        elif self.kind == "delay":
            args.append(repr(self.seconds))
        elif self.kind == "drop":
            if self.after_body:
                args.append("after_body=True")
        elif self.kind == "malformed":
            args.append(repr(self.body))
            if self.content_type is not None:
                args.append(f"content_type={self.content_type!r}")
        return f"Fault.{self.kind}({', '.join(args)})"


_DEFAULT_TRANSIENT: Final = (Fault.status(503),)
_DEFAULT_PERMANENT: Final = Fault.status(400)


@attrs.frozen
class _FaultRate:
    transient: float
    permanent: float
    seed: int
    transient_faults: tuple[Fault, ...]
    permanent_fault: Fault


_MASK64: Final = (1 << 64) - 1


def _draw(*keys: int) -> float:
    """A uniform float in [0, 1) that depends only on ``keys`` (splitmix64 mixing).

    Stable across processes and Python versions, unlike ``hash`` of strings, and far
    cheaper than seeding a ``random.Random`` per request.
    """
    h = 0x9E3779B97F4A7C15
    for key in keys:
        h = (h ^ (key & _MASK64)) + 0x9E3779B97F4A7C15 & _MASK64
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB & _MASK64
        h ^= h >> 31
    return (h >> 11) * (1.0 / (1 << 53))


@attrs.frozen
class Load:
    """What the capacity model went through (see :meth:`FakeShopServer.load`).

    Attributes:
        capacity: Requests served at once now (``None``: no capacity model).
        in_service: Requests being served now.
        queued: Requests waiting for a slot now.
        peak_in_service: The most served at once so far.
        peak_queued: The longest the queue has been.
        served: Requests that went through a slot.
        rejected: Requests refused because the queue was full.
    """

    capacity: int | None
    in_service: int
    queued: int
    peak_in_service: int
    peak_queued: int
    served: int
    rejected: int


def _check_capacity(name: str, value: int | None, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be None or an int >= {minimum}, got {value!r}")
    return value


# -- recorded requests --------------------------------------------------------------------

_SECRET_HEADERS: Final = ("Authorization", "Proxy-Authorization")
_AUTH_SCHEMES: Final = frozenset({"basic", "bearer", "digest", "negotiate", "ntlm"})


def _redact(value: str) -> str:
    scheme = value.split(None, 1)[0] if value.strip() else ""
    if scheme.lower() in _AUTH_SCHEMES:
        return f"{scheme} [REDACTED]"
    return "[REDACTED]"


@attrs.frozen
class RecordedRequest:
    """One request as the server saw it; credentials are redacted.

    Attributes:
        method: The HTTP method.
        path: The decoded path (``/v1/Shops/1/MessageConversations/2``).
        query: The query parameters.
        headers: The request headers; ``Authorization`` keeps only its scheme
            (``Basic [REDACTED]``).
        body: The request body; ``b""`` when it was never read (a drop before the body,
            or a 413).
        shop_id: The shop in the URL, when the route matched.
        conversation_id: The conversation in the URL, when there was one.
        status: The status answered; ``None`` when the connection was dropped.
        fault: The fault that was applied, if any.
        received_at: ``time.monotonic()`` when the request reached the handler, to check
            a client's backoff.
    """

    method: str
    path: str
    query: MultiMapping[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    shop_id: int | None
    conversation_id: int | None
    status: int | None
    fault: Fault | None
    received_at: float


class _Exchange:
    """What one request did, for the record."""

    __slots__ = ("body", "conversation_id", "dropped", "fault", "received_at", "shop_id", "status")

    def __init__(self) -> None:
        self.received_at = time.monotonic()
        self.body: bytes | None = None
        self.shop_id: int | None = None
        self.conversation_id: int | None = None
        self.fault: Fault | None = None
        self.dropped = False
        self.status: int | None = None


# -- formats and negotiation --------------------------------------------------------------

_Codec: TypeAlias = JsonCodec | XmlCodec


@attrs.frozen
class _Format:
    """A response format: the Web API formatter and the media type it matched on."""

    name: Literal["json", "xml"]
    media_type: str
    codec: _Codec
    content_type: str = attrs.field(init=False)

    @content_type.default
    def _content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


_JSON_CODEC: Final = JsonCodec()
_XML_CODEC: Final = XmlCodec()
_FORMATS: Final[dict[str, _Format]] = {
    "application/json": _Format("json", "application/json", _JSON_CODEC),
    "text/json": _Format("json", "text/json", _JSON_CODEC),
    "application/xml": _Format("xml", "application/xml", _XML_CODEC),
    "text/xml": _Format("xml", "text/xml", _XML_CODEC),
}
# Web API's formatters in order, each with its supported media types in order.
_FORMATTERS: Final = (
    (_FORMATS["application/json"], _FORMATS["text/json"]),
    (_FORMATS["application/xml"], _FORMATS["text/xml"]),
)
_DEFAULT_FORMAT: Final = _FORMATS["application/json"]
_LITERAL, _SUBTYPE_RANGE, _ALL_RANGE = 0, 1, 2


def _parse_accept(accept: str) -> list[tuple[float, int, str]]:
    """``(q, specificity, media range)`` for each acceptable range, best first."""
    entries: list[tuple[float, int, str]] = []
    for part in accept.split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        main, sep, sub = media.partition("/")
        if not sep or not main or not sub:
            continue
        q = 1.0
        valid = True
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    valid = False
                if not (0.0 <= q <= 1.0):  # also refuses NaN
                    valid = False
        if not valid or q == 0.0:
            continue
        if media == "*/*":
            specificity = _ALL_RANGE
        elif sub == "*":
            specificity = _SUBTYPE_RANGE
        else:
            specificity = _LITERAL
        entries.append((q, specificity, media))
    entries.sort(key=lambda e: (-e[0], e[1]))  # stable: header order breaks ties
    return entries


def _negotiate(accept: str | None, content_type: str | None) -> _Format:
    """Web API's ``DefaultContentNegotiator``, for the JSON and XML formatters.

    Each formatter takes its first match in the sorted ``Accept``; per kind of match
    (literal, ``type/*``, ``*/*``) the highest quality wins, the JSON formatter on a tie;
    a literal match beats a range of equal quality. Failing that, the format of the
    request body; failing that, JSON.
    """
    if accept:
        entries = _parse_accept(accept)
        best: dict[int, tuple[float, _Format]] = {}
        for formats in _FORMATTERS:
            match = _first_match(entries, formats)
            if match is not None:
                q, kind, fmt = match
                if kind not in best or q > best[kind][0]:
                    best[kind] = (q, fmt)
        chosen: tuple[float, _Format] | None = None
        for kind in (_LITERAL, _SUBTYPE_RANGE, _ALL_RANGE):
            candidate = best.get(kind)
            if candidate is not None and (chosen is None or candidate[0] > chosen[0]):
                chosen = candidate
        if chosen is not None:
            return chosen[1]
    if content_type:
        by_body = _FORMATS.get(normalize_media_type(content_type))
        if by_body is not None:
            return by_body
    return _DEFAULT_FORMAT


def _first_match(
    entries: list[tuple[float, int, str]], formats: tuple[_Format, ...]
) -> tuple[float, int, _Format] | None:
    for q, kind, media in entries:
        for fmt in formats:
            if kind == _ALL_RANGE or (
                kind == _SUBTYPE_RANGE and fmt.media_type.startswith(media[:-1])
            ):
                return q, kind, fmt
            if kind == _LITERAL and media == fmt.media_type:
                return q, kind, fmt
    return None


_NEGOTIATED: dict[tuple[str | None, str | None], _Format] = {}


def _negotiated_format(accept: str | None, content_type: str | None) -> _Format:
    """:func:`_negotiate`, memoised: clients send the same few header values."""
    key = (accept, content_type)
    fmt = _NEGOTIATED.get(key)
    if fmt is None:
        fmt = _negotiate(accept, content_type)
        if len(_NEGOTIATED) >= 1024:
            _NEGOTIATED.clear()
        _NEGOTIATED[key] = fmt
    return fmt


# -- models -------------------------------------------------------------------------------

_CONVERSATION_NAMES: Final = tuple(a.name for a in attrs.fields(MessageConversation))
_BASIC_NAMES: Final = tuple(a.name for a in attrs.fields(MessageConversationBasicInfo))
_MAX_LENGTHS: Final = {
    f.wire: (f.name, f.max_length)
    for f in wire_fields(MessageConversationChanges)
    if f.max_length is not None
}


def _to_conversation(changes: MessageConversationChanges) -> MessageConversation:
    return MessageConversation(**{n: getattr(changes, n) for n in _CONVERSATION_NAMES})


def _to_basic(conversation: MessageConversation) -> MessageConversationBasicInfo:
    return MessageConversationBasicInfo(**{n: getattr(conversation, n) for n in _BASIC_NAMES})


def _field_message(changes: MessageConversationChanges, wire: str, message: str) -> str:
    """ASP.NET's ``MaxLengthAttribute`` text for length errors; ours for the rest."""
    spec = _MAX_LENGTHS.get(wire)
    if spec is not None:
        value = getattr(changes, spec[0])
        if isinstance(value, str) and utf16_length(value) > spec[1]:
            return (
                f"The field {wire} must be a string or array type with a maximum length "
                f"of '{spec[1]}'."
            )
    return f"The field {wire} {message}."


_FIRST_NAMES: Final = (
    "Anna",
    "Bram",
    "Zoë",
    "José",
    "Chloé",
    "Søren",
    "Li",
    "Fatima",
    "Jürgen",
    "Noor",
    "Émile",
    "Olivia",
)
_LAST_NAMES: Final = (
    "de Vries",
    "Müller",
    "Álvarez",
    "O'Brien",
    "Jansen",
    "Nakamura",
    "Kowalski",
    "Dubois",
    "Smith",
    "Øster",
)
_PATHS: Final = ("/", "/checkout", "/cart", "/product/4711", "/account/orders", "/help")
_TYPES: Final = ("chat", "email", "whatsapp", "phone", "contact-form")
_AGENTS: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
_NOTES: Final = (
    None,
    "Customer asked about delivery times.",
    "Refund approved <€25 & under review>\nFollow up on Monday.",
    "Wants an invoice with VAT number; forwarded to billing.",
    "",
)
_CET: Final = timezone(timedelta(hours=1))
_EPOCH: Final = datetime(2026, 1, 11, 16, 13, 16, tzinfo=_CET)


def _sample_conversation(shop_id: int, conversation_id: int) -> MessageConversation:
    """A realistic conversation, a pure function of its ids.

    It exercises what the codecs must get right: seven-digit ticks, ``Z`` and offset
    dates, nulls, non-ASCII names, and ``<``, ``&`` and a newline in a note.
    """
    n = _draw(shop_id, conversation_id, 0x5EED)
    k = int(n * (1 << 40))
    first = _FIRST_NAMES[k % len(_FIRST_NAMES)]
    last = _LAST_NAMES[(k >> 4) % len(_LAST_NAMES)]
    created = _EPOCH - timedelta(seconds=(k >> 8) % 5_000_000, microseconds=(k >> 3) % 1_000_000)
    ticks = (k >> 12) % 10
    creation = Timestamp.from_datetime(created, sub_microsecond_ticks=ticks)
    last_activity = Timestamp.from_datetime(
        (created + timedelta(minutes=(k >> 16) % 600, microseconds=(k >> 5) % 1000)).astimezone(
            UTC
        ),
        sub_microsecond_ticks=(k >> 13) % 10,
    )
    finished = None if k % 3 == 0 else last_activity + timedelta(minutes=5)
    has_order = k % 4 != 0
    has_ticket = k % 5 == 0
    host = "shop.example.com" if k % 2 else "www.example.nl"
    path = _PATHS[(k >> 6) % len(_PATHS)]
    email_name = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    return MessageConversation(
        id=conversation_id,
        creation_date=creation,
        last_activity_date=last_activity,
        finished_date=finished,
        customer_id=None if k % 7 == 0 else 10_000 + (k >> 9) % 90_000,
        customer_name=f"{first} {last}",
        rating=None if k % 2 else 1 + (k >> 7) % 5,
        conversation_type=_TYPES[(k >> 10) % len(_TYPES)],
        order_id=(k >> 11) % 1_000_000 if has_order else None,
        order_code=f"ORD-{(k >> 11) % 1_000_000:06d}" if has_order else None,
        ticket_id=(k >> 14) % 100_000 if has_ticket else None,
        ticket_code=(k >> 15) % 100_000 if has_ticket else None,
        shop_id=shop_id,
        employee_id=None if k % 3 == 1 else 1 + (k >> 17) % 40,
        platform_kind_enum_value=PlatformKindEnum.FlowAi,
        channel_id=f"web-widget-{1 + (k >> 18) % 4}",
        external_key=f"{int(_draw(shop_id, conversation_id, 1) * 2**53):014x}-{conversation_id}",
        customer_email=f"{email_name}@example.com"[:50],
        customer_phone=f"+31 6 {(k >> 19) % 10_000_000:08d}",
        user_agent=_AGENTS[(k >> 20) % len(_AGENTS)],
        host_name=host,
        path_name=path,
        platform="web" if k % 2 else "mobile",
        url=f"https://{host}{path}?utm_source=newsletter&conv={conversation_id}",
        realm="eu" if k % 3 else "nl",
        note=_NOTES[(k >> 21) % len(_NOTES)],
    )


# -- routing ------------------------------------------------------------------------------

_PAGE_PARAMS: Final = {"pagesize": "pageSize", "pagenumber": "pageNumber"}
_ROUTE: Final = re.compile(
    r"/v1/shops/([^/]+)/messageconversations(?:/([^/]+)(/messages)?)?", re.IGNORECASE
)
_INT: Final = re.compile(r"[+-]?[0-9]{1,10}", re.ASCII)


def _int32(text: str) -> int | None:
    """Web API's ``int`` route/parameter constraint."""
    if _INT.fullmatch(text) is None:
        return None
    value = int(text)
    return value if INT32_MIN <= value <= INT32_MAX else None


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _format_retry_after(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- the server ---------------------------------------------------------------------------


class FakeShopServer:
    """A ShopCtrl look-alike on a real socket, with faults on demand.

    Args:
        username: The HTTP Basic user it accepts.
        password: Its password (never shown in a repr or in :attr:`requests`).
        host: The address to bind; loopback by default, so nothing outside this machine
            can reach it.
        port: The port; 0 picks a free one (read :attr:`base_url` after starting).
        create_missing: Store a PUT for an unknown conversation instead of answering 404.
        record: Keep every request in :attr:`requests` (turn off for long benchmarks).
        max_body_size: Larger request bodies get a 413.
        latency: Seconds every authenticated API request takes to process, to make
            concurrency visible in demos and benchmarks. It is not a server slot: any
            number of requests wait it out at once (network latency, as it were).
        capacity: Requests served at once (``None``, the default: no limit). Settable
            while running through :attr:`capacity`.
        service_time: Seconds each request holds one of the ``capacity`` slots.
        queue_limit: Requests that may wait for a slot (``None``: no limit). Beyond
            it, a request is answered ``overload`` at once, without being processed.
        overload: The answer to a request the queue cannot hold: a ``Fault.status``,
            503 by default; ``Fault.status(429, retry_after=1)`` for a throttling server.
    """

    def __init__(
        self,
        *,
        username: str = "user",
        password: str = "secret",
        host: str = "127.0.0.1",
        port: int = 0,
        create_missing: bool = False,
        record: bool = True,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        latency: float = 0.0,
        capacity: int | None = None,
        service_time: float = 0.0,
        queue_limit: int | None = None,
        overload: Fault = _DEFAULT_TRANSIENT[0],
    ) -> None:
        self.username = username
        self._password = password
        self.host = host
        self.port = port
        self.create_missing = create_missing
        self.record = record
        self.max_body_size = max_body_size
        self.latency = _check_seconds("latency", latency)
        self._capacity = _check_capacity("capacity", capacity, 1)
        self.service_time = _check_seconds("service_time", service_time)
        self.queue_limit = _check_capacity("queue_limit", queue_limit, 0)
        if not isinstance(overload, Fault) or overload.kind != "status":
            raise ValueError(f"overload must be a Fault.status(...), got {overload!r}")
        self.overload = overload
        self._in_service = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._peak_in_service = 0
        self._peak_queued = 0
        self._served = 0
        self._rejections: list[float] = []
        userpass = f"{username}:{password}".encode()
        self._expected_userpass = userpass
        self._expected_header = b"Basic " + base64.b64encode(userpass)

        self._store: dict[tuple[int, int], MessageConversation] = {}
        self._conversations = types.MappingProxyType(self._store)
        self._sorted_ids: dict[int, list[int]] = {}
        self.requests: list[RecordedRequest] = []
        self._put_counts: Counter[int] = Counter()
        self._saves: Counter[int] = Counter()
        self._messages: dict[tuple[int, int], list[MessageChanges]] = {}
        self._post_counts: Counter[int] = Counter()
        self._next_message_id = 1
        self._attempts: Counter[int | None] = Counter()
        self._faults: deque[Fault] = deque()
        self._faults_by_id: dict[int, deque[Fault]] = {}
        self._rate: _FaultRate | None = None

        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._bound_port: int | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._runner is not None else "not running"
        return (
            f"<FakeShopServer {where} user={self.username!r} "
            f"conversations={len(self._store)} requests={len(self.requests)}>"
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve; :attr:`base_url` is valid afterwards."""
        if self._runner is not None:
            raise RuntimeError("FakeShopServer is already running")
        app = web.Application(client_max_size=self.max_body_size)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=1024)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._bound_port = int(runner.addresses[0][1])
        self._closing = asyncio.Event()
        self._runner = runner

    async def close(self) -> None:
        """Stop serving and drop open connections; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._closing is not None:
            self._closing.set()  # wakes delay faults so shutdown does not wait for them
        self._admit_waiting()  # and the queue: every waiter gets a slot, then is dropped
        await runner.cleanup()

    async def __aenter__(self) -> FakeShopServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        if self._runner is None or self._bound_port is None:
            raise RuntimeError("FakeShopServer is not running; start it first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}"

    # -- data -----------------------------------------------------------------------------

    def add(self, conversation: MessageConversation) -> None:
        """Store ``conversation`` (replacing the one with the same shop and id)."""
        if not isinstance(conversation, MessageConversation):
            raise TypeError(f"expected a MessageConversation, got {type(conversation).__name__}")
        self._put(conversation)

    def _put(self, conversation: MessageConversation) -> None:
        key = (conversation.shop_id, conversation.id)
        if key not in self._store:
            self._sorted_ids.pop(conversation.shop_id, None)
        self._store[key] = conversation

    def seed(self, n: int, *, shop_id: int = 1, start_id: int = 1) -> list[MessageConversation]:
        """Store ``n`` realistic conversations with ids ``start_id..`` and return them.

        The data is a pure function of the ids, so two runs see the same conversations.
        """
        out = [_sample_conversation(shop_id, start_id + i) for i in range(n)]
        for conversation in out:
            self._put(conversation)
        return out

    def get(self, shop_id: int, conversation_id: int) -> MessageConversation | None:
        """The stored conversation, or ``None``."""
        return self._store.get((shop_id, conversation_id))

    @property
    def conversations(self) -> Mapping[tuple[int, int], MessageConversation]:
        """Every stored conversation by ``(shop_id, id)`` (a live, read-only view)."""
        return self._conversations

    def put_count(self, conversation_id: int) -> int:
        """How many PUTs were routed to that id, whatever their answer (faults included)."""
        return self._put_counts[conversation_id]

    def saves(self, conversation_id: int) -> int:
        """How many PUTs for that id were actually stored."""
        return self._saves[conversation_id]

    def post_count(self, conversation_id: int) -> int:
        """How many message POSTs were routed to that conversation (faults included)."""
        return self._post_counts[conversation_id]

    def messages(self, shop_id: int, conversation_id: int) -> list[MessageChanges]:
        """The conversation's stored messages, oldest first (a copy)."""
        return list(self._messages.get((shop_id, conversation_id), ()))

    def seed_messages(self, shop_id: int, conversation_id: int, n: int) -> list[MessageChanges]:
        """Store ``n`` messages in a stored conversation and return them.

        Enum values are integers; the server renders them in XML with its own names
        (:data:`MESSAGE_SENDER_NAMES`, :data:`MESSAGE_TYPE_NAMES`), as the real one would
        with the mapping the API does not document.
        """
        if (shop_id, conversation_id) not in self._store:
            raise KeyError(f"no conversation {conversation_id} in shop {shop_id}; seed it first")
        out = []
        for i in range(n):
            message = _sample_message(conversation_id, self._next_message_id, i)
            self._next_message_id += 1
            self._messages.setdefault((shop_id, conversation_id), []).append(message)
            out.append(message)
        return out

    # -- capacity -------------------------------------------------------------------------

    @property
    def capacity(self) -> int | None:
        """Requests served at once; set it to change the capacity during a run. Raising
        it admits waiting requests at once; lowering it lets those in service finish."""
        return self._capacity

    @capacity.setter
    def capacity(self, value: int | None) -> None:
        self._capacity = _check_capacity("capacity", value, 1)
        self._admit_waiting()

    def load(self) -> Load:
        """What the capacity model is doing and went through, as a snapshot."""
        return Load(
            capacity=self._capacity,
            in_service=self._in_service,
            queued=sum(1 for w in self._waiting if not w.done()),
            peak_in_service=self._peak_in_service,
            peak_queued=self._peak_queued,
            served=self._served,
            rejected=len(self._rejections),
        )

    @property
    def rejections(self) -> list[float]:
        """``time.monotonic()`` of each refusal for a full queue, oldest first (a copy)."""
        return list(self._rejections)

    def _admit_waiting(self) -> None:
        closing = self._closing is not None and self._closing.is_set()
        capacity = None if closing else self._capacity
        while self._waiting and (capacity is None or self._in_service < capacity):
            waiter = self._waiting.popleft()
            if not waiter.done():
                self._take_slot()
                waiter.set_result(None)

    def _take_slot(self) -> None:
        self._in_service += 1
        self._peak_in_service = max(self._peak_in_service, self._in_service)

    async def _serve_in_a_slot(self) -> Literal["served", "refused", "closing"]:
        """Wait for one of the ``capacity`` slots, hold it ``service_time``, give it back."""
        capacity = self._capacity
        if capacity is None or self._in_service < capacity:
            self._take_slot()
        elif self.queue_limit is None or len(self._waiting) < self.queue_limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            self._peak_queued = max(self._peak_queued, len(self._waiting))
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._give_slot()  # granted, then cancelled
                else:
                    self._waiting.remove(waiter)
                raise
        else:
            self._rejections.append(time.monotonic())
            return "refused"
        try:
            closing = await self._stall(self.service_time) if self.service_time else False
        finally:
            self._give_slot()
        self._served += 1
        return "closing" if closing else "served"

    def _give_slot(self) -> None:
        self._in_service -= 1
        self._admit_waiting()

    # -- faults ---------------------------------------------------------------------------

    def inject(self, *faults: Fault, conversation_id: int | None = None) -> None:
        """Queue ``faults``, first in first out.

        With ``conversation_id``, only requests for that conversation consume them, so a
        bulk test does not depend on the order requests arrive in; without, the next
        requests of any id do. A request takes from its id's queue first.
        """
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"expected a Fault, got {type(fault).__name__}")
        if conversation_id is None:
            self._faults.extend(faults)
        else:
            self._faults_by_id.setdefault(conversation_id, deque()).extend(faults)

    def fault_rate(
        self,
        *,
        transient: float = 0.0,
        permanent: float = 0.0,
        seed: int = 0,
        transient_faults: Sequence[Fault] = _DEFAULT_TRANSIENT,
        permanent_fault: Fault = _DEFAULT_PERMANENT,
    ) -> None:
        """Draw faults at random, reproducibly, for soak tests.

        Each conversation id is permanently failing with probability ``permanent``
        (every request for it gets ``permanent_fault``); every other request gets one of
        ``transient_faults`` with probability ``transient``. The draws depend only on
        ``seed``, the id and how many requests that id has had, so concurrency does not
        change the outcome. Queued faults (:meth:`inject`) take precedence.
        """
        for name, p in (("transient", transient), ("permanent", permanent)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
        faults = tuple(transient_faults)
        if transient > 0 and not faults:
            raise ValueError("transient_faults must not be empty when transient > 0")
        self._rate = _FaultRate(transient, permanent, int(seed), faults, permanent_fault)

    def permanently_failing(self, conversation_id: int) -> bool:
        """Whether :meth:`fault_rate` made this id fail every time."""
        rate = self._rate
        return rate is not None and _draw(rate.seed, 0, conversation_id) < rate.permanent

    def clear_faults(self) -> None:
        """Forget queued faults and the fault rate."""
        self._faults.clear()
        self._faults_by_id.clear()
        self._rate = None

    def _next_fault(self, conversation_id: int | None) -> Fault | None:
        attempt = self._attempts[conversation_id]
        self._attempts[conversation_id] = attempt + 1
        if conversation_id is not None:
            queue = self._faults_by_id.get(conversation_id)
            if queue:
                fault = queue.popleft()
                if not queue:
                    del self._faults_by_id[conversation_id]
                return fault
        if self._faults:
            return self._faults.popleft()
        rate = self._rate
        if rate is None:
            return None
        keys: tuple[int, ...]
        if conversation_id is None:
            keys = (rate.seed, 2, attempt)
        else:
            if _draw(rate.seed, 0, conversation_id) < rate.permanent:
                return rate.permanent_fault
            keys = (rate.seed, 1, conversation_id, attempt)
        if rate.transient and _draw(*keys) < rate.transient:
            pick = int(_draw(*keys, 3) * len(rate.transient_faults))
            return rate.transient_faults[min(pick, len(rate.transient_faults) - 1)]
        return None

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ex = _Exchange()
        response = await self._route(request, ex)
        if self.record:
            await self._record(request, ex, response)
        return response

    async def _record(
        self, request: web.Request, ex: _Exchange, response: web.StreamResponse
    ) -> None:
        body = ex.body
        if body is None:
            body = b""
            size = request.content_length
            if not ex.dropped and request.body_exists and (size or 0) <= self.max_body_size:
                try:
                    body = await request.read()
                except (web.HTTPRequestEntityTooLarge, ConnectionError):
                    body = b""
        headers = request.headers
        if any(name in headers for name in _SECRET_HEADERS):
            redacted: CIMultiDict[str] = CIMultiDict()
            for name, value in headers.items():
                redacted.add(name, _redact(value) if name.title() in _SECRET_HEADERS else value)
            headers = CIMultiDictProxy(redacted)
        status = None if ex.dropped else (ex.status or response.status)
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=request.query,
                headers=headers,
                body=body,
                shop_id=ex.shop_id,
                conversation_id=ex.conversation_id,
                status=status,
                fault=ex.fault,
                received_at=ex.received_at,
            )
        )

    async def _route(self, request: web.Request, ex: _Exchange) -> web.StreamResponse:
        headers = request.headers
        fmt = _negotiated_format(headers.get("Accept"), headers.get("Content-Type"))
        match = _ROUTE.fullmatch(request.path)
        if match is None:
            return self._no_route(request, fmt)
        shop_text, id_text, messages = match.groups()
        shop_id = _int32(shop_text)
        if shop_id is None:
            return self._no_route(request, fmt)
        ex.shop_id = shop_id
        method = request.method
        if id_text is None:
            if method != "GET":
                return self._not_allowed(method, "GET", fmt)
            return await self._serve_list(request, ex, shop_id, fmt)
        conversation_id = _int32(id_text)
        if conversation_id is None:
            return self._no_route(request, fmt)
        ex.conversation_id = conversation_id
        if messages is not None:
            if method == "GET":
                return await self._serve_messages(request, ex, shop_id, conversation_id, fmt)
            if method == "POST":
                return await self._serve_post(request, ex, shop_id, conversation_id, fmt)
            return self._not_allowed(method, "GET, POST", fmt)
        if method == "PUT":
            return await self._serve_put(request, ex, shop_id, conversation_id, fmt)
        if method == "GET":
            return await self._serve_get(request, ex, shop_id, conversation_id, fmt)
        return self._not_allowed(method, "GET, PUT", fmt)

    async def _admit(
        self, request: web.Request, ex: _Exchange, fmt: _Format, *, read_body: bool = False
    ) -> tuple[web.StreamResponse | None, Fault | None]:
        """Auth, the capacity model, faults, the body and the stalls, shared by every
        endpoint.

        The body is read before any stall, as a server that has received the request
        and is slow to process it: a client that gives up meanwhile does not stop the
        update from landing.

        Returns:
            An early answer (a 401, a 413, a drop) or ``None``, and the fault to apply
            instead of processing (``None``: process normally).
        """
        if not self._authorized(request.headers.get("Authorization")):
            return self._unauthorized(fmt), None
        if self._capacity is not None or self.service_time:
            # Before the faults: a refusal for load consumes none of them.
            outcome = await self._serve_in_a_slot()
            if outcome == "refused":
                ex.fault = self.overload
                return None, self.overload
            if outcome == "closing":
                return self._drop(request, ex), None
        fault = ex.fault = self._next_fault(ex.conversation_id)
        if fault is not None and fault.kind == "drop" and not fault.after_body:
            return self._drop(request, ex), None
        if read_body:
            try:
                ex.body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                ex.body = b""
                return self._too_large(fmt), None
            except ConnectionError:  # the client went away mid-body
                return self._drop(request, ex), None
        stall = self.latency
        if fault is not None and fault.kind == "delay":
            stall += fault.seconds
            fault = None
        if stall and await self._stall(stall):
            return self._drop(request, ex), None
        return None, fault

    async def _receive(
        self, request: web.Request, ex: _Exchange, fmt: _Format, counts: Counter[int]
    ) -> tuple[web.StreamResponse | None, Fault | None]:
        """Count a request that carries a body, refuse it if too large, then admit it."""
        assert ex.conversation_id is not None
        counts[ex.conversation_id] += 1
        size = request.content_length
        if size is not None and size > self.max_body_size:
            return self._too_large(fmt), None
        return await self._admit(request, ex, fmt, read_body=True)

    def _body_format(self, content_type: str | None, fmt: _Format) -> _Format | web.Response:
        """The format of a request body by its ``Content-Type``, or a 415 answer."""
        body_fmt = _FORMATS.get(normalize_media_type(content_type or "application/octet-stream"))
        if body_fmt is None:
            media = normalize_media_type(content_type or "") or "application/octet-stream"
            return self._error(
                fmt,
                415,
                f"The request entity's media type '{media}' is not supported for this resource.",
            )
        return body_fmt

    async def _serve_put(
        self,
        request: web.Request,
        ex: _Exchange,
        shop_id: int,
        conversation_id: int,
        fmt: _Format,
    ) -> web.StreamResponse:
        early, fault = await self._receive(request, ex, fmt, self._put_counts)
        if early is not None:
            return early
        body = ex.body or b""
        content_type = request.headers.get("Content-Type")
        if fault is not None:
            return self._apply_fault(
                request,
                ex,
                fault,
                fmt,
                lambda: self._would_be(body, content_type, shop_id, conversation_id),
            )
        return self._update(body, content_type, shop_id, conversation_id, fmt)

    async def _serve_get(
        self,
        request: web.Request,
        ex: _Exchange,
        shop_id: int,
        conversation_id: int,
        fmt: _Format,
    ) -> web.StreamResponse:
        early, fault = await self._admit(request, ex, fmt)
        if early is not None:
            return early
        stored = self._store.get((shop_id, conversation_id))
        if fault is not None:
            reply = stored if stored is not None else _sample_conversation(shop_id, conversation_id)
            return self._apply_fault(request, ex, fault, fmt, lambda: reply)
        if stored is None:
            return self._missing(shop_id, conversation_id, fmt)
        return self._ok(fmt, self._encode(fmt, stored))

    async def _serve_list(
        self, request: web.Request, ex: _Exchange, shop_id: int, fmt: _Format
    ) -> web.StreamResponse:
        early, fault = await self._admit(request, ex, fmt)
        if early is not None:
            return early
        paging = self._paging(request, fmt)
        if isinstance(paging, web.Response):
            return paging
        size, number = paging
        ids = self._sorted_ids.get(shop_id)
        if ids is None:
            ids = self._sorted_ids[shop_id] = sorted(i for s, i in self._store if s == shop_id)
        start = (number - 1) * size
        page = [_to_basic(self._store[(shop_id, i)]) for i in ids[start : start + size]]
        if fault is not None:
            return self._apply_fault(request, ex, fault, fmt, lambda: page)
        return self._ok(fmt, self._encode(fmt, page))

    def _paging(self, request: web.Request, fmt: _Format) -> tuple[int, int] | web.Response:
        """``pageSize`` and ``pageNumber`` (defaults 100 and 1), or a 400 answer."""
        texts = {"pageSize": "100", "pageNumber": "1"}
        seen: set[str] = set()
        for name, value in request.query.items():
            wire = _PAGE_PARAMS.get(name.lower())
            if wire is not None and wire not in seen:
                seen.add(wire)
                texts[wire] = value
        state: dict[str, list[str]] = {}
        numbers: dict[str, int] = {}
        for wire, text in texts.items():
            number = _int32(text.strip())
            if number is None:
                state[wire] = [f"The value '{text}' is not valid for {wire}."]
            elif number < 1:
                state[wire] = [f"{wire} must be at least 1."]
            else:
                numbers[wire] = number
        if state:
            return self._invalid(state, fmt)
        return numbers["pageSize"], numbers["pageNumber"]

    async def _serve_messages(
        self,
        request: web.Request,
        ex: _Exchange,
        shop_id: int,
        conversation_id: int,
        fmt: _Format,
    ) -> web.StreamResponse:
        early, fault = await self._admit(request, ex, fmt)
        if early is not None:
            return early
        paging = self._paging(request, fmt)
        if isinstance(paging, web.Response):
            return paging
        size, number = paging
        if (shop_id, conversation_id) not in self._store:
            return self._missing(shop_id, conversation_id, fmt)
        stored = self._messages.get((shop_id, conversation_id), [])
        start = (number - 1) * size
        page = [_to_message_basic(m) for m in stored[start : start + size]]
        if fault is not None:
            return self._apply_fault(request, ex, fault, fmt, lambda: page)
        return self._ok(fmt, self._encode(fmt, page, MessageBasicInfo))

    async def _serve_post(
        self,
        request: web.Request,
        ex: _Exchange,
        shop_id: int,
        conversation_id: int,
        fmt: _Format,
    ) -> web.StreamResponse:
        early, fault = await self._receive(request, ex, fmt, self._post_counts)
        if early is not None:
            return early
        body = ex.body or b""
        body_fmt = self._body_format(request.headers.get("Content-Type"), fmt)
        if isinstance(body_fmt, web.Response):
            return body_fmt
        try:
            received = body_fmt.codec.decode(body, MessageChanges)
        except DecodeError as exc:
            path = "message" if exc.field is None else f"message.{exc.field}"
            return self._invalid({path: [str(exc)]}, fmt)
        state: dict[str, list[str]] = {}
        for error in field_errors(received, fmt=body_fmt.name):
            state.setdefault(f"message.{error.field}", []).append(
                f"The field {error.field} {error.message}."
            )
        try:
            message = _from_wire_names(received)
        except KeyError as exc:
            state.setdefault("message", []).append(f"Unknown enum name {exc}.")
            message = received
        if fault is not None:
            would_be = _to_message_basic(attrs.evolve(message, id=self._next_message_id))
            return self._apply_fault(request, ex, fault, fmt, lambda: would_be)
        if message.id != 0:
            state.setdefault("message.Id", []).append("Id must be 0 for a new message.")
        if message.message_conversation_id != conversation_id:
            state.setdefault("message.MessageConversationId", []).append(
                f"MessageConversationId {message.message_conversation_id} does not match the "
                f"URL's messageConversationId {conversation_id}."
            )
        if state:
            return self._invalid(state, fmt)
        if (shop_id, conversation_id) not in self._store:
            return self._missing(shop_id, conversation_id, fmt)
        stored = attrs.evolve(
            message,
            id=self._next_message_id,
            creation_date=message.creation_date
            or Timestamp.from_datetime(datetime.now(UTC).replace(microsecond=0)),
        )
        self._next_message_id += 1
        self._messages.setdefault((shop_id, conversation_id), []).append(stored)
        return self._ok(fmt, self._encode(fmt, _to_message_basic(stored), MessageBasicInfo))

    def _update(
        self,
        body: bytes,
        content_type: str | None,
        shop_id: int,
        conversation_id: int,
        fmt: _Format,
    ) -> web.Response:
        """The controller action: bind, validate, store, answer."""
        if not body.strip() and not content_type:
            return self._invalid({"changes": ["A request body is required."]}, fmt)
        body_fmt = self._body_format(content_type, fmt)
        if isinstance(body_fmt, web.Response):
            return body_fmt
        try:
            changes = body_fmt.codec.decode(body, MessageConversationChanges)
        except DecodeError as exc:
            path = "changes" if exc.field is None else f"changes.{exc.field}"
            return self._invalid({path: [str(exc)]}, fmt)
        state: dict[str, list[str]] = {}
        for error in field_errors(changes, fmt=body_fmt.name):
            state.setdefault(f"changes.{error.field}", []).append(
                _field_message(changes, error.field, error.message)
            )
        if changes.id != conversation_id:
            state.setdefault("changes.Id", []).append(
                f"Id {changes.id} does not match the URL's messageConversationId {conversation_id}."
            )
        if changes.shop_id != shop_id:
            state.setdefault("changes.ShopId", []).append(
                f"ShopId {changes.shop_id} does not match the URL's shopId {shop_id}."
            )
        if state:
            return self._invalid(state, fmt)
        key = (shop_id, conversation_id)
        if key not in self._store and not self.create_missing:
            return self._missing(shop_id, conversation_id, fmt)
        conversation = _to_conversation(changes)
        try:
            data = fmt.codec.encode(conversation)
        except ValidationError as exc:
            # An enum value known only in the request's format (the real server knows
            # every value); answer as ASP.NET does for an unhandled exception.
            return self._error(fmt, 500, f"An error has occurred. {exc}")
        self._put(conversation)
        self._saves[conversation_id] += 1
        return self._ok(fmt, data)

    # -- answers --------------------------------------------------------------------------

    @staticmethod
    def _encode(fmt: _Format, obj: Any, empty: type = MessageConversationBasicInfo) -> bytes:
        if type(obj) is list and not obj and fmt.name == "xml":
            return _XML_CODEC.encode_empty_list(empty)
        if fmt.name == "xml":
            obj = [_to_wire_names(o) for o in obj] if type(obj) is list else _to_wire_names(obj)
        return fmt.codec.encode(obj)

    @staticmethod
    def _ok(fmt: _Format, data: bytes) -> web.Response:
        return web.Response(body=data, headers={"Content-Type": fmt.content_type})

    @staticmethod
    def _error(
        fmt: _Format,
        status: int,
        message: str,
        model_state: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        all_headers = {"Content-Type": fmt.content_type}
        if headers:
            all_headers.update(headers)
        body = render_error_body(fmt.media_type, message, model_state)
        return web.Response(status=status, body=body, headers=all_headers)

    def _invalid(self, model_state: Mapping[str, Sequence[str]], fmt: _Format) -> web.Response:
        return self._error(fmt, 400, "The request is invalid.", model_state)

    def _missing(self, shop_id: int, conversation_id: int, fmt: _Format) -> web.Response:
        return self._error(
            fmt, 404, f"MessageConversation {conversation_id} was not found in shop {shop_id}."
        )

    def _too_large(self, fmt: _Format) -> web.Response:
        response = self._error(
            fmt, 413, f"The request entity is larger than {self.max_body_size} bytes."
        )
        response.force_close()  # do not wait for the rest of a body nobody will read
        return response

    def _unauthorized(self, fmt: _Format) -> web.Response:
        return self._error(
            fmt,
            401,
            "Authorization has been denied for this request.",
            headers={"WWW-Authenticate": f'Basic realm="{_REALM}"'},
        )

    def _no_route(self, request: web.Request, fmt: _Format) -> web.Response:
        return self._error(
            fmt, 404, f"No HTTP resource was found that matches the request URI '{request.url}'."
        )

    def _not_allowed(self, method: str, allow: str, fmt: _Format) -> web.Response:
        return self._error(
            fmt,
            405,
            f"The requested resource does not support http method '{method}'.",
            headers={"Allow": allow},
        )

    def _authorized(self, header: str | None) -> bool:
        """HTTP Basic, compared in constant time."""
        if header is None:
            return False
        raw = header.encode("utf-8", "surrogateescape")
        if hmac.compare_digest(raw, self._expected_header):
            return True
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            userpass = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(userpass, self._expected_userpass)

    async def _stall(self, seconds: float) -> bool:
        """Sleep ``seconds``; ``True`` when the server began closing meanwhile."""
        closing = self._closing
        if closing is None:
            await asyncio.sleep(seconds)
            return False
        try:
            await asyncio.wait_for(closing.wait(), seconds)
        except TimeoutError:
            return False
        return True

    @staticmethod
    def _drop(request: web.Request, ex: _Exchange) -> web.Response:
        """Close the connection with no answer.

        aiohttp then fails to write the returned response, which it treats as a
        client disconnection: nothing is logged.
        """
        ex.dropped = True
        transport = request.transport
        if transport is not None:
            transport.close()
        return web.Response()

    def _would_be(
        self, body: bytes, content_type: str | None, shop_id: int, conversation_id: int
    ) -> MessageConversation:
        """The conversation a successful PUT would answer (for faults that fake one)."""
        body_fmt = _FORMATS.get(normalize_media_type(content_type or ""))
        if body_fmt is not None and body.strip():
            try:
                return _to_conversation(body_fmt.codec.decode(body, MessageConversationChanges))
            except DecodeError:
                pass
        stored = self._store.get((shop_id, conversation_id))
        return stored if stored is not None else _sample_conversation(shop_id, conversation_id)

    def _apply_fault(
        self,
        request: web.Request,
        ex: _Exchange,
        fault: Fault,
        fmt: _Format,
        reply: Callable[[], Any],
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind == "status":
            assert fault.code is not None
            code = fault.code
            headers: dict[str, str] = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = _format_retry_after(fault.retry_after)
            if code in (204, 304):
                return web.Response(status=code, headers=headers)
            body = fault.body
            if body is None:
                body = render_error_body(fmt.media_type, f"{_reason(code)} (injected)")
            headers["Content-Type"] = fault.content_type or fmt.content_type
            return web.Response(status=code, body=body, headers=headers)
        if kind == "drop":
            return self._drop(request, ex)
        if kind == "malformed":
            content_type = fault.content_type or fmt.content_type
            return web.Response(body=fault.body or b"", headers={"Content-Type": content_type})
        obj = reply()
        if kind == "other_conversation":
            obj = _shift_ids(obj)
        try:
            data = self._encode(fmt, obj)
        except ValidationError:
            data = self._encode(fmt, _sample_conversation(ex.shop_id or 1, ex.conversation_id or 1))
        if kind == "other_conversation":
            return self._ok(fmt, data)
        if kind == "wrong_content_type":
            return web.Response(body=data, headers={"Content-Type": "text/html; charset=utf-8"})
        # truncated: promise the whole body, send half, hang up.
        ex.status = 200
        transport = request.transport
        if transport is not None and not transport.is_closing():
            head = (
                "HTTP/1.1 200 OK\r\n"
                f"Content-Type: {fmt.content_type}\r\n"
                f"Content-Length: {len(data)}\r\n"
                "\r\n"
            ).encode("latin-1")
            transport.write(head + data[: len(data) // 2])
            transport.close()
        return web.Response()


def _shift_ids(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_shift_ids(item) for item in obj]
    if isinstance(obj, MessageBasicInfo):
        return attrs.evolve(
            obj, message_conversation_id=obj.message_conversation_id + OTHER_CONVERSATION_OFFSET
        )
    return attrs.evolve(obj, id=obj.id + OTHER_CONVERSATION_OFFSET)


#: The fake server's own names for the message enums, whose members the API does not
#: document: it stores integers and writes these names in XML, as the real server
#: would with its real mapping. The client knows none of them.
MESSAGE_SENDER_NAMES: Final = {0: "Customer", 1: "Employee", 2: "Bot", 3: "System"}
MESSAGE_TYPE_NAMES: Final = {0: "Text", 1: "Note", 2: "Attachment", 3: "Event"}
_SENDER_VALUES: Final = {v: k for k, v in MESSAGE_SENDER_NAMES.items()}
_TYPE_VALUES: Final = {v: k for k, v in MESSAGE_TYPE_NAMES.items()}


def _to_wire_names(obj: Any) -> Any:
    """A message with its enum integers replaced by the server's names (for XML)."""
    if not isinstance(obj, MessageBasicInfo):
        return obj
    sender, kind = obj.message_sender_enum_value, obj.type_enum_value
    return attrs.evolve(
        obj,
        message_sender_enum_value=MESSAGE_SENDER_NAMES.get(sender, sender)
        if isinstance(sender, int)
        else sender,
        type_enum_value=MESSAGE_TYPE_NAMES.get(kind, kind) if isinstance(kind, int) else kind,
    )


def _from_wire_names(message: MessageChanges) -> MessageChanges:
    """A received message with enum names (from XML) turned into the stored integers.

    Raises:
        KeyError: A name the server does not know.
    """
    sender, kind = message.message_sender_enum_value, message.type_enum_value
    if isinstance(sender, str):
        sender = _SENDER_VALUES[sender]
    if isinstance(kind, str):
        kind = _TYPE_VALUES[kind]
    return attrs.evolve(message, message_sender_enum_value=sender, type_enum_value=kind)


_MESSAGE_BASIC_NAMES: Final = tuple(a.name for a in attrs.fields(MessageBasicInfo))


def _to_message_basic(message: MessageChanges) -> MessageBasicInfo:
    return MessageBasicInfo(**{n: getattr(message, n) for n in _MESSAGE_BASIC_NAMES})


_BODIES: Final = (
    "Hallo, waar blijft mijn bestelling?",
    "Your parcel left our warehouse today & should arrive <tomorrow>.",
    "Merci ! 😀",
    "Can I change the delivery address?\nIt is for a gift.",
    "",
)


def _sample_message(conversation_id: int, message_id: int, index: int) -> MessageChanges:
    """A realistic message, a pure function of its ids."""
    k = int(_draw(conversation_id, message_id, 0xB0D7) * (1 << 40))
    created = _EPOCH + timedelta(minutes=index * 3, microseconds=(k >> 3) % 1_000_000)
    return MessageChanges(
        id=message_id,
        message_conversation_id=conversation_id,
        body=_BODIES[k % len(_BODIES)],
        creation_date=Timestamp.from_datetime(created, sub_microsecond_ticks=(k >> 7) % 10),
        message_sender_enum_value=index % 2,
        is_read=bool(k % 3),
        type_enum_value=0 if k % 5 else 1,
        external_key=f"msg-{message_id}",
    )
