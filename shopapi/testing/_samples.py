"""Sample data: realistic items, each a pure function of its ids.

Conversations and messages have hand-made samplers that exercise what the codecs must
get right (seven-digit ticks, ``Z`` and offset dates, nulls, non-ASCII names, ``<``,
``&`` and newlines). Any other model gets a generic sample made from its fields' wire
metadata, so a new resource is seeded without a line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

import attrs

from .._resources.message_conversations import MessageChanges, MessageConversation
from .._wire.enums import PlatformKindEnum
from .._wire.fields import Kind, wire_fields
from .._wire.timestamps import Timestamp
from ._draws import draw

__all__ = ["sample_conversation", "sample_item", "sample_message", "sample_model"]

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


def sample_conversation(shop_id: int, conversation_id: int) -> MessageConversation:
    """A realistic conversation, a pure function of its ids.

    It exercises what the codecs must get right: seven-digit ticks, ``Z`` and offset
    dates, nulls, non-ASCII names, and ``<``, ``&`` and a newline in a note.
    """
    n = draw(shop_id, conversation_id, 0x5EED)
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
        external_key=f"{int(draw(shop_id, conversation_id, 1) * 2**53):014x}-{conversation_id}",
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


_BODIES: Final = (
    "Hallo, waar blijft mijn bestelling?",
    "Your parcel left our warehouse today & should arrive <tomorrow>.",
    "Merci ! 😀",
    "Can I change the delivery address?\nIt is for a gift.",
    "",
)


def sample_message(conversation_id: int, message_id: int, index: int) -> MessageChanges:
    """A realistic message, a pure function of its ids."""
    k = int(draw(conversation_id, message_id, 0xB0D7) * (1 << 40))
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


def _generic_value(f: Any, item_id: int, index: int) -> Any:
    k = int(draw(item_id, index, len(f.wire), 0x6E4) * (1 << 40))
    if f.kind is Kind.INT:
        return 1 + k % 100_000
    if f.kind is Kind.STR:
        text = f"{f.wire} {item_id} <&> ß"
        return text[: f.max_length] if f.max_length is not None else text
    if f.kind is Kind.BOOL:
        return bool(k % 2)
    if f.kind is Kind.TIMESTAMP:
        created = _EPOCH + timedelta(minutes=index, microseconds=k % 1_000_000)
        return Timestamp.from_datetime(created, sub_microsecond_ticks=(k >> 20) % 10)
    if f.kind is Kind.CODED:
        # A value the pages name, as a real server sends mostly.
        named = list(f.enum or ())
        return named[k % len(named)] if named else 1 + k % 100_000
    if f.kind is Kind.ENUM:
        members = list(f.enum) if f.enum is not None else []
        return members[0] if members else 0
    if f.kind is Kind.DECIMAL:
        # A scale that must travel (12.50 stays 12.50), as prices do.
        return Decimal(k % 1_000_000) / 100
    if f.kind is Kind.MODEL and f.model is not None:
        return sample_model(f.model, item_id, {}, index)
    if f.kind is Kind.LIST and f.item is not None:
        # Two members, so that order and separators are exercised.
        member = attrs.evolve(f.item, wire=f.wire)
        if f.item.kind is Kind.MODEL and f.model is not None:
            return tuple(sample_model(f.model, item_id + n, {}, index) for n in range(2))
        return tuple(_generic_value(member, item_id + n, index) for n in range(2))
    return attrs.NOTHING


def sample_model(cls: type, item_id: int, fixed: Mapping[str, object], index: int = 0) -> Any:
    """A ``cls`` whose fields come from their wire metadata, a pure function of the ids.

    Args:
        cls: The model.
        item_id: The item's identity, mixed into every value.
        fixed: Values some fields must have (its identity and key fields).
        index: Its position among the items seeded together (dates ascend with it).
    """
    values: dict[str, Any] = {}
    for f in wire_fields(cls):
        if f.name in fixed:
            values[f.name] = fixed[f.name]
            continue
        value = _generic_value(f, item_id, index)
        if value is not attrs.NOTHING:
            values[f.name] = value
    return cls(**values)


def _conversation(fixed: Mapping[str, object], item_id: int, index: int) -> Any:
    shop_id = fixed.get("shop_id", 1)
    extra: dict[str, Any] = dict(fixed)
    return attrs.evolve(sample_conversation(int(str(shop_id)), item_id), **extra)


def _message(fixed: Mapping[str, object], item_id: int, index: int) -> Any:
    conversation_id = fixed.get("message_conversation_id", 1)
    extra: dict[str, Any] = dict(fixed)
    return attrs.evolve(sample_message(int(str(conversation_id)), item_id, index), **extra)


_SAMPLERS: Final[Mapping[type, Callable[[Mapping[str, object], int, int], Any]]] = {
    MessageConversation: _conversation,
    MessageChanges: _message,
}


def sample_item(cls: type, item_id: int, fixed: Mapping[str, object], index: int = 0) -> Any:
    """A sample ``cls`` with ``fixed`` fields: the hand-made sampler where there is one,
    else :func:`sample_model`."""
    sampler = _SAMPLERS.get(cls)
    if sampler is not None:
        return sampler(fixed, item_id, index)
    return sample_model(cls, item_id, fixed, index)
