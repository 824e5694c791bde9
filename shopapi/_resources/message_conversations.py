"""The resources of the MessageConversations endpoints, as pure attrs classes.

The classes mirror the .NET inheritance: :class:`MessageConversation` and
:class:`MessageConversationChanges` are :class:`MessageConversationBasicInfo` plus ten
fields (``ExternalKey`` ... ``Note``). Python names are the snake_case of the wire
names. Instances are frozen; change them with ``attrs.evolve``.

Dates are typed ``datetime``: any aware ``datetime`` may be given, and is sent with its
offset. A naive one is refused by validation (the server would read it as its own local
time) unless it is a :class:`~shopapi.Timestamp`, the way to send a time of unspecified
kind on purpose. Dates read from the wire are always :class:`~shopapi.Timestamp`
instances, which keep .NET's seventh fractional digit and the kind the server wrote.

No format library is imported here: the codecs read the wire metadata.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack, cast, overload

import attrs

from .._exceptions import ConfigurationError
from .._wire.enums import MessageSenderTypeEnum, MessageTypeEnum, PlatformKindEnum
from .._wire.fields import boolean, enum_field, integer, keep_unknown, string, timestamp
from .._wire.unknown import Unknown
from .api import Caller, Items
from .spec import Endpoint, Key, Paging, PathParam, Resource, Role

if TYPE_CHECKING:
    from .._bulk import UpdateResult

__all__ = [
    "RESOURCE",
    "MessageBasicInfo",
    "MessageChanges",
    "MessageConversation",
    "MessageConversationBasicInfo",
    "MessageConversationChanges",
    "MessageConversations",
]


@attrs.frozen(kw_only=True)
class MessageConversationBasicInfo:
    """A conversation as the list endpoint returns it.

    ``id``, ``shop_id`` and ``platform_kind_enum_value`` are required. An unknown
    ``platform_kind_enum_value`` is kept as the ``int`` (from JSON) or ``str`` (from XML)
    the server sent.
    """

    id: int = integer("Id", nullable=False, required=True)
    creation_date: datetime | None = timestamp("CreationDate", nullable=False)
    last_activity_date: datetime | None = timestamp("LastActivityDate")
    finished_date: datetime | None = timestamp("FinishedDate")
    customer_id: int | None = integer("CustomerId")
    customer_name: str | None = string("CustomerName", 50)
    rating: int | None = integer("Rating")
    conversation_type: str | None = string("ConversationType", 50)
    order_id: int | None = integer("OrderId")
    order_code: str | None = string("OrderCode")
    ticket_id: int | None = integer("TicketId")
    ticket_code: int | None = integer("TicketCode")
    shop_id: int = integer("ShopId", nullable=False, required=True)
    employee_id: int | None = integer("EmployeeId")
    platform_kind_enum_value: PlatformKindEnum | int | str = enum_field(
        "PlatformKindEnumValue", PlatformKindEnum, required=True
    )
    channel_id: str | None = string("ChannelId", 255)
    unknown: Unknown = keep_unknown()


@attrs.frozen(kw_only=True)
class _ConversationDetails(MessageConversationBasicInfo):
    """The ten fields a full conversation adds to the basic info.

    Private: it only lets the two full types share one declaration of those fields.
    """

    external_key: str | None = string("ExternalKey", 255)
    customer_email: str | None = string("CustomerEmail", 50)
    customer_phone: str | None = string("CustomerPhone", 50)
    user_agent: str | None = string("UserAgent", 255)
    host_name: str | None = string("HostName", 50)
    path_name: str | None = string("PathName", 50)
    platform: str | None = string("Platform", 50)
    url: str | None = string("Url")
    realm: str | None = string("Realm", 50)
    note: str | None = string("Note")


#: The Python names of the ten fields a full conversation adds to the basic info.
DETAIL_FIELDS: tuple[str, ...] = tuple(
    name
    for name in attrs.fields_dict(_ConversationDetails)
    if name not in attrs.fields_dict(MessageConversationBasicInfo)
)


class BasicInfoFields(TypedDict, total=False):
    """The keywords that set a basic info's fields (``**changes`` of the builders), so
    that mypy checks each name and type; ``tests/test_typing_surface.py`` holds them to
    the model's fields."""

    id: int
    creation_date: datetime | None
    last_activity_date: datetime | None
    finished_date: datetime | None
    customer_id: int | None
    customer_name: str | None
    rating: int | None
    conversation_type: str | None
    order_id: int | None
    order_code: str | None
    ticket_id: int | None
    ticket_code: int | None
    shop_id: int
    employee_id: int | None
    platform_kind_enum_value: PlatformKindEnum | int | str
    channel_id: str | None
    unknown: Unknown


class ConversationFields(BasicInfoFields, total=False):
    """The keywords that set any field of a full conversation (basic and detail)."""

    external_key: str | None
    customer_email: str | None
    customer_phone: str | None
    user_agent: str | None
    host_name: str | None
    path_name: str | None
    platform: str | None
    url: str | None
    realm: str | None
    note: str | None


@attrs.frozen(kw_only=True)
class MessageConversation(_ConversationDetails):
    """A full conversation, as the server answers a read or an update."""

    def to_changes(self, **changes: Unpack[ConversationFields]) -> MessageConversationChanges:
        """The update body that writes this conversation back, with ``changes`` applied.

        ``conversation.to_changes(note="called back")`` is the whole read-modify-write.
        """
        values = attrs.asdict(self, recurse=False)
        values.update(changes)
        return MessageConversationChanges(**values)


@attrs.frozen(kw_only=True)
class MessageConversationChanges(_ConversationDetails):
    """The body of ``PUT v1/Shops/{shopId}/MessageConversations/{id}``.

    ``id`` and ``shop_id`` must match the URL; the client checks that before sending.
    """

    @classmethod
    def from_conversation(
        cls,
        conversation: MessageConversation | MessageConversationChanges,
        **changes: Unpack[ConversationFields],
    ) -> MessageConversationChanges:
        """Build the update body from a full conversation read earlier, with ``changes``.

        Only a full conversation will do: a PUT sends every field, and a
        :class:`MessageConversationBasicInfo` (what ``list()`` gives) lacks the ten
        detail fields, which would go out as null and may clear them. For a basic info
        use :meth:`from_basic_info`, which makes that choice explicit.

        Raises:
            ConfigurationError: ``conversation`` is a basic info (or not a conversation).
        """
        if not isinstance(conversation, _ConversationDetails):
            raise ConfigurationError(
                f"from_conversation() needs a MessageConversation, not "
                f"{type(conversation).__name__}: a basic info lacks the ten detail fields "
                f"({', '.join(DETAIL_FIELDS)}), which would be sent as null. Use "
                "MessageConversationChanges.from_basic_info(basic, <each detail field>=...)"
                ", or from_basic_info(basic, clear_missing_details=True) to send the ones "
                "not given as null on purpose"
            )
        values = attrs.asdict(conversation, recurse=False)
        values.update(changes)
        return cls(**values)

    @overload
    @classmethod
    def from_basic_info(
        cls,
        basic: MessageConversationBasicInfo,
        *,
        clear_missing_details: Literal[True],
        **changes: Unpack[ConversationFields],
    ) -> MessageConversationChanges: ...

    @overload
    @classmethod
    def from_basic_info(
        cls,
        basic: MessageConversationBasicInfo,
        *,
        external_key: str | None,
        customer_email: str | None,
        customer_phone: str | None,
        user_agent: str | None,
        host_name: str | None,
        path_name: str | None,
        platform: str | None,
        url: str | None,
        realm: str | None,
        note: str | None,
        clear_missing_details: Literal[False] = False,
        **changes: Unpack[BasicInfoFields],
    ) -> MessageConversationChanges: ...

    @classmethod
    def from_basic_info(
        cls,
        basic: MessageConversationBasicInfo,
        *,
        clear_missing_details: bool = False,
        **changes: Any,
    ) -> MessageConversationChanges:
        """Build a full update body from a basic info (a ``list()`` item), choosing
        explicitly what happens to the ten detail fields it lacks.

        Either give every detail field (``external_key`` ... ``note``) as a keyword, or
        pass ``clear_missing_details=True`` to send the ones not given as null: the API
        does not document whether null means "unchanged" or "clear", so that may wipe
        them. The two overloads let mypy refuse a call that does neither.

        Raises:
            ConfigurationError: Some detail fields are neither given nor cleared on
                purpose; the message names them.
        """
        missing = [name for name in DETAIL_FIELDS if name not in changes]
        if missing and not clear_missing_details:
            raise ConfigurationError(
                f"from_basic_info() does not know {', '.join(missing)}: a basic info lacks "
                "them, and a PUT would send them as null. Give each one, or pass "
                "clear_missing_details=True to send them as null on purpose"
            )
        values = attrs.asdict(basic, recurse=False)
        for name in DETAIL_FIELDS:
            values.setdefault(name, None)
        values.update(changes)
        return cls(**values)


@attrs.frozen(kw_only=True)
class MessageBasicInfo:
    """A message of a conversation, as the messages endpoint lists it.

    The enums' members are undocumented, so their values stay raw: the ``int`` JSON
    carries or the ``str`` XML carries.
    """

    id: int = integer("Id", nullable=False, required=True)
    message_conversation_id: int = integer("MessageConversationId", nullable=False, required=True)
    body: str | None = string("Body")
    creation_date: datetime | None = timestamp("CreationDate", nullable=False)
    message_sender_enum_value: MessageSenderTypeEnum | int | str = enum_field(
        "MessageSenderEnumValue", MessageSenderTypeEnum, required=True
    )
    is_read: bool | None = boolean("IsRead")
    type_enum_value: MessageTypeEnum | int | str = enum_field(
        "TypeEnumValue", MessageTypeEnum, required=True
    )
    unknown: Unknown = keep_unknown()


@attrs.frozen(kw_only=True)
class MessageChanges(MessageBasicInfo):
    """The body of ``POST v1/Shops/{shopId}/MessageConversations/{id}/Messages``.

    ``id`` is 0 for an insert (the client enforces it) and ``message_conversation_id``
    must match the URL's conversation.
    """

    external_key: str | None = string("ExternalKey", 255)
    external_timestamp_utc: datetime | None = timestamp("ExternalTimestampUtc")
    reply_date_utc: datetime | None = timestamp("ReplyDateUtc")
    response_time_in_seconds: int | None = integer("ResponseTimeInSeconds")
    maximum_response_time_in_seconds: int | None = integer("MaximumResponseTimeInSeconds")


_SHOP = PathParam(wire="shopId", name="shop_id")
_CONVERSATION = PathParam(
    wire="messageConversationId", name="message_conversation_id", label="conversation"
)
_CONVERSATIONS = "v1/Shops/{shopId}/MessageConversations"
_ONE = _CONVERSATIONS + "/{messageConversationId}"
_IN_SHOP = Key("shop_id", "shop_id")
_THIS_CONVERSATION = (_IN_SHOP, Key("id", "message_conversation_id"))
_OF_CONVERSATION = Key("message_conversation_id", "message_conversation_id")

_LIST = Endpoint(
    name="list",
    role=Role.LIST,
    method="GET",
    path=_CONVERSATIONS,
    params=(_SHOP,),
    paging=Paging(size=100),
    answer=MessageConversationBasicInfo,
    keys=(_IN_SHOP,),
    collection="conversations",
    summary="All MessageConversations for the ShopId.",
)
_GET = Endpoint(
    name="get",
    role=Role.GET,
    method="GET",
    path=_ONE,
    params=(_SHOP, _CONVERSATION),
    answer=MessageConversation,
    keys=_THIS_CONVERSATION,
    collection="conversations",
    summary="One full conversation (no help page documents it).",
    documented=False,
)
_UPDATE = Endpoint(
    name="update",
    role=Role.UPDATE,
    method="PUT",
    path=_ONE,
    params=(_SHOP, _CONVERSATION),
    body=MessageConversationChanges,
    answer=MessageConversation,
    keys=_THIS_CONVERSATION,
    collection="conversations",
    summary="Updates an MessageConversation.",
)
_MESSAGES = Endpoint(
    name="messages",
    role=Role.LIST,
    method="GET",
    path=_ONE + "/Messages",
    params=(_SHOP, _CONVERSATION),
    paging=Paging(size=100),
    answer=MessageBasicInfo,
    keys=(_OF_CONVERSATION,),
    collection="messages",
    summary="All Messages for the conversation.",
)
_POST_MESSAGE = Endpoint(
    name="post_message",
    role=Role.INSERT,
    method="POST",
    path=_ONE + "/Messages",
    params=(_SHOP, _CONVERSATION),
    body=MessageChanges,
    answer=MessageBasicInfo,
    keys=(_OF_CONVERSATION,),
    insert_id="id",
    collection="messages",
    summary="Creates a new Message.",
)


class MessageConversations:
    """``v1/Shops/{shopId}/MessageConversations``: reached as
    ``client.message_conversations``."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def update(
        self,
        shop_id: int,
        message_conversation_id: int,
        changes: MessageConversationChanges,
    ) -> MessageConversation:
        """``PUT v1/Shops/{shopId}/MessageConversations/{id}``: save ``changes``.

        Returns:
            The conversation as the server saved it.

        Raises:
            ValidationError: Before sending: a field breaks the API's constraints, or
                ``changes.id``/``changes.shop_id`` differ from the URL's.
            ApiError: The server refused it (a subclass per status).
            TransportError: The connection failed or timed out, after the retries.
            DecodeError: The answer could not be read.
            ResponseMismatchError: The answer is about another conversation.
        """
        call = self._caller.start(_UPDATE, (shop_id, message_conversation_id), changes)
        return cast(MessageConversation, await call)

    async def get(self, shop_id: int, message_conversation_id: int) -> MessageConversation:
        """``GET v1/Shops/{shopId}/MessageConversations/{id}``: one full conversation.

        **Not documented by the API.** None of ShopCtrl's help pages found so far
        documents a GET of a single conversation; ASP.NET Web API resources usually have
        one, and shopapi's fake server serves it, but the real server may answer 404 or
        405 (a :class:`~shopapi.NotFoundError` or :class:`~shopapi.ClientError`). It is
        here because a PUT sends every field, and ``list()`` gives only a basic info:
        reading the full conversation first is the one way to update it without
        clearing the ten detail fields. Check it against your tenant before relying on it.

        Raises:
            ApiError: The server refused it (404/405 if it has no such endpoint).
            TransportError, DecodeError: As for :meth:`update`.
            ResponseMismatchError: The answer is about another conversation.
        """
        call = self._caller.start(_GET, (shop_id, message_conversation_id))
        return cast(MessageConversation, await call)

    async def list_page(
        self, shop_id: int, *, page_number: int = 1, page_size: int = 100
    ) -> builtins.list[MessageConversationBasicInfo]:
        """``GET v1/Shops/{shopId}/MessageConversations?pageSize&pageNumber``: one page.

        Returns:
            The page's conversations; an empty list past the end.
        """
        return await self._caller.page(
            _LIST, (shop_id,), page_number=page_number, page_size=page_size
        )

    def list(
        self, shop_id: int, *, page_size: int = 100
    ) -> AsyncGenerator[MessageConversationBasicInfo, None]:
        """Every conversation of a shop, fetching pages lazily and in order.

        A page is fetched only when the previous one has been consumed, and the first
        empty page ends the list (the API's paging contract). Retries and limits apply
        to every page.
        """
        return self._caller.items(_LIST, (shop_id,), page_size=page_size)

    async def messages_page(
        self,
        shop_id: int,
        message_conversation_id: int,
        *,
        page_number: int = 1,
        page_size: int = 100,
    ) -> builtins.list[MessageBasicInfo]:
        """``GET .../MessageConversations/{id}/Messages?pageSize&pageNumber``: one page."""
        return await self._caller.page(
            _MESSAGES,
            (shop_id, message_conversation_id),
            page_number=page_number,
            page_size=page_size,
        )

    def messages(
        self, shop_id: int, message_conversation_id: int, *, page_size: int = 100
    ) -> AsyncGenerator[MessageBasicInfo, None]:
        """Every message of a conversation, pages fetched lazily, in order, until an
        empty one."""
        path = (shop_id, message_conversation_id)
        return self._caller.items(_MESSAGES, path, page_size=page_size)

    async def post_message(
        self,
        shop_id: int,
        message_conversation_id: int,
        message: MessageChanges,
        *,
        allow_duplicates: bool = False,
    ) -> MessageBasicInfo:
        """``POST .../MessageConversations/{id}/Messages``: add a message.

        A POST is not idempotent: repeating one the server did process posts the message
        twice. So it is retried only where the request provably never reached the
        server (the connection was refused or never made) or the server said it did not
        process it (429). After a timeout, a dropped connection or a 5xx the server may
        have stored it, so it is not retried unless ``allow_duplicates=True`` says a
        duplicate is acceptable.

        Args:
            shop_id: The shop.
            message_conversation_id: The conversation; ``message`` must name it too.
            message: The message, with ``id=0`` (an insert; the client enforces it).
            allow_duplicates: Retry after timeouts, drops and 5xx as well.

        Returns:
            The message as the server answers it.

        Raises:
            ValidationError: Before sending (``id`` not 0, another conversation's id,
                a field breaking the constraints).
            ApiError, TransportError, DecodeError: As for :meth:`update`.
        """
        path = (shop_id, message_conversation_id)
        call = self._caller.start(_POST_MESSAGE, path, message, allow_duplicates=allow_duplicates)
        return cast(MessageBasicInfo, await call)

    def update_many(
        self,
        items: Items[MessageConversationChanges],
        *,
        concurrency: int | Literal["auto"] = "auto",
        max_concurrency: int | None = None,
        on_limit_change: Callable[[int], None] | None = None,
    ) -> AsyncGenerator[UpdateResult[MessageConversationChanges, MessageConversation], None]:
        """Update many conversations; yield one :class:`UpdateResult` per item as each ends.

        The shop and conversation ids come from each item's ``shop_id`` and ``id``.
        An invalid item fails alone with its ``ValidationError`` and sends nothing; a
        permanent failure fails alone; transient ones are retried by the client's
        policy. Input is pulled lazily (never more than ``2 * concurrency`` items ahead
        of the results consumed, ``2 * max_concurrency`` with ``"auto"``), so millions
        of items stream through in constant memory. ``aclose()`` the iterator (or cancel
        its consumer) to stop early: work in flight is cancelled.

        With ``concurrency="auto"`` (the default) the number of requests in flight adapts
        to the server: it is learnt from each answer's round trip and cut at once on 429,
        503, 504 or a timeout (see :mod:`shopapi._protocol.adaptive`), within
        ``max_concurrency``. It needs no tuning and composes with the client's rate
        limit, its 429 pause and its retry budget.

        Args:
            items: An iterable or async iterable of ``MessageConversationChanges``.
            concurrency: Requests in flight at most, or ``"auto"`` (the default).
            max_concurrency: With ``"auto"``, the ceiling (never above the client's
                ``Limits.max_concurrency``); by default that, else 100, the size of the
                client's own connection pool.
            on_limit_change: With ``"auto"``, called with each new limit (for progress
                displays; it must not block).
        """
        return self._caller.many(
            _UPDATE,
            items,
            concurrency=concurrency,
            max_concurrency=max_concurrency,
            on_limit_change=on_limit_change,
        )

    def post_message_many(
        self,
        shop_id: int,
        items: Items[MessageChanges],
        *,
        concurrency: int | Literal["auto"] = "auto",
        max_concurrency: int | None = None,
        on_limit_change: Callable[[int], None] | None = None,
        allow_duplicates: bool = False,
    ) -> AsyncGenerator[UpdateResult[MessageChanges, MessageBasicInfo], None]:
        """Post many messages to a shop's conversations, as :meth:`update_many` updates:
        one result per item, bounded, lazy, each failure alone.

        Each message's conversation comes from its ``message_conversation_id`` (a
        message has no shop field, so the shop is given). A post is retried as
        :meth:`post_message` retries it: after a timeout, a drop or a 5xx only with
        ``allow_duplicates=True``.
        """
        return self._caller.many(
            _POST_MESSAGE,
            items,
            (shop_id,),
            concurrency=concurrency,
            max_concurrency=max_concurrency,
            on_limit_change=on_limit_change,
            allow_duplicates=allow_duplicates,
        )


#: The five endpoints of ``v1/Shops/{shopId}/MessageConversations``.
RESOURCE = Resource(
    name="message_conversations",
    cli="conversations",
    endpoints=(_LIST, _GET, _UPDATE, _MESSAGES, _POST_MESSAGE),
    methods=MessageConversations,
)
