"""``XmlCodec``: byte-for-byte what XmlSerializer writes, and a hardened, lenient reader.

The reader faces untrusted bodies, so besides the golden vectors it must refuse every
classic XML attack (external entities, entity expansion, deep trees, huge bodies) with a
``DecodeError``, quickly, without touching the file system or the network.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopapi import (
    DecodeError,
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    PlatformKindEnum,
    Timestamp,
    ValidationError,
    XmlCodec,
)
from shopapi._wire.fields import wire_fields, xml_order
from shopapi._wire.validation import field_errors
from tests.strategies import (
    basic_infos,
    decode_outcome,
    models,
    mutated,
    unknown_enum_names,
)

BasicInfo = MessageConversationBasicInfo
COMPACT = XmlCodec()
PRETTY = XmlCodec(pretty=True)
NS = (
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
GOLDEN = [
    ("request_xml", MessageConversationChanges),
    ("response_xml", MessageConversation),
]
CROSS = [
    ("request_json", "request_xml", MessageConversationChanges),
    ("response_json", "response_xml", MessageConversation),
]
SETTINGS = settings(max_examples=250, deadline=None)
FUZZ_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
REQUIRED_XML = "<Id>11</Id><ShopId>16</ShopId><PlatformKindEnumValue>FlowAi</PlatformKindEnumValue>"


def body(inner: str = "", root: str = "MessageConversation", required: bool = True) -> bytes:
    """A document with the namespace declarations, the required fields and ``inner``."""
    fields = REQUIRED_XML if required else ""
    return f"<{root} {NS}>{fields}{inner}</{root}>".encode()


def conversation(**values: Any) -> MessageConversation:
    """A valid conversation with ``values`` applied."""
    return MessageConversation(
        id=11, shop_id=16, platform_kind_enum_value=PlatformKindEnum.FlowAi, **values
    )


def basic_info_of(value: MessageConversation) -> MessageConversationBasicInfo:
    """The list-endpoint view of a full conversation."""
    names = [f.name for f in wire_fields(MessageConversationBasicInfo)]
    return MessageConversationBasicInfo(**{n: getattr(value, n) for n in names})


# -- golden vectors ------------------------------------------------------------------------


@pytest.mark.parametrize(("sample", "cls"), GOLDEN)
def test_golden_sample_round_trips_exactly(
    seed_samples: dict[str, str],
    sample: str,
    cls: type[MessageConversation | MessageConversationChanges],
) -> None:
    """Decode the help page's XML, encode it pretty: the same text, byte for byte."""
    text = seed_samples[sample]
    value = PRETTY.decode(text.encode(), cls)
    assert type(value) is cls
    assert PRETTY.encode(value).decode() == text.rstrip("\n")


@pytest.mark.parametrize(("json_sample", "xml_sample", "cls"), CROSS)
def test_json_sample_encodes_to_xml_sample(
    seed_samples: dict[str, str],
    json_sample: str,
    xml_sample: str,
    cls: type[MessageConversation | MessageConversationChanges],
) -> None:
    """The JSON and XML samples describe one value: read one, write the other."""
    value = JsonCodec().decode(seed_samples[json_sample].encode(), cls)
    assert PRETTY.encode(value).decode() == seed_samples[xml_sample]


def test_golden_sample_values(seed_samples: dict[str, str]) -> None:
    """The sample's values arrive with their types and the seventh tick intact."""
    value = COMPACT.decode(seed_samples["request_xml"].encode(), MessageConversationChanges)
    assert (value.id, value.shop_id, value.rating) == (11, 16, 1)
    assert value.platform_kind_enum_value is PlatformKindEnum.FlowAi
    assert value.note == "sample string 10"
    assert isinstance(value.last_activity_date, Timestamp)
    assert str(value.last_activity_date) == "2026-01-11T16:13:16.7386644+01:00"


@pytest.mark.parametrize(("sample", "cls"), GOLDEN)
def test_compact_is_the_default_and_has_no_indentation(
    seed_samples: dict[str, str],
    sample: str,
    cls: type[MessageConversation | MessageConversationChanges],
) -> None:
    """On the wire the default is compact: the sample without the indentation."""
    text = seed_samples[sample]
    value = COMPACT.decode(text.encode(), cls)
    encoded = XmlCodec().encode(value)
    assert encoded.decode() == re.sub(r">\s+<", "><", text)
    assert b"\n" not in encoded


def test_root_declares_the_namespaces_and_no_xml_declaration() -> None:
    """ASP.NET's formatter writes no declaration; the root carries xsd and xsi."""
    encoded = COMPACT.encode(conversation())
    assert encoded.startswith(f"<MessageConversation {NS}>".encode())
    assert encoded.endswith(b"</MessageConversation>")
    assert b"<?xml" not in encoded


def test_order_is_xml_serializer_order() -> None:
    """Base class members first (``Id`` ... ``ChannelId``), then ``ExternalKey`` ... ``Note``."""
    value = conversation(**{f.name: "x" for f in wire_fields(MessageConversation) if f.max_length})
    tags = re.findall(rb"<(\w+)>x<", COMPACT.encode(value))
    expected = [f.wire for f in xml_order(MessageConversation) if f.max_length]
    assert [t.decode() for t in tags] == expected
    assert expected.index("ChannelId") < expected.index("ExternalKey")


def test_enum_is_a_name() -> None:
    """XmlSerializer writes enums by name."""
    assert b"<PlatformKindEnumValue>FlowAi</PlatformKindEnumValue>" in COMPACT.encode(
        conversation()
    )
    as_int = attrs.evolve(conversation(), platform_kind_enum_value=0)
    assert b"<PlatformKindEnumValue>FlowAi</PlatformKindEnumValue>" in COMPACT.encode(as_int)


def test_nulls_follow_xml_serializer() -> None:
    """Null ``int?``/``DateTime?`` are ``xsi:nil``; a null string is left out."""
    encoded = COMPACT.encode(conversation())
    for wire in ("LastActivityDate", "FinishedDate", "CustomerId", "Rating", "EmployeeId"):
        assert f'<{wire} xsi:nil="true" />'.encode() in encoded
    for wire in ("CustomerName", "Note", "ChannelId", "ExternalKey"):
        assert f"<{wire}".encode() not in encoded
    # A non-nullable DateTime left unset has no way to say so but to be absent.
    assert b"<CreationDate" not in encoded


def test_empty_string_is_an_empty_element() -> None:
    """``""`` is ``<Note />``, kept apart from ``None`` (absent)."""
    encoded = COMPACT.encode(conversation(note=""))
    assert b"<Note />" in encoded
    assert COMPACT.decode(encoded, MessageConversation).note == ""


# -- enums the client does not know -------------------------------------------------------


def test_unknown_enum_name_round_trips() -> None:
    """A value the server added later is kept as its name and written back unchanged."""
    data = body().replace(b">FlowAi<", b">Brand<")
    value = COMPACT.decode(data, MessageConversation)
    assert value.platform_kind_enum_value == "Brand"
    assert COMPACT.encode(value) == COMPACT.encode(
        attrs.evolve(conversation(), platform_kind_enum_value="Brand")
    )
    assert b"<PlatformKindEnumValue>Brand</PlatformKindEnumValue>" in COMPACT.encode(value)


def test_enum_names_are_case_sensitive() -> None:
    """XmlSerializer matches names exactly; ``flowai`` is some other (unknown) value."""
    value = COMPACT.decode(body().replace(b">FlowAi<", b">flowai<"), MessageConversation)
    assert value.platform_kind_enum_value == "flowai"


def test_unknown_enum_integer_cannot_be_written_as_xml() -> None:
    """An integer read from JSON has no known name: refuse it rather than guess."""
    value = attrs.evolve(conversation(), platform_kind_enum_value=7)
    with pytest.raises(ValidationError, match="XML name is unknown") as info:
        COMPACT.encode(value)
    assert info.value.fields == ("PlatformKindEnumValue",)


@pytest.mark.parametrize("inner", ["", ' xsi:nil="true"'])
def test_empty_or_nil_enum_is_a_decode_error(inner: str) -> None:
    """A required enum without a name is not a value the client can keep."""
    data = body(f"<Id>1</Id><ShopId>1</ShopId><PlatformKindEnumValue{inner} />", required=False)
    with pytest.raises(DecodeError) as info:
        COMPACT.decode(data, MessageConversation)
    assert info.value.field == "PlatformKindEnumValue"


# -- lenient reading -------------------------------------------------------------------------


def test_unknown_elements_and_attributes_are_ignored() -> None:
    """The server may add members; an older client must keep working."""
    data = body(
        '<NewThing a="1"><Deep><Deeper>x</Deeper></Deep></NewThing><Extra />'
        '<Note lang="en">n</Note><!-- a comment --><?pi data?>'
    )
    value = COMPACT.decode(data, MessageConversation)
    assert (value.id, value.note) == (11, "n")


def test_any_element_order_is_accepted(seed_samples: dict[str, str]) -> None:
    """Order carries no meaning on reading."""
    lines = seed_samples["response_xml"].splitlines()
    reordered = "\n".join([lines[0], *reversed(lines[1:-1]), lines[-1]])
    expected = COMPACT.decode(seed_samples["response_xml"].encode(), MessageConversation)
    assert COMPACT.decode(reordered.encode(), MessageConversation) == expected


def test_nil_missing_and_null_all_mean_none() -> None:
    """``xsi:nil`` and an absent element both mean ``None``, for every kind."""
    nil = "".join(
        f'<{w} xsi:nil="true" />'
        for w in ("CreationDate", "FinishedDate", "CustomerId", "CustomerName", "Note")
    )
    for data in (body(nil), body()):
        value = COMPACT.decode(data, MessageConversation)
        assert value.creation_date is None
        assert value.finished_date is None
        assert value.customer_id is None
        assert value.customer_name is None
        assert value.note is None


def test_empty_string_elements_read_as_empty_string() -> None:
    """``<Note />`` and ``<Note></Note>`` are the empty string, not ``None``."""
    for inner in ("<Note />", "<Note></Note>"):
        assert COMPACT.decode(body(inner), MessageConversation).note == ""


def test_whitespace_is_preserved_in_strings() -> None:
    """Text is data: leading, trailing and inner whitespace survive."""
    assert COMPACT.decode(body("<Note>  a \n b  </Note>"), MessageConversation).note == (
        "  a \n b  "
    )


def test_cdata_and_character_references_are_read() -> None:
    """Other XML writers use CDATA and character references; both mean plain text."""
    data = body("<Note><![CDATA[<b>&</b>]]>&#xE9;&#13;</Note>")
    assert COMPACT.decode(data, MessageConversation).note == "<b>&</b>\u00e9\r"


def test_whitespace_around_numbers_and_dates_is_tolerated() -> None:
    """XmlSerializer trims whitespace around numbers and dates."""
    data = body("<Rating> 5 </Rating><CreationDate>\n2026-01-11T16:13:16Z\n</CreationDate>")
    value = COMPACT.decode(data, MessageConversation)
    assert value.rating == 5
    assert str(value.creation_date) == "2026-01-11T16:13:16Z"


# -- strict reading --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"<MessageConversationChanges />",
        b"<Error><Message>x</Message></Error>",
        b'<MessageConversation xmlns="urn:other" />',
    ],
)
def test_wrong_root_is_a_decode_error(data: bytes) -> None:
    """A body about something else is not silently read as a conversation."""
    with pytest.raises(DecodeError, match="root element") as info:
        COMPACT.decode(data, MessageConversation)
    assert info.value.media_type == "application/xml"


@pytest.mark.parametrize(
    ("inner", "wire"),
    [
        ("<Rating>abc</Rating>", "Rating"),
        ("<Rating>1.5</Rating>", "Rating"),
        ("<Rating>true</Rating>", "Rating"),
        ("<Rating />", "Rating"),
        ("<CustomerId>0x10</CustomerId>", "CustomerId"),
        ("<CreationDate>yesterday</CreationDate>", "CreationDate"),
        ("<FinishedDate>2026-02-30T00:00:00</FinishedDate>", "FinishedDate"),
        ("<CustomerName><b>x</b></CustomerName>", "CustomerName"),
        ("<TicketCode><v>1</v></TicketCode>", "TicketCode"),
    ],
)
def test_wrong_type_names_the_field(inner: str, wire: str) -> None:
    """An element of the wrong type is blamed by its wire name."""
    with pytest.raises(DecodeError) as info:
        COMPACT.decode(body(inner), MessageConversation)
    assert info.value.field == wire
    assert wire in str(info.value)


def test_wrong_type_in_a_required_field_names_it() -> None:
    """The same for the required ``Id``."""
    data = body().replace(b"<Id>11</Id>", b"<Id>eleven</Id>")
    with pytest.raises(DecodeError, match="eleven") as info:
        COMPACT.decode(data, MessageConversation)
    assert info.value.field == "Id"


def test_huge_integer_is_a_decode_error_naming_the_field() -> None:
    """Even a number too long for Python's int parser is a DecodeError, not a ValueError."""
    data = body().replace(b"<Id>11</Id>", b"<Id>" + b"9" * 5000 + b"</Id>")
    with pytest.raises(DecodeError) as info:
        COMPACT.decode(data, MessageConversation)
    assert info.value.field == "Id"


@pytest.mark.parametrize("wire", ["Id", "ShopId", "PlatformKindEnumValue"])
def test_missing_required_element_is_named(wire: str) -> None:
    """A body without ``Id`` cannot be matched to a conversation."""
    data = re.sub(rf"<{wire}>[^<]*</{wire}>".encode(), b"", body())
    with pytest.raises(DecodeError, match="is required") as info:
        COMPACT.decode(data, MessageConversation)
    assert info.value.field == wire


def test_nil_required_id_is_named() -> None:
    """``xsi:nil`` on ``Id`` is as missing as no ``Id`` at all."""
    data = body().replace(b"<Id>11</Id>", b'<Id xsi:nil="true" />')
    with pytest.raises(DecodeError, match="is required") as info:
        COMPACT.decode(data, MessageConversation)
    assert info.value.field == "Id"


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"<MessageConversation>", "line 1"),
        (
            b"<MessageConversation>\n  <Id>11</Id>\n  <Note>a</Nope>\n</MessageConversation>",
            "line 3",
        ),
        (b"<a></b>", "line 1"),
        (b"<MessageConversation><Note>&nbsp;</Note></MessageConversation>", "line 1"),
        (b"<MessageConversation><Note>\x01</Note></MessageConversation>", "line 1"),
        (b"not xml", "line 1"),
    ],
)
def test_malformed_xml_gives_a_position(data: bytes, line: str) -> None:
    """Malformed text says where the parser stopped."""
    with pytest.raises(DecodeError, match="malformed XML") as info:
        COMPACT.decode(data, MessageConversation)
    assert info.value.position is not None
    assert info.value.position.startswith(line)


@pytest.mark.parametrize("data", [b"", b"  \r\n\t"])
def test_empty_body_is_a_decode_error(data: bytes) -> None:
    """A 200 with no body is not a conversation."""
    with pytest.raises(DecodeError, match="empty body"):
        COMPACT.decode(data, MessageConversation)


def test_invalid_utf8_is_a_decode_error() -> None:
    """Bytes that are not UTF-8 (and declare no other encoding) are refused."""
    with pytest.raises(DecodeError, match="malformed XML"):
        COMPACT.decode(body("<Note>?</Note>").replace(b"?", b"\xff\xfe"), MessageConversation)


# -- lists -----------------------------------------------------------------------------------


def expected_pretty_list(sample: str, count: int) -> str:
    """The ``ArrayOf`` document XmlSerializer writes, built from the sample's lines."""
    lines = sample.splitlines()[1:17]  # Id ... ChannelId, the basic-info members
    item = (
        "  <MessageConversationBasicInfo>\n"
        + "\n".join("  " + line for line in lines)
        + "\n  </MessageConversationBasicInfo>"
    )
    return (
        f"<ArrayOfMessageConversationBasicInfo {NS}>\n"
        + "\n".join([item] * count)
        + "\n</ArrayOfMessageConversationBasicInfo>"
    )


def test_list_encode_pretty_matches_xml_serializer(seed_samples: dict[str, str]) -> None:
    """A page is an ``ArrayOfMessageConversationBasicInfo`` with items indented once more."""
    info = basic_info_of(COMPACT.decode(seed_samples["response_xml"].encode(), MessageConversation))
    expected = expected_pretty_list(seed_samples["response_xml"], 2)
    assert PRETTY.encode([info, info]).decode() == expected
    assert COMPACT.encode([info, info]).decode() == re.sub(r">\s+<", "><", expected)


def test_list_decode(seed_samples: dict[str, str]) -> None:
    """The list endpoint's XML body decodes to a list of basic infos."""
    data = expected_pretty_list(seed_samples["response_xml"], 3).encode()
    items = COMPACT.decode(data, list[MessageConversationBasicInfo])
    assert len(items) == 3
    assert all(type(i) is MessageConversationBasicInfo for i in items)
    assert items[0].id == 11
    assert str(items[2].finished_date) == "2026-01-11T16:13:16.754306+01:00"


def test_empty_list_round_trips() -> None:
    """An empty page ends the paging loop; it has its own self-closing root."""
    data = COMPACT.encode_empty_list(MessageConversationBasicInfo)
    assert data == f"<ArrayOfMessageConversationBasicInfo {NS} />".encode()
    assert COMPACT.decode(data, list[MessageConversationBasicInfo]) == []


def test_list_requires_the_array_root() -> None:
    """A single conversation where a page belongs is refused."""
    with pytest.raises(DecodeError, match="ArrayOfMessageConversationBasicInfo"):
        COMPACT.decode(
            body(root="MessageConversationBasicInfo"), list[MessageConversationBasicInfo]
        )


def test_list_item_error_names_index_and_field() -> None:
    """A bad item fails the page, saying which item and which field, media type once."""
    good = body(root="MessageConversationBasicInfo").decode()
    bad = good.replace("<Id>11</Id>", "<Id>x</Id>")
    data = f"<ArrayOfMessageConversationBasicInfo>{good}{bad}</ArrayOfMessageConversationBasicInfo>"
    with pytest.raises(DecodeError) as info:
        COMPACT.decode(data.encode(), list[MessageConversationBasicInfo])
    error = info.value
    assert error.field is not None
    assert "1" in error.field
    assert "Id" in error.field
    assert str(error).count("application/xml") == 1


def test_list_encode_refuses_an_item_that_xml_cannot_carry() -> None:
    """One bad item refuses the page, naming the field."""
    good = MessageConversationBasicInfo(id=1, shop_id=1, platform_kind_enum_value=0)
    bad = attrs.evolve(good, channel_id="\ud800")
    with pytest.raises(ValidationError) as info:
        COMPACT.encode([good, bad])
    assert info.value.fields == ("ChannelId",)


# -- escaping --------------------------------------------------------------------------------


def test_text_escaping_matches_xml_writer() -> None:
    """``& < >`` are entities, ``\\r`` is ``&#xD;``, quotes and the rest are raw."""
    encoded = COMPACT.encode(conversation(note="a&b<c>d\re\r\nf\t\"'\u2028\u00e9]]>"))
    expected = "<Note>a&amp;b&lt;c&gt;d&#xD;e&#xD;\nf\t\"'\u2028\u00e9]]&gt;</Note>"
    assert expected.encode() in encoded


@pytest.mark.parametrize("text", ["\r", "\r\n", "a\rb", "\n\r", "  ", "&amp;", "<![CDATA[x]]>"])
def test_tricky_text_round_trips(text: str) -> None:
    """Line-end normalisation and entity look-alikes must not change the text."""
    encoded = COMPACT.encode(conversation(note=text))
    assert COMPACT.decode(encoded, MessageConversation).note == text


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x1f", "\ufffe", "\uffff"])
def test_xml_forbidden_character_is_written_as_a_reference(char: str) -> None:
    """As XmlWriter with ``CheckCharacters = false`` writes it (``&#x1B;``), and read back."""
    encoded = COMPACT.encode(conversation(user_agent=f"a{char}"))
    assert f"<UserAgent>a&#x{ord(char):X};</UserAgent>".encode() in encoded
    assert COMPACT.decode(encoded, MessageConversation).user_agent == f"a{char}"


def test_lone_surrogate_is_a_validation_error() -> None:
    """No UTF-8 body can carry one; the field is named."""
    with pytest.raises(ValidationError, match="surrogate") as info:
        COMPACT.encode(conversation(user_agent="a\udc00"))
    assert info.value.fields == ("UserAgent",)


# -- references to characters XML 1.0 forbids (what CheckCharacters = false writes) ----------

MARK = "\U000f0000"


@pytest.mark.parametrize(
    ("reference", "char"),
    [
        ("&#x0;", "\x00"),
        ("&#x1;", "\x01"),
        ("&#xB;", "\x0b"),
        ("&#xe;", "\x0e"),
        ("&#x1F;", "\x1f"),
        ("&#27;", "\x1b"),
        ("&#xFFFE;", "\ufffe"),
        ("&#xFFFF;", "\uffff"),
        ("&#x0000001;", "\x01"),
    ],
)
def test_forbidden_character_references_are_read(reference: str, char: str) -> None:
    """A Web API server writes a control character as a reference; it reads as itself."""
    data = body(f"<Note>a{reference}b</Note><CustomerName>{reference}</CustomerName>")
    value = COMPACT.decode(data, MessageConversation)
    assert (value.note, value.customer_name) == (f"a{char}b", char)


def test_forbidden_references_read_in_lists_and_error_bodies() -> None:
    """Every reader of text restores them: list items and ``ModelState`` messages too."""
    from shopapi._protocol.errorbody import parse_error_body

    item = "<MessageConversationBasicInfo><Id>1</Id><ShopId>1</ShopId><PlatformKindEnumValue>FlowAi"
    item += "</PlatformKindEnumValue><ChannelId>&#x2;</ChannelId></MessageConversationBasicInfo>"
    data = f"<ArrayOfMessageConversationBasicInfo {NS}>{item}</ArrayOfMessageConversationBasicInfo>"
    (value,) = COMPACT.decode(data.encode(), list[MessageConversationBasicInfo])
    assert value.channel_id == "\x02"
    error = b"<Error><Message>x&#x3;</Message><ModelState><changes.Note>&#x4;</changes.Note>"
    parsed = parse_error_body(error + b"</ModelState></Error>", "application/xml")
    assert parsed is not None
    assert (parsed.message, dict(parsed.model_state)) == ("x\x03", {"changes.Note": ("\x04",)})


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (MARK, MARK),
        (f"{MARK}{MARK}&#x1;{MARK}", f"{MARK}{MARK}\x01{MARK}"),
        ("&#xF0000;&#983040;&#x1;", f"{MARK}{MARK}\x01"),
        (f"{MARK}\U00100001", f"{MARK}\U00100001"),
        (f"<![CDATA[&#x1;{MARK}]]>&#x1;", f"&#x1;{MARK}\x01"),
        ("&amp;#x1;", "&#x1;"),
    ],
)
def test_marker_characters_in_the_document_are_kept(note: str, expected: str) -> None:
    """The reader's internal marker (U+F0000) in a document cannot be mistaken for one,
    and a CDATA section or an escaped ampersand is no reference."""
    assert COMPACT.decode(body(f"<Note>{note}</Note>"), MessageConversation).note == expected


@pytest.mark.parametrize(
    "data",
    [
        body("<Note>a\x01</Note>"),  # a literal control character
        body("<Note>&#xD800;</Note>"),  # a surrogate has no character to become
        body("<Note>&#x110000;</Note>"),  # past Unicode
        body("<Note>&#x000000001;</Note>"),  # more digits than any reference needs
        body("<Id>&#x1;</Id>", required=False),  # still not an integer
    ],
)
def test_the_parser_is_otherwise_as_strict(data: bytes) -> None:
    """Only references to XML-1.0-forbidden characters became readable."""
    with pytest.raises(DecodeError):
        COMPACT.decode(data, MessageConversation)


def test_forbidden_references_in_utf16_and_latin1() -> None:
    """The reference is found whatever the declared encoding."""
    text = '<?xml version="1.0" encoding="utf-16"?>' + body("<Note>caf\u00e9&#x1;</Note>").decode()
    assert COMPACT.decode(text.encode("utf-16"), MessageConversation).note == "caf\u00e9\x01"
    latin = b'<?xml version="1.0" encoding="iso-8859-1"?>' + body("<Note>&#x1;@</Note>")
    latin = latin.replace(b"@", b"\xf3\xb0\x80\x80")
    # In Latin-1 those four bytes are four characters, not the marker.
    assert COMPACT.decode(latin, MessageConversation).note == "\x01\xf3\xb0\x80\x80"


# -- newlines: XmlCodec(newline=...) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("newline", "written"),
    [
        (None, "a&#xD;\nb&#xD;c\nd"),
        ("\r\n", "a\r\nb\r\nc\r\nd"),
        ("\n", "a\nb\nc\nd"),
    ],
)
def test_newline_option_writes_line_ends_as_the_server(newline: str | None, written: str) -> None:
    """``None`` keeps every character; a newline writes each line end as XmlWriter's
    ``NewLineHandling.Replace`` with that ``NewLineChars`` does."""
    codec = XmlCodec(newline=newline)
    value = conversation(note="a\r\nb\rc\nd")
    assert f"<Note>{written}</Note>".encode() in codec.encode(value)
    assert f"<Note>{written}</Note>".encode() in codec.encode([value])
    read = codec.decode(codec.encode(value), MessageConversation).note
    assert read == ("a\r\nb\rc\nd" if newline is None else "a\nb\nc\nd")


def test_newline_option_indents_with_that_newline() -> None:
    """A pretty document from a Windows server breaks its lines with CRLF too."""
    codec = XmlCodec(pretty=True, newline="\r\n")
    text = codec.encode(conversation(note="x\ny")).decode()
    assert "\n" not in text.replace("\r\n", "")
    assert text.replace("\r\n", "\n") == PRETTY.encode(conversation(note="x\ny")).decode()
    assert repr(codec) == "XmlCodec(pretty=True, newline='\\r\\n')"


@pytest.mark.parametrize("newline", ["\r", "crlf", "", 1])
def test_newline_option_refuses_anything_else(newline: Any) -> None:
    """A typo is a ``ConfigurationError``, not silently the default."""
    from shopapi import ConfigurationError

    with pytest.raises(ConfigurationError, match="newline"):
        XmlCodec(newline=newline)


# -- encodings -------------------------------------------------------------------------------


def test_utf8_bom_is_accepted(seed_samples: dict[str, str]) -> None:
    """.NET's UTF-8 encoding writes a BOM by default; the reader must accept it."""
    value = COMPACT.decode(
        b"\xef\xbb\xbf" + seed_samples["response_xml"].encode(), MessageConversation
    )
    assert value.id == 11


def test_declared_encodings_are_honoured() -> None:
    """A UTF-16 body with its declaration (and BOM) reads correctly."""
    text = '<?xml version="1.0" encoding="utf-16"?>' + body("<Note>caf\u00e9</Note>").decode()
    value = COMPACT.decode(text.encode("utf-16"), MessageConversation)
    assert value.note == "caf\u00e9"


def test_output_is_utf8_without_bom() -> None:
    """The client writes plain UTF-8 and declares nothing."""
    encoded = COMPACT.encode(conversation(note="caf\u00e9"))
    assert encoded.startswith(b"<MessageConversation ")
    assert "<Note>caf\u00e9</Note>".encode() in encoded


# -- hostile input ---------------------------------------------------------------------------


ENCODINGS = ["utf-8", "utf-16", "utf-8 after a comment"]


def encode_as(document: str, encoding: str) -> bytes:
    """``document`` as a body in ``encoding``: a pre-scan for ``<!DOCTYPE`` must not be fooled.

    UTF-16 hides the ASCII bytes of ``<!DOCTYPE``; a leading comment moves it.
    """
    if encoding == "utf-16":
        return ('<?xml version="1.0" encoding="utf-16"?>' + document).encode("utf-16")
    if encoding == "utf-8 after a comment":
        return ('<?xml version="1.0"?>\n<!-- generated -->\n' + document).encode()
    return document.encode()


def decode_quickly(data: bytes, codec: XmlCodec = COMPACT) -> DecodeError:
    """Decode hostile ``data``: it must fail with DecodeError in under a second."""
    start = time.perf_counter()
    with pytest.raises(DecodeError) as info:
        codec.decode(data, MessageConversation)
    assert time.perf_counter() - start < 1
    return info.value


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local TCP port that records whether anything connected to it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def assert_no_connection(sock: socket.socket) -> None:
    """The kernel queues completed connections even unaccepted; there must be none."""
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return
    conn.close()
    pytest.fail("the XML decoder connected to the network")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_xxe_file_entity_is_refused(tmp_path: Path, encoding: str) -> None:
    """An external entity must never pull a local file into a field."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    data = encode_as(
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        f"<MessageConversation>{REQUIRED_XML}<Note>&x;</Note></MessageConversation>",
        encoding,
    )
    error = decode_quickly(data)
    assert "TOPSECRET" not in str(error)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_xxe_http_entities_make_no_request(listener: socket.socket, encoding: str) -> None:
    """External entities, parameter entities and DTDs must not reach the network."""
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
    documents = [
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "{url}">]><MessageConversation>{REQUIRED_XML}'
        "<Note>&x;</Note></MessageConversation>",
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{url}"> %p;]><MessageConversation>'
        f"{REQUIRED_XML}</MessageConversation>",
        f'<!DOCTYPE MessageConversation SYSTEM "{url}"><MessageConversation>'
        f"{REQUIRED_XML}</MessageConversation>",
    ]
    for document in documents:
        decode_quickly(encode_as(document, encoding))
    assert_no_connection(listener)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_parameter_entity_with_a_local_file_is_refused(tmp_path: Path, encoding: str) -> None:
    """A parameter entity pointing at a local DTD must not be loaded and used."""
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "TOPSECRET">')
    data = encode_as(
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{dtd.as_uri()}"> %p;]>'
        f"<MessageConversation>{REQUIRED_XML}<Note>&leak;</Note></MessageConversation>",
        encoding,
    )
    error = decode_quickly(data)
    assert "TOPSECRET" not in str(error)


_FIFO_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from shopapi import DecodeError, MessageConversation, XmlCodec
    data = sys.stdin.buffer.read()
    start = time.perf_counter()
    try:
        XmlCodec().decode(data, MessageConversation)
    except DecodeError:
        print("DecodeError", time.perf_counter() - start)
    else:
        print("decoded")
    """
)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_parameter_entity_never_opens_a_local_file(tmp_path: Path, encoding: str) -> None:
    """Reading a body must not open local files: a FIFO (or /dev/zero) would hang it.

    Run in a child process so that a decoder stuck opening the FIFO cannot hang the suite.
    """
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = encode_as(
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{fifo.as_uri()}"> %p;]>'
        f"<MessageConversation>{REQUIRED_XML}</MessageConversation>",
        encoding,
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", _FIFO_SCRIPT],
            input=data,
            capture_output=True,
            timeout=5,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the XML decoder blocked opening a local file named by a parameter entity")
    assert done.returncode == 0, done.stderr.decode()
    verdict, *elapsed = done.stdout.decode().split()
    assert verdict == "DecodeError"
    assert float(elapsed[0]) < 1


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_billion_laughs_is_refused_quickly(encoding: str) -> None:
    """Nested entity expansion must not explode into gigabytes."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    data = encode_as(
        f"<!DOCTYPE lolz [{entities}]>"
        f"<MessageConversation>{REQUIRED_XML}<Note>&lol9;</Note></MessageConversation>",
        encoding,
    )
    decode_quickly(data)


def test_quadratic_blowup_is_refused_quickly() -> None:
    """One big entity referenced many times is the other expansion attack."""
    data = (
        '<!DOCTYPE r [<!ENTITY a "'
        + "x" * 50_000
        + '">]><MessageConversation>'
        + REQUIRED_XML
        + "<Note>"
        + "&a;" * 50_000
        + "</Note></MessageConversation>"
    ).encode()
    decode_quickly(data)


def test_internal_dtd_without_entities_is_refused() -> None:
    """Any DTD is refused: there is no legitimate use for one in an API body."""
    error = decode_quickly(
        f"<!DOCTYPE MessageConversation []><MessageConversation>{REQUIRED_XML}"
        "</MessageConversation>".encode()
    )
    assert "DTD" in str(error)


def test_deep_nesting_is_refused_quickly() -> None:
    """A tree 100 000 levels deep must not exhaust the stack or memory."""
    data = body("<X>" * 100_000 + "</X>" * 100_000)
    decode_quickly(data)


def test_oversized_body_is_refused_before_parsing(seed_samples: dict[str, str]) -> None:
    """``max_size`` caps what the parser is ever handed."""
    data = seed_samples["response_xml"].encode()
    assert XmlCodec(max_size=len(data)).decode(data, MessageConversation).id == 11
    error = decode_quickly(data, XmlCodec(max_size=len(data) - 1))
    assert f"{len(data) - 1}-byte limit" in str(error)


def test_default_size_limit_refuses_huge_bodies() -> None:
    """Even without configuration, a runaway body is refused."""
    data = body("<Note>" + "x" * (17 * 1024 * 1024) + "</Note>")
    error = decode_quickly(data)
    assert "limit" in str(error)


# -- properties ------------------------------------------------------------------------------


@SETTINGS
@given(models("xml"), st.booleans())
def test_any_valid_instance_round_trips(value: Any, pretty: bool) -> None:
    """Encode then decode gives the same value; re-encoding gives the same bytes."""
    codec = XmlCodec(pretty=pretty)
    encoded = codec.encode(value)
    decoded = codec.decode(encoded, type(value))
    assert decoded == value
    assert codec.encode(decoded) == encoded


@SETTINGS
@given(models("xml"))
def test_compact_and_pretty_carry_the_same_value(value: Any) -> None:
    """Either form decodes to the same value with either codec."""
    cls = type(value)
    assert COMPACT.decode(PRETTY.encode(value), cls) == PRETTY.decode(COMPACT.encode(value), cls)


@SETTINGS
@given(st.lists(basic_infos("xml"), min_size=1, max_size=4), st.booleans())
def test_any_page_round_trips(items: list[MessageConversationBasicInfo], pretty: bool) -> None:
    """A page of the list endpoint survives the codec."""
    codec = XmlCodec(pretty=pretty)
    encoded = codec.encode(items)
    assert codec.decode(encoded, list[MessageConversationBasicInfo]) == items


@SETTINGS
@given(unknown_enum_names())
def test_any_unknown_enum_name_round_trips(name: str) -> None:
    """Whatever value the server adds, it comes back as it went."""
    data = body().replace(b">FlowAi<", f">{name}<".encode())
    value = COMPACT.decode(data, MessageConversation)
    assert value.platform_kind_enum_value == name
    assert f"<PlatformKindEnumValue>{name}</PlatformKindEnumValue>".encode() in COMPACT.encode(
        value
    )


@SETTINGS
@given(models("json"))
def test_values_read_from_json_survive_xml_when_xml_can_carry_them(value: Any) -> None:
    """Cross-format: a value round-trips through XML, or is refused naming every culprit."""
    culprits = tuple(e.field for e in field_errors(value, fmt="xml"))
    if culprits:
        with pytest.raises(ValidationError) as info:
            COMPACT.encode(value)
        assert info.value.fields == culprits
    else:
        assert COMPACT.decode(COMPACT.encode(value), type(value)) == value


@FUZZ_SETTINGS
@given(
    st.binary(max_size=512),
    st.sampled_from([MessageConversation, list[MessageConversationBasicInfo]]),
)
def test_arbitrary_bytes_give_a_value_or_decode_error(data: bytes, cls: Any) -> None:
    """No input makes the decoder raise anything but ``DecodeError``."""
    result = decode_outcome(COMPACT, data, cls)
    if isinstance(result, DecodeError):
        assert result.media_type == "application/xml"
    else:
        assert isinstance(result, (list, MessageConversation))


@FUZZ_SETTINGS
@given(st.data())
def test_mutated_samples_give_a_value_or_decode_error(
    seed_samples: dict[str, str], data: st.DataObject
) -> None:
    """Almost-valid bodies reach every field reader; still only a value or DecodeError."""
    sample = data.draw(st.sampled_from(["request_xml", "response_xml"]))
    cls = MessageConversationChanges if sample == "request_xml" else MessageConversation
    result = decode_outcome(COMPACT, data.draw(mutated(seed_samples[sample].encode())), cls)
    if isinstance(result, DecodeError):
        assert result.media_type == "application/xml"
    else:
        assert type(result) is cls


@pytest.mark.parametrize(
    ("wire", "text"),
    [("Id", str(2**63)), ("Id", str(2**31)), ("Rating", str(-(2**31) - 1)), ("Rating", "9" * 60)],
)
def test_integers_outside_int32_are_a_decode_error_naming_the_field(wire: str, text: str) -> None:
    data = body(
        REQUIRED_XML.replace("<Id>11</Id>", "") + f"<{wire}>{text}</{wire}>", required=False
    )
    if wire != "Id":
        data = body(f"<{wire}>{text}</{wire}>")
    with pytest.raises(DecodeError) as info:
        XmlCodec().decode(data, MessageConversation)
    assert info.value.field == wire
    assert "range" in info.value.reason


def test_integers_at_the_int32_bounds_are_read() -> None:
    value = XmlCodec().decode(
        body(f"<Rating>{2**31 - 1}</Rating><CustomerId>{-(2**31)}</CustomerId>"),
        MessageConversation,
    )
    assert (value.rating, value.customer_id) == (2**31 - 1, -(2**31))
