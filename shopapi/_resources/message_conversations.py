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

from datetime import datetime
from typing import Any, Literal, overload

import attrs

from .._exceptions import ConfigurationError
from .._wire.enums import MessageSenderTypeEnum, MessageTypeEnum, PlatformKindEnum
from .._wire.fields import boolean, enum_field, integer, keep_unknown, string, timestamp
from .._wire.unknown import Unknown
from .spec import Endpoint, Key, Paging, PathParam, Resource, Role

__all__ = [
    "RESOURCE",
    "MessageBasicInfo",
    "MessageChanges",
    "MessageConversation",
    "MessageConversationBasicInfo",
    "MessageConversationChanges",
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


@attrs.frozen(kw_only=True)
class MessageConversation(_ConversationDetails):
    """A full conversation, as the server answers a read or an update."""

    def to_changes(self, **changes: Any) -> MessageConversationChanges:
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
        cls, conversation: MessageConversation | MessageConversationChanges, **changes: Any
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
        **changes: Any,
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
        **changes: Any,
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
_CONVERSATION = PathParam(wire="messageConversationId", name="message_conversation_id")
_CONVERSATIONS = "v1/Shops/{shopId}/MessageConversations"
_ONE = _CONVERSATIONS + "/{messageConversationId}"
_IN_SHOP = Key("shop_id", "shop_id")
_THIS_CONVERSATION = (_IN_SHOP, Key("id", "message_conversation_id"))
_OF_CONVERSATION = Key("message_conversation_id", "message_conversation_id")

#: The five endpoints of ``v1/Shops/{shopId}/MessageConversations``.
RESOURCE = Resource(
    name="message_conversations",
    cli="conversations",
    endpoints=(
        Endpoint(
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
        ),
        Endpoint(
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
        ),
        Endpoint(
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
        ),
        Endpoint(
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
        ),
        Endpoint(
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
        ),
    ),
)
