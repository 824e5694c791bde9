"""``JsonCodec``: byte-for-byte what Json.NET writes, and a hardened, lenient reader.

The help page's samples are the golden vectors: a client that reproduces them exactly is
one the server will never misread.
"""

from __future__ import annotations

import codecs
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopapi import (
    DecodeError,
    JsonCodec,
    MessageBasicInfo,
    MessageChanges,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    PlatformKindEnum,
    Timestamp,
    ValidationError,
    XmlCodec,
)
from shopapi._wire.fields import json_order
from shopapi._wire.validation import field_errors
from shopapi.codecs import json as json_codec
from tests.strategies import (
    basic_infos,
    decode_outcome,
    instances,
    models,
    mutated,
    same_outcome,
    unknown_enum_ints,
)

COMPACT = JsonCodec()
PRETTY = JsonCodec(pretty=True)
# The same rules through a converter of its own, which turns the msgspec fast path off:
# every answer takes the orjson reference path.
REFERENCE = JsonCodec(converter=json_codec.make_converter())
BasicInfo = MessageConversationBasicInfo
MINIMAL = b'{"Id":11,"ShopId":16,"PlatformKindEnumValue":0}'
GOLDEN = [
    ("request_json", MessageConversationChanges),
    ("response_json", MessageConversation),
]
CROSS = [
    ("request_xml", "request_json", MessageConversationChanges),
    ("response_xml", "response_json", MessageConversation),
]
SETTINGS = settings(max_examples=250, deadline=None)
FUZZ_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def minimal(**fields: Any) -> bytes:
    """The smallest valid body, with extra JSON members spliced in."""
    value = json.loads(MINIMAL)
    value.update(fields)
    return json.dumps(value).encode()


def conversation(**values: Any) -> MessageConversation:
    """A valid conversation with ``values`` applied."""
    return MessageConversation(
        id=11, shop_id=16, platform_kind_enum_value=PlatformKindEnum.FlowAi, **values
    )


# -- golden vectors ------------------------------------------------------------------------


@pytest.mark.parametrize(("sample", "cls"), GOLDEN)
def test_golden_sample_round_trips_exactly(
    seed_samples: dict[str, str],
    sample: str,
    cls: type[MessageConversation | MessageConversationChanges],
) -> None:
    """Decode the help page's JSON, encode it pretty: the same text, byte for byte."""
    text = seed_samples[sample]
    value = PRETTY.decode(text.encode(), cls)
    assert type(value) is cls
    assert PRETTY.encode(value).decode() == text.rstrip("\n")


@pytest.mark.parametrize(("xml_sample", "json_sample", "cls"), CROSS)
def test_xml_sample_encodes_to_json_sample(
    seed_samples: dict[str, str],
    xml_sample: str,
    json_sample: str,
    cls: type[MessageConversation | MessageConversationChanges],
) -> None:
    """The XML and JSON samples describe one value: read one, write the other."""
    value = XmlCodec().decode(seed_samples[xml_sample].encode(), cls)
    assert PRETTY.encode(value).decode() == seed_samples[json_sample]


def test_golden_sample_values(seed_samples: dict[str, str]) -> None:
    """The sample's values arrive with their types and the seventh tick intact."""
    value = COMPACT.decode(seed_samples["request_json"].encode(), MessageConversationChanges)
    assert value.id == 11
    assert value.shop_id == 16
    assert value.platform_kind_enum_value is PlatformKindEnum.FlowAi
    assert value.external_key == "sample string 1"
    assert isinstance(value.creation_date, Timestamp)
    assert str(value.creation_date) == "2026-01-11T16:13:16.7386644+01:00"
    assert value.creation_date.sub_microsecond_ticks == 4


@pytest.mark.parametrize(("sample", "cls"), GOLDEN)
def test_compact_is_the_default_and_has_no_whitespace(
    seed_samples: dict[str, str],
    sample: str,
    cls: type[MessageConversation | MessageConversationChanges],
) -> None:
    """On the wire the default is compact: the sample with no whitespace between tokens."""
    value = COMPACT.decode(seed_samples[sample].encode(), cls)
    expected = json.dumps(json.loads(seed_samples[sample]), separators=(",", ":"))
    assert JsonCodec().encode(value).decode() == expected
    assert b"\n" not in COMPACT.encode(value)
    assert b'": ' not in COMPACT.encode(value)


def test_order_is_json_net_order() -> None:
    """Derived properties first (``ExternalKey`` ... ``Note``), then the base's."""
    keys = list(json.loads(COMPACT.encode(conversation(note="n"))))
    assert keys == [f.wire for f in json_order(MessageConversation)]
    assert keys[0] == "ExternalKey"
    assert keys[10] == "Id"
    basic = MessageConversationBasicInfo(id=1, shop_id=2, platform_kind_enum_value=0)
    assert next(iter(json.loads(COMPACT.encode(basic)))) == "Id"


def test_enum_is_an_integer() -> None:
    """Json.NET writes enums as their integer."""
    assert b'"PlatformKindEnumValue":0' in COMPACT.encode(conversation())
    named = attrs.evolve(conversation(), platform_kind_enum_value="FlowAi")
    assert b'"PlatformKindEnumValue":0' in COMPACT.encode(named)


def test_none_is_written_as_null() -> None:
    """Every property is written; unset ones as ``null``, as Json.NET does."""
    value = json.loads(COMPACT.encode(conversation()))
    assert len(value) == 26
    assert value["CustomerId"] is None
    assert value["CreationDate"] is None
    assert value["Note"] is None
    assert b'"Note":null' in COMPACT.encode(conversation())


def test_empty_string_is_kept_apart_from_null() -> None:
    """Clearing a field (``""``) and not knowing it (``None``) are different updates."""
    encoded = COMPACT.encode(conversation(note=""))
    assert b'"Note":""' in encoded
    assert COMPACT.decode(encoded, MessageConversation).note == ""


# -- enums the client does not know -------------------------------------------------------


@pytest.mark.parametrize("raw", [1, 7, -1, 2**31 - 1])
def test_unknown_enum_integer_round_trips(raw: int) -> None:
    """A value the server added later is kept as its integer and written back unchanged."""
    value = COMPACT.decode(minimal(PlatformKindEnumValue=raw), MessageConversationBasicInfo)
    assert value.platform_kind_enum_value == raw
    assert type(value.platform_kind_enum_value) is int
    assert f'"PlatformKindEnumValue":{raw}'.encode() in COMPACT.encode(value)


def test_unknown_enum_name_cannot_be_written_as_json() -> None:
    """A name read from XML has no known integer: refuse it rather than guess."""
    value = attrs.evolve(conversation(), platform_kind_enum_value="Brand")
    with pytest.raises(ValidationError, match="JSON integer is unknown") as info:
        COMPACT.encode(value)
    assert info.value.fields == ("PlatformKindEnumValue",)


def test_known_enum_name_is_read_case_insensitively() -> None:
    """Json.NET reads enum names too (case-insensitively), so the client does as well."""
    for name in ("FlowAi", "flowai"):
        value = COMPACT.decode(minimal(PlatformKindEnumValue=name), MessageConversationBasicInfo)
        assert value.platform_kind_enum_value is PlatformKindEnum.FlowAi


def test_unknown_enum_name_in_json_is_a_decode_error() -> None:
    """An unknown name in JSON could not be written back as JSON: refuse it on reading."""
    with pytest.raises(DecodeError, match="Brand") as info:
        COMPACT.decode(minimal(PlatformKindEnumValue="Brand"), MessageConversationBasicInfo)
    assert info.value.field == "PlatformKindEnumValue"


@pytest.mark.parametrize("minutes", [-14 * 60, 14 * 60, 14 * 60 + 1, -15 * 60, 23 * 60 + 59])
def test_encoder_never_writes_a_date_the_decoder_refuses(minutes: int) -> None:
    """What the client sends, it can read back; otherwise it refuses before sending."""
    when = datetime(2026, 1, 11, 16, 13, 16, tzinfo=timezone(timedelta(minutes=minutes)))
    value = conversation(creation_date=when)
    culprits = tuple(e.field for e in field_errors(value, fmt="json"))
    if culprits:
        with pytest.raises(ValidationError) as info:
            COMPACT.encode(value)
        assert info.value.fields == culprits
    else:
        assert COMPACT.decode(COMPACT.encode(value), MessageConversation) == value


# -- lenient reading -------------------------------------------------------------------------


def test_unknown_members_are_ignored() -> None:
    """The server may add fields; an older client must keep working."""
    body = minimal(NewField="x", Nested={"a": [1, {"b": None}]}, List=[1, 2], Number=1.5, Flag=True)
    value = COMPACT.decode(body, MessageConversationBasicInfo)
    assert (value.id, value.shop_id) == (11, 16)


def test_any_member_order_is_accepted(seed_samples: dict[str, str]) -> None:
    """Order carries no meaning on reading."""
    members = list(json.loads(seed_samples["response_json"]).items())
    reordered = json.dumps(dict(reversed(members))).encode()
    expected = COMPACT.decode(seed_samples["response_json"].encode(), MessageConversation)
    assert COMPACT.decode(reordered, MessageConversation) == expected


def test_null_and_missing_both_mean_none() -> None:
    """``null`` and an absent member are the same to the reader."""
    with_nulls = minimal(CustomerId=None, CreationDate=None, CustomerName=None, Note=None)
    for body in (with_nulls, MINIMAL):
        value = COMPACT.decode(body, MessageConversation)
        assert value.customer_id is None
        assert value.creation_date is None
        assert value.customer_name is None
        assert value.note is None


def test_whitespace_around_the_document_is_fine() -> None:
    """Servers and proxies add newlines; that is not malformed JSON."""
    value = COMPACT.decode(b"\r\n  " + MINIMAL + b"\n", MessageConversationBasicInfo)
    assert value.id == 11


# -- strict reading --------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"1", b"null", b"true"])
def test_root_must_be_an_object(body: bytes) -> None:
    """Anything but an object is not a conversation."""
    with pytest.raises(DecodeError, match="expected an object") as info:
        COMPACT.decode(body, MessageConversationBasicInfo)
    assert info.value.media_type == "application/json"


@pytest.mark.parametrize(
    ("wire", "raw"),
    [
        ("Id", "11"),
        ("Id", 1.5),
        ("Id", True),
        ("ShopId", [16]),
        ("CustomerId", "1"),
        ("Rating", False),
        ("Rating", {"value": 1}),
        ("CustomerName", 5),
        ("ChannelId", ["a"]),
        ("CreationDate", 5),
        ("CreationDate", "yesterday"),
        ("LastActivityDate", "2026-01-11T16:13:16.12345678Z"),
        ("PlatformKindEnumValue", True),
        ("PlatformKindEnumValue", 1.0),
        ("PlatformKindEnumValue", None),
    ],
)
def test_wrong_type_names_the_field(wire: str, raw: object) -> None:
    """A member of the wrong type is blamed by its wire name."""
    with pytest.raises(DecodeError) as info:
        COMPACT.decode(minimal(**{wire: raw}), MessageConversationBasicInfo)
    assert info.value.field == wire
    assert wire in str(info.value)


@pytest.mark.parametrize(
    ("wire", "raw"),
    [("Id", "11"), ("Rating", False), ("CustomerName", 5), ("CreationDate", 5), ("Note", [])],
)
def test_wrong_type_in_a_complete_answer_names_the_field(wire: str, raw: object) -> None:
    """A full answer in Json.NET's order (the reader's one-step unpacking) is checked
    member by member all the same."""
    value = json.loads(COMPACT.encode(conversation()))
    assert list(value) == [f.wire for f in json_order(MessageConversation)]
    value[wire] = raw
    with pytest.raises(DecodeError) as info:
        COMPACT.decode(json.dumps(value).encode(), MessageConversation)
    assert info.value.field == wire


@pytest.mark.parametrize(
    "body", [b"{", b'{"Id":11,', b'{"Id":11,,}', b"{'Id':11}", b'{"Id":NaN}', b"\x00"]
)
def test_malformed_json_gives_a_position(body: bytes) -> None:
    """Malformed text says where the parser stopped."""
    with pytest.raises(DecodeError, match="malformed JSON") as info:
        COMPACT.decode(body, MessageConversationBasicInfo)
    assert info.value.position is not None
    assert "line 1" in info.value.position


def test_malformed_json_position_counts_lines() -> None:
    """Pretty bodies span lines; the position must point at the right one."""
    with pytest.raises(DecodeError) as info:
        COMPACT.decode(b'{\n  "Id": 11,\n  "ShopId": }', MessageConversationBasicInfo)
    assert info.value.position is not None
    assert info.value.position.startswith("line 3")


@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n"])
def test_empty_body_is_a_decode_error(body: bytes) -> None:
    """A 200 with no body is not a conversation."""
    with pytest.raises(DecodeError, match="empty body"):
        COMPACT.decode(body, MessageConversationBasicInfo)


@pytest.mark.parametrize("wire", ["Id", "ShopId", "PlatformKindEnumValue"])
def test_missing_required_member_is_named(wire: str) -> None:
    """A body without ``Id`` cannot be matched to a conversation."""
    value = json.loads(MINIMAL)
    del value[wire]
    with pytest.raises(DecodeError, match="is required") as info:
        COMPACT.decode(json.dumps(value).encode(), MessageConversationBasicInfo)
    assert info.value.field == wire


def test_invalid_utf8_is_a_decode_error() -> None:
    """Bytes that are not UTF-8 are refused, not replaced."""
    with pytest.raises(DecodeError, match="malformed JSON"):
        COMPACT.decode(minimal()[:-1] + b',"Note":"\xff\xfe"}', MessageConversation)


def test_deep_nesting_is_refused_quickly() -> None:
    """A hostile body nested 100 000 deep must not exhaust the stack or the CPU."""
    body = b'{"X":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    start = time.perf_counter()
    with pytest.raises(DecodeError, match="malformed JSON"):
        COMPACT.decode(body, MessageConversationBasicInfo)
    assert time.perf_counter() - start < 1


# -- the fast path and the reference path ----------------------------------------------------


@pytest.fixture
def orjson_reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes | str]:
    """Every body the reference path (orjson) is asked to read."""
    seen: list[bytes | str] = []
    loads = orjson.loads

    def spy(data: bytes | str) -> Any:
        seen.append(data)
        return loads(data)

    monkeypatch.setattr(orjson, "loads", spy)
    return seen


def test_the_usual_answer_takes_the_fast_path(
    seed_samples: dict[str, str], orjson_reads: list[bytes | str]
) -> None:
    """Json.NET's own answers, a single one or a page, are read without orjson."""
    body = seed_samples["response_json"].encode()
    value = COMPACT.decode(body, MessageConversation)
    page = COMPACT.decode(b"[" + MINIMAL + b"," + minimal(Id=12) + b"]", list[BasicInfo])
    assert orjson_reads == []
    assert value == REFERENCE.decode(body, MessageConversation)
    assert [item.id for item in page] == [11, 12]


@pytest.mark.parametrize(
    "body",
    [
        minimal(PlatformKindEnumValue="flowai"),  # a name, read case-insensitively
        # A member this client does not know, and a bad value: the keeping fast path
        # declines it too.
        minimal(AddedLater={"x": [1]}, PlatformKindEnumValue="flowai"),
    ],
)
def test_what_the_fast_path_declines_the_reference_path_reads(
    body: bytes, orjson_reads: list[bytes | str]
) -> None:
    """The fast path is stricter than the reader; what it refuses is read all the same."""
    value = COMPACT.decode(body, MessageConversation)
    # The whole body once; a body with unknown members is read again for their text,
    # its known values one by one.
    assert orjson_reads[0] == body
    assert body not in orjson_reads[1:]
    assert value == REFERENCE.decode(body, MessageConversation)
    # The reference codec has a converter, which writes parsed values back to text; the
    # codec keeps the text as it came.
    assert value.unknown.names() == REFERENCE.decode(body, MessageConversation).unknown.names()
    if value.unknown:
        assert [m.raw for m in value.unknown] == ['{"x": [1]}']


def test_a_newer_servers_usual_answer_takes_the_fast_path(
    orjson_reads: list[bytes | str],
) -> None:
    """Members the model does not know are kept without the reference path, one or a page."""
    body = MINIMAL.rstrip()[:-1] + b',"AddedLater":{"x": [1.50]},"Tier":"gold"}'

    value = COMPACT.decode(body, MessageConversation)
    page = COMPACT.decode(b"[" + MINIMAL + b"," + body + b"]", list[BasicInfo])
    # orjson checks each body (it refuses what the reference path would), once.
    assert orjson_reads == [body, b"[" + MINIMAL + b"," + body + b"]"]
    reference = REFERENCE.decode(body, MessageConversation)
    assert value == reference
    assert value.unknown.names() == reference.unknown.names()
    assert [(m.name, m.raw, m.after) for m in value.unknown] == [
        ("AddedLater", '{"x": [1.50]}', "PlatformKindEnumValue"),
        ("Tier", '"gold"', "PlatformKindEnumValue"),
    ]
    assert [item.unknown.names() for item in page] == [(), ("AddedLater", "Tier")]


def test_errors_come_from_the_reference_path(orjson_reads: list[bytes | str]) -> None:
    """A body the fast path refuses gets the reference path's error, naming the field."""
    with pytest.raises(DecodeError) as caught:
        COMPACT.decode(minimal(CustomerId="7"), MessageConversation)
    assert caught.value.field == "CustomerId"
    assert orjson_reads != []


def test_a_custom_converter_is_honoured() -> None:
    """The fast path knows only the default rules; a converter of one's own decides."""
    converter = json_codec.make_converter()
    marker = MessageConversation(id=1, shop_id=1, platform_kind_enum_value=PlatformKindEnum.FlowAi)
    converter.register_structure_hook(MessageConversation, lambda value, _: marker)
    assert JsonCodec(converter=converter).decode(MINIMAL, MessageConversation) is marker


@SETTINGS
@given(
    st.one_of(
        models("json"), instances(MessageBasicInfo, "json"), instances(MessageChanges, "json")
    ),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_both_paths_read_any_answer_alike(value: Any, random: Any, pretty: bool) -> None:
    """Json.NET's order or any other, with nulls dropped or not: the same value, for the
    conversation models and the message models alike."""
    members = list(json.loads(COMPACT.encode(value)).items())
    if random.random() < 0.5:
        random.shuffle(members)
        members = [(k, v) for k, v in members if v is not None or random.random() < 0.5]
    body = json.dumps(dict(members), indent=2 if pretty else None, ensure_ascii=False).encode()
    assert same_outcome(COMPACT, REFERENCE, body, type(value))


@FUZZ_SETTINGS
@given(st.data())
def test_both_paths_agree_on_mutated_answers(
    seed_samples: dict[str, str], data: st.DataObject
) -> None:
    """The same value or the same error, whatever the bytes."""
    sample = data.draw(st.sampled_from(["request_json", "response_json"]))
    body = data.draw(mutated(seed_samples[sample].encode()))
    cls = data.draw(st.sampled_from([MessageConversation, list[MessageConversation]]))
    if cls is not MessageConversation:
        body = b"[" + body + b"]"
    assert same_outcome(COMPACT, REFERENCE, body, cls)


# -- lists -----------------------------------------------------------------------------------


def test_list_decode() -> None:
    """The list endpoint returns a bare array of ``MessageConversationBasicInfo``."""
    body = b"[" + MINIMAL + b"," + minimal(Id=12, PlatformKindEnumValue=5) + b"]"
    items = COMPACT.decode(body, list[MessageConversationBasicInfo])
    assert [i.id for i in items] == [11, 12]
    assert [i.platform_kind_enum_value for i in items] == [PlatformKindEnum.FlowAi, 5]
    assert all(type(i) is MessageConversationBasicInfo for i in items)


def test_empty_list_decodes_to_empty_list() -> None:
    """An empty page ends the paging loop."""
    assert COMPACT.decode(b"[]", list[MessageConversationBasicInfo]) == []


def test_list_requires_an_array() -> None:
    """An object where an array belongs is refused."""
    with pytest.raises(DecodeError, match="expected an array"):
        COMPACT.decode(MINIMAL, list[MessageConversationBasicInfo])


def test_list_item_error_names_index_and_field() -> None:
    """A bad item says which item and which field, and says the media type once."""
    body = b"[" + MINIMAL + b"," + minimal(Id="twelve") + b"]"
    with pytest.raises(DecodeError) as info:
        COMPACT.decode(body, list[MessageConversationBasicInfo])
    error = info.value
    assert error.field is not None
    assert "1" in error.field
    assert "Id" in error.field
    assert str(error).count("application/json") == 1


def test_list_encode_is_a_json_array() -> None:
    """Encoding a page writes an array of objects in Json.NET order."""
    items = [
        MessageConversationBasicInfo(id=i, shop_id=1, platform_kind_enum_value=0) for i in (1, 2)
    ]
    encoded = COMPACT.encode(items)
    assert [item["Id"] for item in json.loads(encoded)] == [1, 2]
    assert COMPACT.decode(encoded, list[MessageConversationBasicInfo]) == items


# -- escaping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("\u2028", b"\\u2028"),
        ("\u2029", b"\\u2029"),
        ("\u0085", b"\\u0085"),
        ('"', b'\\"'),
        ("\\", b"\\\\"),
        ("\n", b"\\n"),
        ("\r", b"\\r"),
        ("\t", b"\\t"),
        ("\x01", b"\\u0001"),
        ("\x1f", b"\\u001f"),
    ],
)
def test_json_net_escapes(text: str, escaped: bytes) -> None:
    """Json.NET escapes these (including three orjson alone would write raw)."""
    encoded = COMPACT.encode(conversation(note=f"a{text}b"))
    assert b'"Note":"a' + escaped + b'b"' in encoded
    assert COMPACT.decode(encoded, MessageConversation).note == f"a{text}b"


@pytest.mark.parametrize("text", ["<>&'", "/", "\u00e9", "\u20ac", "\U0001f600", "\x7f"])
def test_everything_else_is_raw_utf8(text: str) -> None:
    """Json.NET's default writes HTML characters and non-ASCII unescaped, as UTF-8."""
    encoded = COMPACT.encode(conversation(note=text))
    assert b'"Note":"' + text.encode() + b'"' in encoded


def test_lone_surrogate_cannot_be_encoded() -> None:
    """No UTF-8 body can carry it; the field is named."""
    with pytest.raises(ValidationError) as info:
        COMPACT.encode(conversation(customer_name="\ud800"))
    assert info.value.fields == ("CustomerName",)


# -- byte order marks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_bom_is_accepted(bom: bytes, encoding: str) -> None:
    """.NET writers often prepend a BOM; the reader must not choke on it."""
    body = bom + minimal(Note="caf\u00e9").decode().encode(encoding)
    value = COMPACT.decode(body, MessageConversation)
    assert value.note == "caf\u00e9"


@pytest.mark.parametrize(
    "body",
    [
        codecs.BOM_UTF16_BE + b"\x00\x00\x00\x00\x00",  # an odd number of bytes
        codecs.BOM_UTF16_LE + b"{\x00\x00\xd8",  # a lone surrogate
        codecs.BOM_UTF32_LE + b"{\x00\x00",  # not a whole code unit
    ],
)
def test_bad_text_after_a_bom_is_a_decode_error(body: bytes) -> None:
    """A BOM promises an encoding; bytes that break it are a DecodeError like any other
    unreadable body, not a ``UnicodeDecodeError`` (found by the fuzz campaign)."""
    with pytest.raises(DecodeError, match="byte order mark") as caught:
        COMPACT.decode(body, MessageConversation)
    assert caught.value.media_type == "application/json"


def test_output_has_no_bom() -> None:
    """The client writes plain UTF-8, which every server reads."""
    assert COMPACT.encode(conversation()).startswith(b"{")
    assert PRETTY.encode(conversation()).startswith(b"{\n")


# -- properties ------------------------------------------------------------------------------


@SETTINGS
@given(models("json"), st.booleans())
def test_any_valid_instance_round_trips(value: MessageConversationBasicInfo, pretty: bool) -> None:
    """Encode then decode gives the same value; re-encoding gives the same bytes."""
    codec = JsonCodec(pretty=pretty)
    encoded = codec.encode(value)
    decoded = codec.decode(encoded, type(value))
    assert decoded == value
    assert codec.encode(decoded) == encoded
    # A plain ``type`` for json_order's cache: mypy checks ``type[Model]`` against Hashable
    # with the instance ``__hash__`` the frozen attrs model defines, and refuses it.
    model: type = type(value)
    assert list(json.loads(encoded)) == [f.wire for f in json_order(model)]


@SETTINGS
@given(models("json"), st.randoms(use_true_random=False), st.booleans())
def test_any_order_and_any_dropped_null_read_the_same(value: Any, random: Any, extra: bool) -> None:
    """Json.NET's own order is read in one step, any other shape member by member; both
    readings give the same value."""
    members = list(json.loads(COMPACT.encode(value)).items())
    random.shuffle(members)
    kept = [(k, v) for k, v in members if v is not None or random.random() < 0.5]
    if extra:
        kept.insert(random.randrange(len(kept) + 1), ("AddedLater", {"x": [1]}))
    assert COMPACT.decode(json.dumps(dict(kept)).encode(), type(value)) == value


@SETTINGS
@given(models("json"))
def test_compact_and_pretty_carry_the_same_value(value: Any) -> None:
    """Pretty output is only whitespace on top of compact output."""
    assert json.loads(PRETTY.encode(value)) == json.loads(COMPACT.encode(value))


@SETTINGS
@given(st.lists(basic_infos("json"), max_size=5))
def test_any_page_round_trips(items: list[MessageConversationBasicInfo]) -> None:
    """A page of the list endpoint survives the codec."""
    assert COMPACT.decode(COMPACT.encode(items), list[MessageConversationBasicInfo]) == items


@SETTINGS
@given(unknown_enum_ints())
def test_any_unknown_enum_integer_round_trips(raw: int) -> None:
    """Whatever value the server adds, it comes back as it went."""
    body = minimal(PlatformKindEnumValue=raw)
    value = COMPACT.decode(body, MessageConversationBasicInfo)
    assert value.platform_kind_enum_value == raw
    assert json.loads(COMPACT.encode(value))["PlatformKindEnumValue"] == raw


@FUZZ_SETTINGS
@given(st.binary(max_size=512), st.sampled_from([MessageConversation, list[MessageConversation]]))
def test_arbitrary_bytes_give_a_value_or_decode_error(data: bytes, cls: Any) -> None:
    """No input makes the decoder raise anything but ``DecodeError``."""
    result = decode_outcome(COMPACT, data, cls)
    if isinstance(result, DecodeError):
        assert result.media_type == "application/json"
    else:
        assert isinstance(result, (list, MessageConversation))


@FUZZ_SETTINGS
@given(st.data())
def test_mutated_samples_give_a_value_or_decode_error(
    seed_samples: dict[str, str], data: st.DataObject
) -> None:
    """Almost-valid bodies reach every field reader; still only a value or DecodeError."""
    sample = data.draw(st.sampled_from(["request_json", "response_json"]))
    body = data.draw(mutated(seed_samples[sample].encode()))
    result = decode_outcome(COMPACT, body, MessageConversation)
    if isinstance(result, DecodeError):
        assert result.media_type == "application/json"
    else:
        assert type(result) is MessageConversation


@pytest.mark.parametrize("codec", [COMPACT, REFERENCE], ids=["fast", "reference"])
@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ("Rating", 2**63),
        ("Rating", 2**31),
        ("Rating", -(2**31) - 1),
        ("Id", 2**40),
        ("CustomerId", -(2**63)),
        ("PlatformKindEnumValue", 2**40),
        ("PlatformKindEnumValue", 2**31),
    ],
)
def test_integers_outside_int32_are_a_decode_error_naming_the_field(
    codec: JsonCodec, wire: str, value: int
) -> None:
    """The server's integers and enums are .NET ints: anything wider is refused on read,
    not accepted and then refused by ``update()`` on the way back."""
    data = orjson.loads(MINIMAL)
    data[wire] = value
    with pytest.raises(DecodeError) as info:
        codec.decode(orjson.dumps(data), MessageConversation)
    assert info.value.field == wire
    assert "32-bit" in info.value.reason
    with pytest.raises(DecodeError) as in_list:
        codec.decode(orjson.dumps([orjson.loads(MINIMAL), data]), list[BasicInfo])
    assert in_list.value.field == f"[1].{wire}"


@pytest.mark.parametrize("codec", [COMPACT, REFERENCE], ids=["fast", "reference"])
def test_integers_at_the_int32_bounds_are_read(codec: JsonCodec) -> None:
    data = orjson.loads(MINIMAL)
    data.update(Rating=2**31 - 1, CustomerId=-(2**31), PlatformKindEnumValue=2**31 - 1)
    value = codec.decode(orjson.dumps(data), MessageConversation)
    assert (value.rating, value.customer_id) == (2**31 - 1, -(2**31))
    assert value.platform_kind_enum_value == 2**31 - 1


def test_message_integers_outside_int32_are_refused() -> None:
    data = {
        "Id": 1,
        "MessageConversationId": 2**32,
        "MessageSenderEnumValue": 0,
        "IsRead": True,
        "TypeEnumValue": 0,
    }
    for codec in (COMPACT, REFERENCE):
        with pytest.raises(DecodeError) as info:
            codec.decode(orjson.dumps(data), MessageBasicInfo)
        assert info.value.field == "MessageConversationId"
