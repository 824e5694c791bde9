"""Members the models do not know are kept as they came and written back in place."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.probes import PROBE_TYPES, ProbeAddress, ProbeColor, ProbeOrder, ProbeOrderRow
from shopapi import (
    DecodeError,
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    PlatformKindEnum,
    Unknown,
    UnknownMember,
    ValidationError,
    XmlCodec,
    drop_unknown,
    validate,
)
from shopapi._wire.fields import json_order, keep_unknown, model_field, string
from shopapi._wire.kinds import KINDS
from shopapi._wire.unknown import EMPTY, unknown_attr
from shopapi.codecs.json import make_converter

JSON = JsonCodec()
XML = XmlCodec()
XML_HEAD = (
    b' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)

#: Extra JSON members of every kind, as Json.NET writes them.
JSON_EXTRAS = {
    "AddedString": b'"caf\xc3\xa9 \\"x\\""',
    "AddedInt": b"42",
    "AddedDecimal": b"12.50",
    "AddedObject": b'{"Street":"Main","No":1,"Inner":{"A":[1,2.0,null]}}',
    "AddedList": b'[{"A":1},{"A":2}]',
    "AddedNull": b"null",
}

#: Extra XML elements of every kind, as XmlSerializer writes them.
XML_EXTRAS = {
    "AddedString": b"<AddedString>caf\xc3\xa9 &amp; &lt;x&gt;</AddedString>",
    "AddedInt": b"<AddedInt>42</AddedInt>",
    "AddedDecimal": b"<AddedDecimal>12.50</AddedDecimal>",
    "AddedObject": b"<AddedObject><Street>Main</Street><No>1</No></AddedObject>",
    "AddedList": b"<AddedList><int>1</int><int>2</int></AddedList>",
    "AddedNil": b'<AddedNil xsi:nil="true" />',
    "{urn:x}Namespaced": b'<Namespaced xmlns="urn:x" a="1"><B /></Namespaced>',
}


def conversation() -> MessageConversation:
    return MessageConversation(
        id=7,
        shop_id=1,
        platform_kind_enum_value=PlatformKindEnum.FlowAi,
        customer_name="Ann",
        rating=4,
        note="first",
        external_key="k-1",
        channel_id="web",
    )


def splice_json(body: bytes, extras: dict[str, bytes], after: list[str | None]) -> bytes:
    """``body`` (a compact JSON object) with each extra put after the named member."""
    for (name, raw), anchor in zip(reversed(extras.items()), reversed(after), strict=True):
        member = b'"' + name.encode() + b'":' + raw
        if anchor is None:
            body = b"{" + member + b"," + body[1:]
        else:
            key = b'"' + anchor.encode() + b'":'
            start = body.index(key)
            end = _json_value_end(body, start + len(key))
            body = body[:end] + b"," + member + body[end:]
    return body


def _json_value_end(body: bytes, at: int) -> int:
    depth, in_string, i = 0, False, at
    while True:
        c = body[i : i + 1]
        if in_string:
            if c == b"\\":
                i += 1
            elif c == b'"':
                in_string = False
        elif c == b'"':
            in_string = True
        elif c in b"[{":
            depth += 1
        elif c in b"]}":
            if depth == 0:
                return i
            depth -= 1
        elif c == b"," and depth == 0:
            return i
        i += 1


def splice_xml(body: bytes, extras: dict[str, bytes], after: list[str | None]) -> bytes:
    """``body`` (a compact XML document) with each extra element put after the named one."""
    for raw, anchor in zip(reversed(list(extras.values())), reversed(after), strict=True):
        if anchor is None:
            at = body.index(b">") + 1
        else:
            tag = anchor.encode()
            start = body.index(b"<" + tag + b">") if b"<" + tag + b">" in body else None
            if start is None:
                start = body.index(b"<" + tag + b" ")
                at = body.index(b"/>", start) + 2
            else:
                at = body.index(b"</" + tag + b">", start) + len(tag) + 3
        body = body[:at] + raw + body[at:]
    return body


JSON_ANCHORS: list[str | None] = [None, "ExternalKey", "Note", "Rating", "Rating", "ChannelId"]
XML_ANCHORS: list[str | None] = [None, "Id", "Rating", "Rating", "ShopId", "ChannelId", "Note"]


# -- each format alone: kept byte for byte, in place -----------------------------------------


def test_json_members_of_every_kind_round_trip_byte_for_byte() -> None:
    body = splice_json(JSON.encode(conversation()), JSON_EXTRAS, JSON_ANCHORS)
    read = JSON.decode(body, MessageConversation)
    assert read.unknown.format == "json"
    assert read.unknown.names() == tuple(JSON_EXTRAS)
    assert [m.raw.encode() for m in read.unknown] == list(JSON_EXTRAS.values())
    assert read.note == "first"
    assert read.rating == 4
    assert JSON.encode(read) == body


def test_xml_elements_of_every_kind_round_trip_byte_for_byte() -> None:
    body = splice_xml(XML.encode(conversation()), XML_EXTRAS, XML_ANCHORS)
    read = XML.decode(body, MessageConversation)
    assert read.unknown.format == "xml"
    assert read.unknown.names() == tuple(XML_EXTRAS)
    assert [m.raw.encode() for m in read.unknown] == list(XML_EXTRAS.values())
    assert XML.encode(read) == body


def test_xml_keeps_a_namespace_declared_on_the_root() -> None:
    body = (
        b'<MessageBasicInfo xmlns:v2="urn:v2"' + XML_HEAD + b"><Id>1</Id>"
        b"<v2:Added>x</v2:Added><MessageConversationId>2</MessageConversationId>"
        b"<MessageSenderEnumValue>A</MessageSenderEnumValue><TypeEnumValue>B</TypeEnumValue>"
        b"</MessageBasicInfo>"
    )
    from shopapi import MessageBasicInfo

    read = XML.decode(body, MessageBasicInfo)
    (member,) = read.unknown
    assert member.name == "{urn:v2}Added"
    assert member.after == "Id"
    again = XML.decode(XML.encode(read), MessageBasicInfo)
    assert again.unknown.names() == ("{urn:v2}Added",)
    assert again.unknown.members[0].after == "Id"


def test_an_unknown_element_keeps_a_forbidden_character_reference() -> None:
    body = splice_xml(XML.encode(conversation()), {"Ctl": b"<Ctl>a&#x1;b</Ctl>"}, ["Rating"])
    assert XML.encode(XML.decode(body, MessageConversation)) == body


def test_pretty_output_puts_unknown_members_on_their_own_lines() -> None:
    body = splice_xml(XML.encode(conversation()), {"Added": b"<Added>1</Added>"}, ["Id"])
    pretty = XmlCodec(pretty=True).encode(XML.decode(body, MessageConversation))
    assert b"\n  <Id>7</Id>\n  <Added>1</Added>\n" in pretty
    jbody = splice_json(JSON.encode(conversation()), {"Added": b"12.50"}, ["Id"])
    jpretty = JsonCodec(pretty=True).encode(JSON.decode(jbody, MessageConversation))
    assert b'\n  "Id": 7,\n  "Added": 12.50,\n' in jpretty


def test_the_usual_answer_keeps_nothing() -> None:
    read = JSON.decode(JSON.encode(conversation()), MessageConversation)
    assert read.unknown is EMPTY
    assert XML.decode(XML.encode(conversation()), MessageConversation).unknown is EMPTY


def test_a_list_answer_keeps_each_items_members() -> None:
    items = [
        MessageConversationBasicInfo(
            id=i, shop_id=1, platform_kind_enum_value=PlatformKindEnum.FlowAi
        )
        for i in (1, 2)
    ]
    one = JSON.encode(items[1])
    page = b"[" + JSON.encode(items[0]) + b"," + splice_json(one, {"X": b"[1]"}, ["Id"]) + b"]"
    read = JSON.decode(page, list[MessageConversationBasicInfo])
    assert [r.unknown.names() for r in read] == [(), ("X",)]
    assert b"[" + b",".join(JSON.encode(r) for r in read) + b"]" == page
    xpage = XML.encode(items)
    xpage = xpage.replace(b"<Id>2</Id>", b"<Id>2</Id><X>1</X>")
    xread = XML.decode(xpage, list[MessageConversationBasicInfo])
    assert [r.unknown.names() for r in xread] == [(), ("X",)]
    assert XML.encode(xread) == xpage


# -- read-modify-write --------------------------------------------------------------------


def test_read_modify_write_keeps_json_members_in_place_bytes_unchanged() -> None:
    body = splice_json(JSON.encode(conversation()), JSON_EXTRAS, JSON_ANCHORS)
    read = JSON.decode(body, MessageConversation)
    for changes in (
        read.to_changes(note="called back"),
        MessageConversationChanges.from_conversation(read, note="called back"),
        attrs.evolve(read.to_changes(), note="called back"),
    ):
        assert changes.unknown == read.unknown
        assert JSON.encode(changes) == body.replace(b'"Note":"first"', b'"Note":"called back"')


def test_read_modify_write_keeps_xml_elements_in_place_bytes_unchanged() -> None:
    body = splice_xml(XML.encode(conversation()), XML_EXTRAS, XML_ANCHORS)
    read = XML.decode(body, MessageConversation)
    written = XML.encode(read.to_changes(note="called back"))
    expected = body.replace(b"<Note>first</Note>", b"<Note>called back</Note>").replace(
        b"MessageConversation", b"MessageConversationChanges"
    )
    assert written == expected


def test_from_basic_info_keeps_the_list_items_members() -> None:
    basic = MessageConversationBasicInfo(
        id=3, shop_id=1, platform_kind_enum_value=PlatformKindEnum.FlowAi
    )
    body = splice_json(JSON.encode(basic), {"Added": b'"x"'}, ["ShopId"])
    read = JSON.decode(body, MessageConversationBasicInfo)
    changes = MessageConversationChanges.from_basic_info(read, clear_missing_details=True)
    written = JSON.encode(changes)
    assert b'"ShopId":1,"Added":"x","EmployeeId"' in written


def test_a_member_the_target_class_declares_is_not_written_twice() -> None:
    """A list item's unknown ``ExternalKey`` becomes a field of the full body: the field,
    as set, wins in both formats (no duplicate, no stale raw value)."""
    basic = MessageConversationBasicInfo(
        id=3, shop_id=1, platform_kind_enum_value=PlatformKindEnum.FlowAi
    )
    body = splice_json(JSON.encode(basic), {"ExternalKey": b'"old"'}, ["Id"])
    read = JSON.decode(body, MessageConversationBasicInfo)
    assert read.unknown.names() == ("ExternalKey",)
    changes = MessageConversationChanges.from_basic_info(
        read, clear_missing_details=True, external_key="new"
    )
    written = JSON.encode(changes)
    assert written.count(b'"ExternalKey"') == 1
    assert JSON.decode(written, MessageConversationChanges).external_key == "new"
    xbody = XML.encode(basic).replace(b"<Id>3</Id>", b"<Id>3</Id><ExternalKey>old</ExternalKey>")
    xread = XML.decode(xbody, MessageConversationBasicInfo)
    xchanges = MessageConversationChanges.from_basic_info(
        xread, clear_missing_details=True, external_key="new"
    )
    xwritten = XML.encode(xchanges)
    assert xwritten.count(b"<ExternalKey>") == 1
    assert XML.decode(xwritten, MessageConversationChanges).external_key == "new"


def test_a_member_whose_anchor_the_class_lacks_goes_last() -> None:
    kept = Unknown("json", (UnknownMember("Added", "1", "NotAField"),))
    written = JSON.encode(attrs.evolve(conversation(), unknown=kept))
    assert written.endswith(b',"Added":1}')
    xkept = Unknown("xml", (UnknownMember("Added", "<Added>1</Added>", "NotAField"),))
    xwritten = XML.encode(attrs.evolve(conversation(), unknown=xkept))
    assert xwritten.endswith(b"<Added>1</Added></MessageConversation>")


# -- equality, hashing, repr -------------------------------------------------------------


def test_unknown_members_take_no_part_in_equality_or_hash() -> None:
    """``==`` compares the documented values: the same data read from JSON and from XML,
    or with and without members added later, compare equal."""
    plain = conversation()
    body = splice_json(JSON.encode(plain), JSON_EXTRAS, JSON_ANCHORS)
    from_json = JSON.decode(body, MessageConversation)
    from_xml = XML.decode(
        splice_xml(XML.encode(plain), XML_EXTRAS, XML_ANCHORS), MessageConversation
    )
    assert from_json == plain == from_xml
    assert hash(from_json) == hash(plain) == hash(from_xml)
    assert from_json.unknown != from_xml.unknown  # compared on purpose, they differ


def test_repr_names_the_members_and_never_shows_their_values() -> None:
    secret = "s3cr3t-token-" + "x" * 5000
    extras = {f"Added{i}": f'"{secret}"'.encode() for i in range(8)}
    body = splice_json(JSON.encode(conversation()), extras, ["Id"] * 8)
    read = JSON.decode(body, MessageConversation)
    text = repr(read)
    assert "s3cr3t" not in text
    assert len(text) < 1000
    assert "unknown=Unknown(json: Added0, Added1, Added2, Added3, Added4, +3 more)" in text
    assert "s3cr3t" not in repr(read.unknown.members[0])
    assert repr(EMPTY) == "Unknown()"


def decoded_models(types: Iterable[type]) -> set[type]:
    """``types`` and every model their fields nest (a model, a list's model member), at
    any depth: each class a codec decodes, so each one that must keep what it lacks."""
    out: set[type] = set()
    todo = list(types)
    while todo:
        cls = todo.pop()
        if cls not in out:
            out.add(cls)
            todo.extend(m for f in json_order(cls) if (m := KINDS[f.kind].nests(f)) is not None)
    return out


def test_every_model_keeps_unknown_members() -> None:
    """Every class a resource sends or receives, nested ones included (a nested model
    without the line would drop its unknown members without a word), declares or
    inherits ``unknown: Unknown = keep_unknown()``: models added later (generated from
    the help pages) are held to it too."""
    from shopapi._resources import RESOURCES

    models = decoded_models([m for r in RESOURCES for m in r.models()] + list(PROBE_TYPES))
    assert {ProbeAddress, ProbeOrderRow, ProbeOrder} <= models  # nested ones are found
    for cls in models:
        assert unknown_attr(cls) == "unknown", cls

    @attrs.frozen(kw_only=True)
    class Inner:
        city: str | None = string("City")

    @attrs.frozen(kw_only=True)
    class Outer:
        inner: Inner | None = model_field("Inner", Inner)
        unknown: Unknown = keep_unknown()

    assert unknown_attr(next(iter(decoded_models([Outer]) - {Outer}))) is None  # would fail


# -- cross-format ------------------------------------------------------------------------


def test_json_members_cannot_be_written_as_xml_and_say_so() -> None:
    body = splice_json(JSON.encode(conversation()), {"AddedA": b"1", "AddedB": b"2"}, ["Id"] * 2)
    read = JSON.decode(body, MessageConversation)
    with pytest.raises(ValidationError) as caught:
        XML.encode(read)
    assert caught.value.fields == ("AddedA", "AddedB")
    assert "kept as raw JSON, which XML cannot carry" in str(caught.value)
    with pytest.raises(ValidationError):
        validate(read, fmt="xml")
    validate(read, fmt="json")
    validate(read)
    dropped = drop_unknown(read)
    assert dropped.unknown is EMPTY
    assert dropped == read
    assert XML.decode(XML.encode(dropped), MessageConversation) == read


def test_drop_unknown_takes_a_model_only() -> None:
    from shopapi import ConfigurationError

    with pytest.raises(ConfigurationError, match="takes a model, not dict"):
        drop_unknown({"Id": 1})
    plain = conversation()
    assert drop_unknown(plain) is plain


def test_xml_elements_cannot_be_written_as_json_and_say_so() -> None:
    body = splice_xml(XML.encode(conversation()), {"Added": b"<Added>1</Added>"}, ["Id"])
    read = XML.decode(body, MessageConversation)
    with pytest.raises(ValidationError) as caught:
        JSON.encode(read)
    assert caught.value.fields == ("Added",)
    assert JSON.decode(JSON.encode(drop_unknown(read)), MessageConversation) == read


def test_a_nested_models_members_are_named_by_their_path() -> None:
    order = probe_order()
    body = JSON.encode(order).replace(b'"City":"Paris"', b'"City":"Paris","Added":1')
    read = JSON.decode(body, ProbeOrder)
    with pytest.raises(ValidationError) as caught:
        XML.encode(read)
    # The row's delivery address is the same address, so it carries the member too.
    assert caught.value.fields == ("BillToAddress.Added", "OrderRows[1].DeliveryAddress.Added")
    dropped = drop_unknown(read)
    assert dropped.bill_to_address is not None
    assert dropped.bill_to_address.unknown is EMPTY
    XML.encode(dropped)


# -- nested models and list items --------------------------------------------------------


def probe_order() -> ProbeOrder:
    address = ProbeAddress(city="Paris", zip_code=75001, credit_limit=Decimal("10.50"))
    return ProbeOrder(
        id=1,
        exchange_rate=Decimal("1.0"),
        color=ProbeColor.Green,
        bill_to_address=address,
        order_rows=(
            ProbeOrderRow(id=1, quantity=Decimal("2"), text="a"),
            ProbeOrderRow(id=2, quantity=Decimal("3.50"), delivery_address=address),
        ),
        children=(1, 2),
    )


def test_nested_models_and_list_items_keep_json_members() -> None:
    body = JSON.encode(probe_order())
    body = body.replace(b'"City":"Paris"', b'"City":"Paris","A1":{"x":[1.10]}', 1)
    body = body.replace(b'"Id":2,', b'"Id":2,"A2":[{"y":2.50}],', 1)
    body = body.replace(b'"Text":"a"', b'"Text":"a","A3":1e5', 1)
    body = body.replace(b'"ZipCode":75001', b'"A0":0.0,"ZipCode":75001', 2)
    read = JSON.decode(body, ProbeOrder)
    assert read.bill_to_address is not None
    assert read.order_rows is not None
    assert read.bill_to_address.unknown.names() == ("A1", "A0")
    assert read.order_rows[0].unknown.names() == ("A3",)
    assert read.order_rows[1].unknown.names() == ("A2",)
    row_address = read.order_rows[1].delivery_address
    assert row_address is not None
    assert row_address.unknown.names() == ("A0",)
    assert JSON.encode(read) == body
    assert read.exchange_rate == Decimal("1.0")  # a decimal model: read exactly


def test_nested_models_and_list_items_keep_xml_elements() -> None:
    body = XML.encode(probe_order())
    body = body.replace(b"<City>Paris</City>", b"<City>Paris</City><A1><x>1</x></A1>", 1)
    body = body.replace(b"<Id>2</Id>", b"<Id>2</Id><A2 />", 1)
    body = body.replace(b"<ZipCode>75001</ZipCode>", b"<A0>0</A0><ZipCode>75001</ZipCode>")
    read = XML.decode(body, ProbeOrder)
    assert read.bill_to_address is not None
    assert read.order_rows is not None
    assert read.bill_to_address.unknown.names() == ("A1", "A0")
    assert read.order_rows[1].unknown.names() == ("A2",)
    assert XML.encode(read) == body


# -- the other ways in: a converter, parsed values ---------------------------------------


def test_a_converter_keeps_members_of_parsed_values_as_orjson_writes_them() -> None:
    converter = make_converter()
    value = {"Added": {"x": [1, 2.5]}, "Id": 1, "ShopId": 2, "PlatformKindEnumValue": 1}
    read = converter.structure(value, MessageConversation)
    assert read.unknown.members == (UnknownMember("Added", '{"x":[1,2.5]}', None),)
    assert JSON.structure(value, MessageConversation).unknown == read.unknown
    custom = JsonCodec(converter=make_converter())
    body = b'{"Added": {"x": [1, 2.50]},"Id":1,"ShopId":2,"PlatformKindEnumValue":1}'
    assert custom.decode(body, MessageConversation).unknown == read.unknown
    # The codec's own decode keeps the text as it came.
    assert JSON.decode(body, MessageConversation).unknown.members[0].raw == '{"x": [1, 2.50]}'


def test_an_unknown_value_too_deep_is_a_decode_error() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    body = splice_json(JSON.encode(conversation()), {"Deep": deep}, ["Id"])
    with pytest.raises(DecodeError):
        JSON.decode(body, MessageConversation)
    moderate = b"[" * 200 + b"]" * 200
    body = splice_json(JSON.encode(conversation()), {"Deep": moderate}, ["Id"])
    assert JSON.encode(JSON.decode(body, MessageConversation)) == body


def test_memory_stays_proportional_to_the_body() -> None:
    """A huge unknown value is held once (its text), not parsed into objects again."""
    huge = b'"' + b"x" * 4_000_000 + b'"'
    many = {f"A{i}": b"[1,2,3]" for i in range(20_000)}
    for extras in ({"Huge": huge}, many):
        body = splice_json(JSON.encode(conversation()), extras, ["Id"] * len(extras))
        tracemalloc.start()
        read = JSON.decode(body, MessageConversation)
        written = JSON.encode(read)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert written == body
        assert peak < 40 * len(body)


# -- a property: any members anywhere ----------------------------------------------------

_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.decimals(places=3, min_value=-(10**6), max_value=10**6).map(
            lambda d: orjson.Fragment(f"{d:f}")  # as written: 12.500 stays 12.500
        ),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _jsonnet(text: bytes) -> bytes:
    for raw, escaped in (
        (b"\xc2\x85", b"\\u0085"),
        ("\u2028".encode(), b"\\u2028"),
        ("\u2029".encode(), b"\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([None, "ExternalKey", "Note", "Id", "Rating", "ChannelId"]),
            _json_values,
        ),
        max_size=5,
    )
)
def test_any_json_members_anywhere_round_trip(extras: list[tuple[str | None, Any]]) -> None:
    # As Json.NET writes them: it escapes U+0085, U+2028 and U+2029, and so does the
    # codec on everything it writes.
    named = {f"Added{i}": _jsonnet(orjson.dumps(v)) for i, (_, v) in enumerate(extras)}
    body = splice_json(JSON.encode(conversation()), named, [a for a, _ in extras])
    read = JSON.decode(body, MessageConversation)
    assert read == conversation()
    assert JSON.encode(read.to_changes()) == body


# -- through the client -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_an_update_sends_the_unknown_members_back_and_refuses_the_other_format(
    fmt: str,
) -> None:
    from shopapi import ShopApiClient
    from shopapi.testing import FakeShopServer

    codec, other = (JSON, XML) if fmt == "json" else (XML, JSON)
    async with FakeShopServer(username="u", password="p") as server:
        [seeded] = server.seed(1)
        if fmt == "json":
            body = splice_json(JSON.encode(seeded), {"Added": b"12.50"}, ["Id"])
        else:
            body = splice_xml(XML.encode(seeded), {"Added": b"<Added>12.50</Added>"}, ["Id"])
        read = codec.decode(body, MessageConversation)
        changes = read.to_changes(note="called back")
        async with ShopApiClient(server.base_url, auth=("u", "p"), codec=codec) as client:
            await client.message_conversations.update(1, seeded.id, changes)
            assert server.requests[-1].body == codec.encode(changes)
            sent_back = codec.decode(server.requests[-1].body, MessageConversationChanges)
            assert sent_back.unknown == read.unknown
        async with ShopApiClient(server.base_url, auth=("u", "p"), codec=other) as client:
            sent = len(server.requests)
            with pytest.raises(ValidationError) as caught:
                await client.message_conversations.update(1, seeded.id, changes)
            assert caught.value.fields == ("Added",)
            assert len(server.requests) == sent  # nothing was sent
