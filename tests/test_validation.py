"""Validation: refuse before sending, and name every offending field at once.

A bulk job over thousands of conversations wants one clear error per bad record, with
the field names as the API docs spell them, not a 400 after a round trip.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopapi import (
    FieldError,
    JsonCodec,
    MessageChanges,
    MessageConversation,
    MessageConversationChanges,
    PlatformKindEnum,
    ShopApiError,
    Timestamp,
    ValidationError,
    XmlCodec,
    validate,
)
from shopapi._wire.fields import Kind, WireField, wire_fields
from shopapi._wire.validation import field_errors, is_valid, utf16_length
from tests.strategies import MODELS, instances_with_errors, models

INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
BOUNDED = [f for f in wire_fields(MessageConversationChanges) if f.max_length is not None]
EMOJI = "\U0001f600"


def changes(**values: Any) -> MessageConversationChanges:
    """A valid update body, with ``values`` applied."""
    base = MessageConversationChanges(
        id=11,
        shop_id=16,
        platform_kind_enum_value=PlatformKindEnum.FlowAi,
        creation_date=Timestamp.parse("2026-01-11T16:13:16.7386644+01:00"),
        customer_name="Ann",
        note="note",
    )
    return attrs.evolve(base, **values)


def fields_of(obj: object, fmt: Any = None) -> tuple[str, ...]:
    """The wire names ``validate`` blames, or ``()`` when it accepts ``obj``."""
    try:
        validate(obj, fmt=fmt)
    except ValidationError as exc:
        return exc.fields
    return ()


@pytest.mark.parametrize("fmt", [None, "json", "xml"])
def test_valid_instance_passes(fmt: Any) -> None:
    """A well-formed update is never refused."""
    assert fields_of(changes(), fmt) == ()
    assert field_errors(changes(), fmt=fmt) == []


@pytest.mark.parametrize("name", ["id", "shop_id", "platform_kind_enum_value"])
def test_required_fields(name: str) -> None:
    """``Id``, ``ShopId`` and ``PlatformKindEnumValue`` are required by the API."""
    with pytest.raises(ValidationError, match="is required") as info:
        validate(changes(**{name: None}))
    assert info.value.fields == tuple(
        f.wire for f in wire_fields(MessageConversationChanges) if f.name == name
    )


def test_none_is_fine_everywhere_else() -> None:
    """Every field the API does not require may be left unset."""
    unset = {f.name: None for f in wire_fields(MessageConversationChanges) if not f.required}
    assert fields_of(changes(**unset), "xml") == ()
    assert fields_of(changes(**unset), "json") == ()


@pytest.mark.parametrize("f", BOUNDED, ids=lambda f: f.wire)
def test_max_length(f: Any) -> None:
    """Exactly the documented maximum passes; one more character is refused."""
    assert fields_of(changes(**{f.name: "x" * f.max_length})) == ()
    with pytest.raises(ValidationError, match=f"maximum is {f.max_length}") as info:
        validate(changes(**{f.name: "x" * (f.max_length + 1)}))
    assert info.value.fields == (f.wire,)


def test_max_length_counts_utf16_code_units() -> None:
    """.NET counts UTF-16 units: an emoji is 2, so 25 of them fill a 50-unit field."""
    assert fields_of(changes(customer_email=EMOJI * 25)) == ()
    assert len(EMOJI * 25 + "a") == 26  # far below 50 in code points ...
    assert fields_of(changes(customer_email=EMOJI * 25 + "a")) == ("CustomerEmail",)
    assert fields_of(changes(customer_email="\u00e9" * 50)) == ()  # BMP: one unit each
    assert utf16_length(EMOJI) == 2
    assert utf16_length("a\u00e9\u20ac") == 3
    assert utf16_length("\ud800x") == 2  # a lone surrogate is one unit, as in .NET


@given(st.text(alphabet=st.characters(codec=None)))
def test_utf16_length_counts_astral_code_points_twice(text: str) -> None:
    """Each code point is one unit, or two past U+FFFF (a surrogate pair)."""
    assert utf16_length(text) == sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def test_unbounded_strings_accept_long_text() -> None:
    """``Url`` and ``Note`` are documented as 2147483647 long: effectively unbounded."""
    assert fields_of(changes(url="u" * 100_000, note="n" * 100_000)) == ()


@pytest.mark.parametrize("name", ["id", "shop_id", "customer_id", "rating", "ticket_code"])
def test_int32_range(name: str) -> None:
    """.NET ``int`` is 32-bit; a Python int beyond it would overflow on the server."""
    assert fields_of(changes(**{name: INT32_MAX})) == ()
    assert fields_of(changes(**{name: INT32_MIN})) == ()
    wire = next(f.wire for f in wire_fields(MessageConversationChanges) if f.name == name)
    for bad in (INT32_MAX + 1, INT32_MIN - 1, 2**64):
        with pytest.raises(ValidationError, match="32-bit") as info:
            validate(changes(**{name: bad}))
        assert info.value.fields == (wire,)


def test_enum_int32_range() -> None:
    """An unknown enum value must still fit a .NET enum's 32-bit base."""
    assert fields_of(changes(platform_kind_enum_value=2**31), "json") == ("PlatformKindEnumValue",)


@pytest.mark.parametrize(
    ("name", "value"),
    [("id", True), ("customer_id", False), ("rating", True), ("platform_kind_enum_value", True)],
)
def test_bool_is_not_an_int(name: str, value: bool) -> None:
    """``True`` is an int to Python but would be written ``true``: refuse it."""
    with pytest.raises(ValidationError) as info:
        validate(changes(**{name: value}))
    wire = next(f.wire for f in wire_fields(MessageConversationChanges) if f.name == name)
    assert info.value.fields == (wire,)
    assert "bool" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "wire"),
    [
        ("customer_name", 5, "CustomerName"),
        ("note", b"bytes", "Note"),
        ("rating", "5", "Rating"),
        ("customer_id", 1.0, "CustomerId"),
        ("creation_date", "2026-01-11T16:13:16", "CreationDate"),
        ("finished_date", 0, "FinishedDate"),
        ("platform_kind_enum_value", 0.0, "PlatformKindEnumValue"),
        ("platform_kind_enum_value", None, "PlatformKindEnumValue"),
    ],
)
def test_wrong_types(name: str, value: object, wire: str) -> None:
    """A value of the wrong type is named, not sent as something else."""
    with pytest.raises(ValidationError, match=wire) as info:
        validate(changes(**{name: value}))
    assert info.value.fields == (wire,)


def test_offset_must_be_whole_minutes() -> None:
    """.NET cannot carry a seconds offset; it would be silently rounded."""
    odd = datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=90)))
    assert fields_of(changes(last_activity_date=odd)) == ("LastActivityDate",)
    assert fields_of(changes(last_activity_date=datetime(2026, 1, 1, tzinfo=UTC))) == ()


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff"]
)
def test_xml_forbidden_characters_are_valid_in_every_format(char: str) -> None:
    """XML carries them as character references (``&#x1;``), which ASP.NET's XML
    formatter reads back, so no format refuses them."""
    value = changes(note=f"a{char}b")
    assert fields_of(value) == ()
    assert fields_of(value, "json") == ()
    assert fields_of(value, "xml") == ()


def test_xml_legal_control_characters_pass() -> None:
    """Tab, newline and carriage return are legal XML text."""
    assert fields_of(changes(note="a\tb\nc\r\nd"), "xml") == ()


def test_lone_surrogate_refused_in_every_format() -> None:
    """No UTF-8 body can carry a lone surrogate."""
    for fmt in (None, "json", "xml"):
        assert fields_of(changes(customer_name="a\ud800"), fmt) == ("CustomerName",)


def test_unknown_enum_int_is_json_only() -> None:
    """An integer the client has no name for can be written as JSON, not as XML."""
    value = changes(platform_kind_enum_value=7)
    assert fields_of(value) == ()
    assert fields_of(value, "json") == ()
    with pytest.raises(ValidationError, match="XML name is unknown") as info:
        validate(value, fmt="xml")
    assert info.value.fields == ("PlatformKindEnumValue",)


def test_unknown_enum_name_is_xml_only() -> None:
    """A name the client has no integer for can be written as XML, not as JSON."""
    value = changes(platform_kind_enum_value="Brand")
    assert fields_of(value) == ()
    assert fields_of(value, "xml") == ()
    with pytest.raises(ValidationError, match="JSON integer is unknown") as info:
        validate(value, fmt="json")
    assert info.value.fields == ("PlatformKindEnumValue",)


def test_known_enum_forms_are_valid_everywhere() -> None:
    """The member, its integer and its name are all writable in both formats."""
    for value in (PlatformKindEnum.FlowAi, 0, "FlowAi"):
        for fmt in ("json", "xml"):
            assert fields_of(changes(platform_kind_enum_value=value), fmt) == (), (value, fmt)


def test_every_offending_field_is_named_in_one_error() -> None:
    """One error lists every problem, by wire name, in wire order."""
    bad = changes(
        id=None,
        shop_id=2**40,
        customer_id=True,
        customer_name="n" * 51,
        creation_date="today",
        platform_kind_enum_value=9,
        channel_id="c" * 256,
        customer_email=EMOJI * 26,
        note="\ud800",
    )
    with pytest.raises(ValidationError) as info:
        validate(bad, fmt="xml")
    error = info.value
    expected = (
        "Id",
        "CreationDate",
        "CustomerId",
        "CustomerName",
        "ShopId",
        "PlatformKindEnumValue",
        "ChannelId",
        "CustomerEmail",
        "Note",
    )
    assert error.fields == expected
    assert [e.field for e in error.errors] == list(expected)
    assert all(isinstance(e, FieldError) and e.message for e in error.errors)
    for wire in expected:
        assert wire in str(error)
    assert "MessageConversationChanges" in str(error)
    assert error.type_name == "MessageConversationChanges"
    assert isinstance(error, ShopApiError)


def test_field_errors_lists_without_raising() -> None:
    """``field_errors`` is the non-raising form, for reporting over a whole batch."""
    errors = field_errors(changes(rating="x", realm="r" * 51))
    assert errors == [
        FieldError("Rating", "must be an int, not str"),
        FieldError("Realm", "is 51 characters long; the maximum is 50"),
    ]
    assert str(errors[0]) == "Rating: must be an int, not str"


def test_validation_works_on_full_conversations() -> None:
    """The read side type is checked by the same rules."""
    value = MessageConversation(id=1, shop_id=2, platform_kind_enum_value=0, host_name="h" * 51)
    assert fields_of(value) == ("HostName",)


@settings(max_examples=200, deadline=None)
@given(models("xml"))
def test_generated_xml_instances_are_valid(value: Any) -> None:
    """The strategies the codec tests rely on only produce valid instances."""
    assert field_errors(value, fmt="xml") == []


@settings(max_examples=200, deadline=None)
@given(models("json"))
def test_generated_json_instances_are_valid(value: Any) -> None:
    """Same for JSON (which allows control characters and unknown enum integers)."""
    assert field_errors(value, fmt="json") == []
    for f in wire_fields(type(value)):
        if f.kind is Kind.STR and getattr(value, f.name) is not None:
            assert utf16_length(getattr(value, f.name)) <= (f.max_length or 2**31 - 1)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MODELS).flatmap(instances_with_errors))
def test_exactly_the_broken_fields_are_named(case: tuple[Any, tuple[str, ...]]) -> None:
    """Whatever mix of fields is broken, the error names those and no others, in order."""
    value, broken = case
    assert tuple(e.field for e in field_errors(value)) == broken
    assert fields_of(value) == broken


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MODELS).flatmap(instances_with_errors))
def test_fast_check_agrees_with_field_errors(case: tuple[Any, tuple[str, ...]]) -> None:
    """The generated fast path the session uses must accept exactly what validation does."""
    value, broken = case
    assert is_valid(value) is (not broken)


@pytest.mark.parametrize("field", BOUNDED, ids=lambda f: f.wire)
@pytest.mark.parametrize("extra", [0, 1])
def test_fast_check_counts_utf16_units_at_the_limit(field: WireField, extra: int) -> None:
    """Half the limit in emoji fills it exactly; one more passes the limit only in UTF-16
    units. The fast path must see that as validation does."""
    assert field.max_length is not None
    value = changes(**{field.name: EMOJI * (field.max_length // 2 + extra)})
    assert fields_of(value) == ((field.wire,) if extra else ())
    assert is_valid(value) is (not extra)


@pytest.mark.parametrize("minutes", [14 * 60 + 1, 15 * 60, 23 * 60 + 59, -14 * 60 - 1])
def test_offset_beyond_fourteen_hours_is_refused(minutes: int) -> None:
    """.NET offsets stop at +/-14:00, and the client's own reader refuses more: refuse it."""
    far = datetime(2026, 1, 1, tzinfo=timezone(timedelta(minutes=minutes)))
    assert fields_of(changes(last_activity_date=far)) == ("LastActivityDate",)
    assert not is_valid(changes(last_activity_date=far))


@pytest.mark.parametrize("minutes", [14 * 60, -14 * 60])
def test_offset_of_fourteen_hours_is_fine(minutes: int) -> None:
    """The extremes themselves (Kiribati, Baker Island) are real .NET offsets."""
    edge = datetime(2026, 1, 1, tzinfo=timezone(timedelta(minutes=minutes)))
    assert fields_of(changes(last_activity_date=edge)) == ()


def test_an_aware_datetime_is_accepted_as_it_is_and_sent_with_its_offset() -> None:
    """Model fields take any aware ``datetime`` (typed so: mypy checks this call)."""
    cet = timezone(timedelta(hours=1))
    body = MessageConversationChanges(
        id=11,
        shop_id=16,
        platform_kind_enum_value=PlatformKindEnum.FlowAi,
        last_activity_date=datetime(2026, 1, 1, 12, 30, tzinfo=cet),
        finished_date=datetime(2026, 1, 2, tzinfo=UTC),
    )
    assert is_valid(body)
    assert field_errors(body) == []
    data = orjson.loads(JsonCodec().encode(body))
    assert data["LastActivityDate"] == "2026-01-01T12:30:00+01:00"
    assert data["FinishedDate"] == "2026-01-02T00:00:00Z"
    assert b"<LastActivityDate>2026-01-01T12:30:00+01:00</LastActivityDate>" in XmlCodec().encode(
        body
    )


@pytest.mark.parametrize("field", ["creation_date", "last_activity_date", "finished_date"])
def test_a_naive_datetime_is_refused_with_the_way_to_send_one_on_purpose(field: str) -> None:
    """A naive ``datetime`` would reach the server with no offset and be read as the
    server's local time; the error says how to send an unspecified time on purpose."""
    body = changes(**{field: datetime(2026, 1, 1, 12)})
    assert not is_valid(body)
    [error] = field_errors(body)
    assert error.field == {"creation_date": "CreationDate"}.get(
        field, "LastActivityDate" if field == "last_activity_date" else "FinishedDate"
    )
    assert "naive" in error.message
    assert "Timestamp.from_datetime" in error.message
    with pytest.raises(ValidationError):
        validate(body)


def test_a_naive_timestamp_is_an_unspecified_time_on_purpose() -> None:
    """A ``Timestamp`` without tzinfo is .NET's ``DateTimeKind.Unspecified``: read from
    the wire (no suffix) or wrapped by the caller, it is kept and sent without offset."""
    read = Timestamp.parse("2026-01-01T12:00:00")
    wrapped = Timestamp.from_datetime(datetime(2026, 1, 1, 12))
    for value in (read, wrapped):
        body = changes(last_activity_date=value)
        assert is_valid(body)
        assert field_errors(body) == []
        assert orjson.loads(JsonCodec().encode(body))["LastActivityDate"] == "2026-01-01T12:00:00"


def test_naive_message_dates_are_refused_too() -> None:
    message = MessageChanges(
        id=0,
        message_conversation_id=5,
        message_sender_enum_value=2,
        is_read=False,
        type_enum_value=0,
        reply_date_utc=datetime(2026, 1, 1),
    )
    assert not is_valid(message)
    assert [e.field for e in field_errors(message)] == ["ReplyDateUtc"]


class _RaisingZone(tzinfo):
    """A user's time zone whose ``utcoffset`` raises (a bug in their code)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=1 // 0)

    def tzname(self, dt: datetime | None) -> str:
        return "BROKEN"

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


class _NoneZone(tzinfo):
    """A tzinfo whose ``utcoffset`` is ``None``: Python calls such a datetime naive."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "BROKEN"

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


def test_a_tzinfo_that_raises_is_a_validation_error_not_its_exception() -> None:
    body = changes(finished_date=datetime(2026, 1, 1, tzinfo=_RaisingZone()))
    assert not is_valid(body)
    [error] = field_errors(body)
    assert error.field == "FinishedDate"
    assert "ZeroDivisionError" in error.message
    for codec in (JsonCodec(), XmlCodec()):
        with pytest.raises(ValidationError) as info:
            codec.encode(body)
        assert info.value.fields == ("FinishedDate",)


def test_a_tzinfo_without_an_offset_counts_as_naive() -> None:
    body = changes(finished_date=datetime(2026, 1, 1, tzinfo=_NoneZone()))
    assert not is_valid(body)
    assert "naive" in field_errors(body)[0].message
