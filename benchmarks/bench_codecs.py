"""Codec speed against hand-written floors, measured in the same run.

Floors:
* JSON encode: attrs -> hand-written dict -> orjson.
* JSON decode: orjson -> hand-written constructor call.
* XML encode: plain lxml ``Element``/``SubElement`` -> ``tostring``.
* XML decode: lxml ``fromstring`` -> child texts -> hand-written constructor call.
* A page of shipments, whose ``ShipmentStatusId`` is a coded integer (an open IntEnum):
  the same codec reading and writing a twin model whose field is a plain ``int``, so the
  figure is what the member lookup costs.

Every floor formats and parses dates with shopapi's .NET timestamp functions, so that
floor and codec produce the same values; the floors skip every check the codecs make.

Run: ``python benchmarks/bench_codecs.py`` (or ``nox -s bench``).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import orjson
from lxml import etree

from shopapi import (
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    PlatformKindEnum,
    ShipmentBasicInfo,
    ShipmentStatus,
    Timestamp,
    XmlCodec,
)
from shopapi._wire.fields import boolean, integer, string, timestamp
from shopapi._wire.timestamps import format_timestamp, parse_timestamp

sys.path.insert(0, str(Path(__file__).parent))
from _harness import HEADER, compare

SEED = Path(__file__).resolve().parents[1] / "tests" / "data" / "seed"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
NIL = f"{{{XSI}}}nil"


def sample() -> MessageConversationChanges:
    text = next(SEED.glob("PUT-*.txt")).read_text()
    body = text.split("Sample:\n", 1)[1].split("\n\n", 1)[0]
    return JsonCodec().decode(body.encode(), MessageConversationChanges)


def json_floor_encode(o: MessageConversationChanges) -> bytes:
    f = format_timestamp
    return orjson.dumps(
        {
            "ExternalKey": o.external_key,
            "CustomerEmail": o.customer_email,
            "CustomerPhone": o.customer_phone,
            "UserAgent": o.user_agent,
            "HostName": o.host_name,
            "PathName": o.path_name,
            "Platform": o.platform,
            "Url": o.url,
            "Realm": o.realm,
            "Note": o.note,
            "Id": o.id,
            "CreationDate": f(o.creation_date) if o.creation_date is not None else None,
            "LastActivityDate": f(o.last_activity_date)
            if o.last_activity_date is not None
            else None,
            "FinishedDate": f(o.finished_date) if o.finished_date is not None else None,
            "CustomerId": o.customer_id,
            "CustomerName": o.customer_name,
            "Rating": o.rating,
            "ConversationType": o.conversation_type,
            "OrderId": o.order_id,
            "OrderCode": o.order_code,
            "TicketId": o.ticket_id,
            "TicketCode": o.ticket_code,
            "ShopId": o.shop_id,
            "EmployeeId": o.employee_id,
            "PlatformKindEnumValue": int(o.platform_kind_enum_value),
            "ChannelId": o.channel_id,
        }
    )


def _ts(v: str | None) -> Timestamp | None:
    return None if v is None else parse_timestamp(v)


def json_floor_decode(data: bytes) -> MessageConversation:
    d = orjson.loads(data)
    return MessageConversation(
        external_key=d["ExternalKey"],
        customer_email=d["CustomerEmail"],
        customer_phone=d["CustomerPhone"],
        user_agent=d["UserAgent"],
        host_name=d["HostName"],
        path_name=d["PathName"],
        platform=d["Platform"],
        url=d["Url"],
        realm=d["Realm"],
        note=d["Note"],
        id=d["Id"],
        creation_date=_ts(d["CreationDate"]),
        last_activity_date=_ts(d["LastActivityDate"]),
        finished_date=_ts(d["FinishedDate"]),
        customer_id=d["CustomerId"],
        customer_name=d["CustomerName"],
        rating=d["Rating"],
        conversation_type=d["ConversationType"],
        order_id=d["OrderId"],
        order_code=d["OrderCode"],
        ticket_id=d["TicketId"],
        ticket_code=d["TicketCode"],
        shop_id=d["ShopId"],
        employee_id=d["EmployeeId"],
        platform_kind_enum_value=PlatformKindEnum(d["PlatformKindEnumValue"]),
        channel_id=d["ChannelId"],
    )


XML_ORDER = [
    ("Id", "id"),
    ("CreationDate", "creation_date"),
    ("LastActivityDate", "last_activity_date"),
    ("FinishedDate", "finished_date"),
    ("CustomerId", "customer_id"),
    ("CustomerName", "customer_name"),
    ("Rating", "rating"),
    ("ConversationType", "conversation_type"),
    ("OrderId", "order_id"),
    ("OrderCode", "order_code"),
    ("TicketId", "ticket_id"),
    ("TicketCode", "ticket_code"),
    ("ShopId", "shop_id"),
    ("EmployeeId", "employee_id"),
    ("PlatformKindEnumValue", "platform_kind_enum_value"),
    ("ChannelId", "channel_id"),
    ("ExternalKey", "external_key"),
    ("CustomerEmail", "customer_email"),
    ("CustomerPhone", "customer_phone"),
    ("UserAgent", "user_agent"),
    ("HostName", "host_name"),
    ("PathName", "path_name"),
    ("Platform", "platform"),
    ("Url", "url"),
    ("Realm", "realm"),
    ("Note", "note"),
]
DATES = {"creation_date", "last_activity_date", "finished_date"}


def xml_floor_encode(o: MessageConversationChanges) -> bytes:
    root = etree.Element("MessageConversationChanges", nsmap={"xsd": XSD, "xsi": XSI})
    sub = etree.SubElement
    for tag, attr in XML_ORDER:
        v = getattr(o, attr)
        if v is None:
            continue
        el = sub(root, tag)
        if attr in DATES:
            el.text = format_timestamp(v)
        elif attr == "platform_kind_enum_value":
            el.text = v.name
        else:
            el.text = str(v)
    return etree.tostring(root)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def xml_floor_decode(data: bytes) -> MessageConversation:
    root = etree.fromstring(data, _PARSER)
    # Unchecked, like the JSON floor's orjson.loads: a floor skips the codec's checks.
    d: dict[str, Any] = {el.tag: el.text for el in root}
    return MessageConversation(
        id=int(d["Id"]),
        creation_date=_ts(d["CreationDate"]),
        last_activity_date=_ts(d["LastActivityDate"]),
        finished_date=_ts(d["FinishedDate"]),
        customer_id=int(d["CustomerId"]),
        customer_name=d["CustomerName"],
        rating=int(d["Rating"]),
        conversation_type=d["ConversationType"],
        order_id=int(d["OrderId"]),
        order_code=d["OrderCode"],
        ticket_id=int(d["TicketId"]),
        ticket_code=int(d["TicketCode"]),
        shop_id=int(d["ShopId"]),
        employee_id=int(d["EmployeeId"]),
        platform_kind_enum_value=PlatformKindEnum[d["PlatformKindEnumValue"]],
        channel_id=d["ChannelId"],
        external_key=d["ExternalKey"],
        customer_email=d["CustomerEmail"],
        customer_phone=d["CustomerPhone"],
        user_agent=d["UserAgent"],
        host_name=d["HostName"],
        path_name=d["PathName"],
        platform=d["Platform"],
        url=d["Url"],
        realm=d["Realm"],
        note=d["Note"],
    )


def basic_floor_json(data: bytes) -> list[MessageConversationBasicInfo]:
    return [
        MessageConversationBasicInfo(
            id=d["Id"],
            creation_date=_ts(d["CreationDate"]),
            last_activity_date=_ts(d["LastActivityDate"]),
            finished_date=_ts(d["FinishedDate"]),
            customer_id=d["CustomerId"],
            customer_name=d["CustomerName"],
            rating=d["Rating"],
            conversation_type=d["ConversationType"],
            order_id=d["OrderId"],
            order_code=d["OrderCode"],
            ticket_id=d["TicketId"],
            ticket_code=d["TicketCode"],
            shop_id=d["ShopId"],
            employee_id=d["EmployeeId"],
            platform_kind_enum_value=PlatformKindEnum(d["PlatformKindEnumValue"]),
            channel_id=d["ChannelId"],
        )
        for d in orjson.loads(data)
    ]


def basic_floor_xml(data: bytes) -> list[MessageConversationBasicInfo]:
    out = []
    for item in etree.fromstring(data, _PARSER):
        d: dict[str, Any] = {el.tag: el.text for el in item}  # unchecked, as above
        out.append(
            MessageConversationBasicInfo(
                id=int(d["Id"]),
                creation_date=_ts(d["CreationDate"]),
                last_activity_date=_ts(d["LastActivityDate"]),
                finished_date=_ts(d["FinishedDate"]),
                customer_id=int(d["CustomerId"]),
                customer_name=d["CustomerName"],
                rating=int(d["Rating"]),
                conversation_type=d["ConversationType"],
                order_id=int(d["OrderId"]),
                order_code=d["OrderCode"],
                ticket_id=int(d["TicketId"]),
                ticket_code=int(d["TicketCode"]),
                shop_id=int(d["ShopId"]),
                employee_id=int(d["EmployeeId"]),
                platform_kind_enum_value=PlatformKindEnum[d["PlatformKindEnumValue"]],
                channel_id=d["ChannelId"],
            )
        )
    return out


@attrs.frozen(kw_only=True)
class PlainShipment:
    """``ShipmentBasicInfo`` with ``ShipmentStatusId`` a plain ``int``: the coded floor."""

    id: int = integer("Id", nullable=False, required=True)
    tracking_code: str | None = string("TrackingCode")
    create_timestamp: datetime | None = timestamp("CreateTimestamp")
    shop_id: int = integer("ShopId", nullable=False, required=True)
    order_id: int | None = integer("OrderId")
    carrier_account_id: int = integer("CarrierAccountId", nullable=False, required=True)
    shipment_status_id: int | None = integer("ShipmentStatusId")
    shipment_status: str | None = string("ShipmentStatus")
    is_return: bool = boolean("IsReturn", required=True)


PlainShipment.__name__ = PlainShipment.__qualname__ = "ShipmentBasicInfo"  # XML's root name


def shipments() -> list[ShipmentBasicInfo]:
    return [
        ShipmentBasicInfo(
            id=i,
            tracking_code=f"3SABC{i:08}",
            create_timestamp=Timestamp.parse("2026-01-02T03:04:05.1234567+01:00"),
            shop_id=7,
            order_id=1000 + i,
            carrier_account_id=3,
            shipment_status_id=ShipmentStatus(1 + i % 8),
            shipment_status="Delivered",
            is_return=False,
        )
        for i in range(1, 101)
    ]


def main() -> int:
    changes = sample()
    conversation = MessageConversation(**{a: getattr(changes, a) for _, a in XML_ORDER})
    jc, xc = JsonCodec(), XmlCodec()
    jdata, xdata = jc.encode(conversation), xc.encode(conversation)

    # The floors must agree with the codecs, or the comparison means nothing.
    assert orjson.loads(json_floor_encode(changes)) == orjson.loads(jc.encode(changes))
    assert json_floor_decode(jdata) == jc.decode(jdata, MessageConversation)
    assert xml_floor_decode(xdata) == xc.decode(xdata, MessageConversation)

    basic = MessageConversationBasicInfo(
        **{a: getattr(changes, a) for a in attrs.fields_dict(MessageConversationBasicInfo)}
    )
    page = [attrs.evolve(basic, id=i) for i in range(1, 101)]
    jpage, xpage = jc.encode(page), xc.encode(page)
    assert basic_floor_json(jpage) == jc.decode(jpage, list[MessageConversationBasicInfo])
    assert basic_floor_xml(xpage) == xc.decode(xpage, list[MessageConversationBasicInfo])

    # A newer server's answer: three members the model does not know, kept as raw text.
    jextra = jdata.replace(b'"Id":', b'"Added":{"A":[1,2.50]},"Id":', 1)
    jextra = jextra.replace(b'"ShopId":', b'"Tier":"gold","Points":120,"ShopId":', 1)
    xextra = xdata.replace(b"<ShopId>", b"<Tier>gold</Tier><Added><A>1</A></Added><ShopId>", 1)
    assert len(jc.decode(jextra, MessageConversation).unknown) == 3
    assert len(xc.decode(xextra, MessageConversation).unknown) == 2
    assert json_floor_decode(jextra) == jc.decode(jextra, MessageConversation)
    kept = jc.decode(jextra, MessageConversationChanges)
    assert xml_floor_decode(xextra) == xc.decode(xextra, MessageConversation)
    coded = shipments()
    spage, sxpage = jc.encode(coded), xc.encode(coded)
    plain = jc.decode(spage, list[PlainShipment])
    assert jc.encode(plain) == spage
    assert xc.encode(plain) == sxpage
    assert [attrs.astuple(p) for p in plain] == [attrs.astuple(c) for c in coded]

    results = [
        compare(
            "JSON encode",
            lambda: jc.encode(changes),
            lambda: json_floor_encode(changes),
            target=1.5,
        ),
        compare(
            "JSON decode",
            lambda: jc.decode(jdata, MessageConversation),
            lambda: json_floor_decode(jdata),
            target=2.0,
        ),
        compare(
            "XML encode", lambda: xc.encode(changes), lambda: xml_floor_encode(changes), target=1.3
        ),
        compare(
            "XML decode",
            lambda: xc.decode(xdata, MessageConversation),
            lambda: xml_floor_decode(xdata),
            target=1.5,
        ),
        compare(
            "JSON decode, a page of 100 basic infos",
            lambda: jc.decode(jpage, list[MessageConversationBasicInfo]),
            lambda: basic_floor_json(jpage),
            target=2.0,
            batch=50,
        ),
        compare(
            "XML decode, a page of 100 basic infos",
            lambda: xc.decode(xpage, list[MessageConversationBasicInfo]),
            lambda: basic_floor_xml(xpage),
            target=1.5,
            batch=50,
        ),
        # The floors read the same bodies and drop the unknown members; the codecs keep
        # them (JSON: a second, raw-text parse of a body that has any).
        compare(
            "JSON decode, 3 unknown members kept",
            lambda: jc.decode(jextra, MessageConversation),
            lambda: json_floor_decode(jextra),
            target=4.0,
        ),
        compare(
            "XML decode, 2 unknown elements kept",
            lambda: xc.decode(xextra, MessageConversation),
            lambda: xml_floor_decode(xextra),
            target=2.0,
        ),
        compare(
            "JSON encode, 3 unknown members",
            lambda: jc.encode(kept),
            lambda: json_floor_encode(changes),
            # Measured 4.2-5.7x: putting the members back is a generic merge in Python
            # (a list of pairs, then a dict); a generated one would be cheaper.
            target=6.0,
        ),
        compare(
            "JSON decode, 100 shipments, coded status (floor: a plain int)",
            lambda: jc.decode(spage, list[ShipmentBasicInfo]),
            lambda: jc.decode(spage, list[PlainShipment]),
            target=1.15,
            batch=50,
        ),
        compare(
            "XML decode, 100 shipments, coded status (floor: a plain int)",
            lambda: xc.decode(sxpage, list[ShipmentBasicInfo]),
            lambda: xc.decode(sxpage, list[PlainShipment]),
            target=1.15,
            batch=50,
        ),
        compare(
            "JSON encode, 100 shipments, coded status (floor: a plain int)",
            lambda: jc.encode(coded),
            lambda: jc.encode(plain),
            target=1.15,
            batch=50,
        ),
        compare(
            "XML encode, 100 shipments, coded status (floor: a plain int)",
            lambda: xc.encode(coded),
            lambda: xc.encode(plain),
            target=1.15,
            batch=50,
        ),
    ]
    print(HEADER)
    for r in results:
        print(r.row())
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
