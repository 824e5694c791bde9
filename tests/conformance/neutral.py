"""The serializer tool's neutral form, on the Python side: draw it, and compare with it.

A neutral value names each property by its wire name (see ``conformance/Wire.cs``): a
string is base64 of its UTF-8, an int or bool is itself, a date is ``{"ticks", "kind"}``
(.NET ``DateTime``), an enum is its integer, a decimal its invariant text, a nested model
its own neutral object, a list an array. .NET builds the object from it, so what .NET
writes is drawn here independently of any codec under test.

Each per-kind step is a table keyed by kind (:data:`NEUTRAL_STRATEGIES`,
:data:`DECODED_CHECKS`, :data:`READ_CHECKS`); a test checks that every kind has a row.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from conformance.codegen import enum_members
from conformance.harness import DOTNET_TZ, b64, unb64
from shopapi import JsonCodec, XmlCodec
from shopapi._wire.decimals import MAX_COEFFICIENT, MAX_SCALE, decimal_json_text, decimal_text
from shopapi._wire.fields import Kind, WireField, json_order
from shopapi._wire.timestamps import Timestamp
from shopapi._wire.validation import XML_ILLEGAL

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
TICKS_PER_SECOND: Final = 10_000_000
#: ``DateTime.MaxValue.Ticks``.
MAX_TICKS: Final = 3_155_378_975_999_999_999
KINDS: Final = ("Utc", "Local", "Unspecified")
_EPOCH: Final = datetime(1, 1, 1)
#: The .NET processes' zone: where "local" dates live.
SERVER_ZONE: Final = ZoneInfo(DOTNET_TZ)

# Every class of character the wire formats treat specially: controls (XML 1.0 forbids
# most), U+0085 and U+2028/9 (Json.NET escapes them), markup and quotes, CR/LF/CRLF,
# astral characters (two UTF-16 units), U+FFFE/U+FFFF and the reader's marker U+F0000.
HOSTILE: Final = (
    "\x00\x01\x08\x0b\x0c\x0e\x1b\x1f\x7f\x80\x9f\u0085\u2028\u2029\ufeff\ufffe\uffff"
    "&<>\"'\\/]]>\t\r\n \u00a0\u00e9\u20ac\U0001f600\U00010000\U0010fffd\U000f0000"
)
_CHARS = st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(HOSTILE))


def hostile_texts(max_size: int = 40) -> st.SearchStrategy[str]:
    """Hostile strings: every character class, edge spaces, line ends, the empty string."""
    return st.one_of(
        st.text(_CHARS, max_size=max_size),
        st.sampled_from(["", " ", " a ", "\r", "\n", "\r\n", "\n\r", "a\r\nb\rc\nd", "  \t"]),
        st.lists(st.sampled_from(["a", "\r", "\n", "\r\n", " ", "\x01"]), max_size=8).map("".join),
    )


def int32s() -> st.SearchStrategy[int]:
    """int32 values, the extremes drawn often."""
    return st.one_of(
        st.sampled_from([INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX]),
        st.integers(INT32_MIN, INT32_MAX),
    )


def ticks_of(wall: datetime) -> int:
    """``DateTime.Ticks`` of a naive wall-clock time."""
    delta = wall - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


@st.composite
def dst_edges(draw: st.DrawFn) -> int:
    """A wall-clock time in the hour the server's clocks skip (March) or repeat (October)."""
    year = draw(st.integers(1981, 2037))
    month = draw(st.sampled_from([3, 10]))
    last_sunday = max(week[calendar.SUNDAY] for week in calendar.monthcalendar(year, month))
    wall = datetime(year, month, last_sunday, 2) + timedelta(seconds=draw(st.integers(0, 3599)))
    return ticks_of(wall) + draw(st.integers(0, TICKS_PER_SECOND - 1))


def in_dst_gap(ticks: int) -> bool:
    """Whether a local wall-clock time does not exist in the server's zone (spring forward)."""
    wall = _EPOCH + timedelta(microseconds=ticks // 10)
    if not datetime(1900, 1, 1) < wall < datetime(9999, 1, 1):
        return False  # no daylight saving time then (and no room to convert)
    back = wall.replace(tzinfo=SERVER_ZONE).astimezone(UTC).astimezone(SERVER_ZONE)
    return back.replace(tzinfo=None) != wall


@st.composite
def tick_counts(draw: st.DrawFn) -> int:
    """``DateTime`` ticks: ``MinValue``, ``MaxValue``, daylight-saving edges, and 0 to 7
    fractional digits."""
    edge: int | None = draw(st.sampled_from([None, 0, MAX_TICKS, -1, None, None]))
    if edge == -1:
        ticks: int = draw(dst_edges())
        return ticks
    if edge is not None:
        return edge
    seconds: int = draw(st.integers(0, MAX_TICKS // TICKS_PER_SECOND))
    digits = draw(st.integers(0, 7))
    fraction: int = draw(st.integers(0, 10**digits - 1)) * 10 ** (7 - digits)
    return seconds * TICKS_PER_SECOND + fraction


def neutral_dates() -> st.SearchStrategy[dict[str, Any]]:
    """A .NET ``DateTime`` of any kind."""
    return st.fixed_dictionaries({"ticks": tick_counts(), "kind": st.sampled_from(KINDS)})


def enum_ints(enum_cls: type[enum.IntEnum]) -> st.SearchStrategy[int]:
    """The server's members, and integers no member has (JSON carries them, XML cannot)."""
    return st.one_of(st.sampled_from(sorted(enum_members(enum_cls))), int32s())


def coded_ints(enum_cls: type[enum.IntEnum]) -> st.SearchStrategy[int]:
    """The values the pages name, and any other int32 (the server may send one)."""
    return st.one_of(st.sampled_from([int(m) for m in enum_cls]), int32s())


@st.composite
def neutral_decimals(draw: st.DrawFn) -> str:
    """A .NET decimal's invariant text: any scale to 28, any coefficient to 96 bits, and
    negative zeros (which .NET writes without the sign)."""
    coefficient = draw(
        st.one_of(
            st.sampled_from([0, 1, 5, 10, MAX_COEFFICIENT]),
            st.integers(0, 10**6),
            st.integers(0, MAX_COEFFICIENT),
        )
    )
    scale = draw(st.one_of(st.sampled_from([0, 1, 2, MAX_SCALE]), st.integers(0, MAX_SCALE)))
    sign = draw(st.sampled_from(["", "-"]))
    return format(Decimal(f"{sign}{coefficient}E-{scale}"), "f")


def _nullable(f: WireField, value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A required field is always set (a valid body has it), nullable or not.
    return st.one_of(st.none(), value) if f.nullable and not f.required else value


def _neutral_list(f: WireField) -> st.SearchStrategy[Any]:
    assert f.item is not None
    return st.lists(neutral_field(f.item), max_size=4)


#: Kind -> the neutral values of a field of that kind (``None`` drawn where nullable).
NEUTRAL_STRATEGIES: Final[Mapping[Kind, Callable[[WireField], st.SearchStrategy[Any]]]] = {
    Kind.STR: lambda f: _nullable(f, hostile_texts(80 if f.max_length is None else 40).map(b64)),
    Kind.INT: lambda f: _nullable(f, int32s()),
    Kind.CODED: lambda f: _nullable(f, coded_ints(f.enum)),  # type: ignore[arg-type]
    Kind.BOOL: lambda f: _nullable(f, st.booleans()),
    Kind.TIMESTAMP: lambda f: _nullable(f, neutral_dates()),
    Kind.DECIMAL: lambda f: _nullable(f, neutral_decimals()),
    Kind.ENUM: lambda f: enum_ints(f.enum),  # type: ignore[arg-type]
    Kind.MODEL: lambda f: _nullable(f, st.deferred(lambda: neutral_values(f.model))),  # type: ignore[arg-type]
    Kind.LIST: lambda f: _nullable(f, _neutral_list(f)),
}


def neutral_field(f: WireField) -> st.SearchStrategy[Any]:
    """Any value of a field (or of a list's member) as .NET can hold it."""
    return NEUTRAL_STRATEGIES[f.kind](f)


def neutral_values(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    """Any value of ``cls`` as .NET can hold it, in the neutral form."""
    return st.fixed_dictionaries({f.wire: neutral_field(f) for f in json_order(cls)})


# -- comparing ------------------------------------------------------------------------------


def newlines_normalised(text: str) -> str:
    """What any XML reader makes of a text's line ends (XML 1.0, 2.11)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def wall_ticks(value: datetime) -> int:
    """The ticks of a date's wall-clock time (``DateTime.Ticks``)."""
    if isinstance(value, Timestamp):
        return value.ticks
    delta = value.replace(tzinfo=None) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


def utc_ticks(value: datetime) -> int:
    """The ticks of a date's instant in UTC (its offset taken off)."""
    offset = value.utcoffset()
    assert offset is not None
    return wall_ticks(value) - int(offset.total_seconds()) * TICKS_PER_SECOND


def kind_of(value: datetime) -> str:
    """The ``DateTimeKind`` a date's text stands for: ``Z``, an offset, or nothing."""
    if value.tzinfo is None:
        return "Unspecified"
    return "Utc" if value.tzinfo is UTC else "Local"


def _gap(date: Any) -> bool:
    return date is not None and date["kind"] == "Local" and in_dst_gap(date["ticks"])


def _holds_gap(f: WireField, value: Any) -> bool:
    """Whether a field's neutral value holds a skipped local time at any depth."""
    if value is None:
        return False
    if f.kind is Kind.TIMESTAMP:
        return _gap(value)
    if f.kind is Kind.MODEL:
        assert f.model is not None
        return bool(dst_gap_wires(value, f.model))
    if f.kind is Kind.LIST:
        assert f.item is not None
        return any(_holds_gap(f.item, x) for x in value)
    return False


def dst_gap_wires(neutral: dict[str, Any], cls: type) -> set[str]:
    """The fields of a neutral value that hold a local date in the hour the server's clocks
    skip: a date, or a nested model or list that holds one at any depth."""
    return {f.wire for f in json_order(cls) if _holds_gap(f, neutral[f.wire])}


def assert_converted_alike(
    ours: bytes, dotnet: bytes, codec: JsonCodec | XmlCodec, neutral: dict[str, Any], cls: type
) -> None:
    """shopapi's conversion of ``neutral``'s body is .NET's (``dotnet``), byte for byte, but
    where .NET normalised a local time in the skipped hour (finding 3), or (XML to JSON)
    made an empty list of a null one, at any depth (a date in a nested model or list too).

    XmlSerializer writes nothing for a null list and reads nothing as an empty list, so
    .NET's own XML to JSON turns ``null`` into ``[]``; shopapi reads nothing as ``None``,
    which keeps an XML body it reads and writes back unchanged.
    """
    to_json = isinstance(codec, JsonCodec)
    if not dst_gap_wires(neutral, cls) and (not to_json or ours == dotnet):
        assert ours == dotnet
        return
    _alike(codec.decode(ours, cls), codec.decode(dotnet, cls), neutral, cls, to_json, cls.__name__)


def _alike(mine: Any, theirs: Any, neutral: Any, cls: type, to_json: bool, where: str) -> None:
    for f in json_order(cls):
        _field_alike(
            f,
            getattr(mine, f.name),
            getattr(theirs, f.name),
            neutral[f.wire],
            to_json,
            f"{where}.{f.wire}",
        )


def _field_alike(f: WireField, a: Any, b: Any, n: Any, to_json: bool, where: str) -> None:
    if to_json and a is None and f.kind is Kind.LIST:
        assert b == (), where
        return
    if n is None or a is None or b is None:
        assert (a, str(a)) == (b, str(b)), where
        return
    _ALIKE.get(f.kind, _plain_alike)(f, a, b, n, to_json, where)


def _plain_alike(f: WireField, a: Any, b: Any, n: Any, to_json: bool, where: str) -> None:
    assert (a, str(a)) == (b, str(b)), where


def _date_alike(f: WireField, a: Any, b: Any, n: Any, to_json: bool, where: str) -> None:
    if not _gap(n):
        _plain_alike(f, a, b, n, to_json, where)
        return
    assert a == b, where  # the same instant ...
    assert str(a) != str(b), where  # ... in another text


def _model_alike(f: WireField, a: Any, b: Any, n: Any, to_json: bool, where: str) -> None:
    assert f.model is not None
    assert type(a) is type(b) is f.model, where
    _alike(a, b, n, f.model, to_json, where)


def _list_alike(f: WireField, a: Any, b: Any, n: Any, to_json: bool, where: str) -> None:
    assert f.item is not None
    assert len(a) == len(b) == len(n), where
    for i, (x, y, m) in enumerate(zip(a, b, n, strict=True)):
        _field_alike(f.item, x, y, m, to_json, f"{where}[{i}]")


#: The kinds whose values hold a date that .NET may move (the rest compare as they are).
_ALIKE: Final[Mapping[Kind, Callable[[WireField, Any, Any, Any, bool, str], None]]] = {
    Kind.TIMESTAMP: _date_alike,
    Kind.MODEL: _model_alike,
    Kind.LIST: _list_alike,
}


def has_forbidden(neutral: dict[str, Any], cls: type) -> bool:
    """Whether a neutral value holds a string with a character XML 1.0 forbids."""
    return any(
        f.kind is Kind.STR
        and neutral[f.wire] is not None
        and XML_ILLEGAL.search(unb64(neutral[f.wire])) is not None
        for f in json_order(cls)
    )


def enum_known_to_client(neutral: dict[str, Any], cls: type) -> bool:
    """Whether every enum value of a neutral value is a member shopapi declares."""
    return all(
        neutral[f.wire] in f.enum._value2member_map_
        for f in json_order(cls)
        if f.kind is Kind.ENUM and f.enum is not None
    )


def enum_defined_on_server(neutral: dict[str, Any], cls: type) -> bool:
    """Whether every enum value is a member of the server's (generated C#) enum."""
    return all(
        neutral[f.wire] in enum_members(f.enum)
        for f in json_order(cls)
        if f.kind is Kind.ENUM and f.enum is not None
    )


def _same(expected: Any, actual: Any, where: str) -> None:
    assert (actual, type(actual)) == (expected, type(expected)), where


def _decoded_str(f: WireField, expected: Any, actual: Any, xml: bool, where: str) -> None:
    text = unb64(expected)
    assert actual == (newlines_normalised(text) if xml else text), where


def _decoded_date(f: WireField, expected: Any, actual: Any, xml: bool, where: str) -> None:
    assert isinstance(actual, Timestamp), where
    assert (wall_ticks(actual), kind_of(actual)) == (expected["ticks"], expected["kind"]), where


def _decoded_decimal(f: WireField, expected: Any, actual: Any, xml: bool, where: str) -> None:
    # XML keeps the scale exactly; JSON gives an integral value a ".0" (100 reads 100.0).
    assert type(actual) is Decimal, where
    text = decimal_text if xml else decimal_json_text
    assert text(actual) == text(Decimal(expected)), where
    assert actual == Decimal(expected), where


def _decoded_enum(f: WireField, expected: Any, actual: Any, xml: bool, where: str) -> None:
    assert f.enum is not None
    if xml:
        member = f.enum._value2member_map_.get(expected)
        assert actual == (member if member is not None else enum_members(f.enum)[expected])
        assert type(actual) is (f.enum if member is not None else str), where
    else:
        assert int(actual) == expected, where


def _decoded_coded(f: WireField, expected: Any, actual: Any, xml: bool, where: str) -> None:
    assert f.enum is not None
    member = f.enum._value2member_map_.get(expected)
    assert actual == expected, where
    assert type(actual) is (int if member is None else f.enum), where


def _decoded_model(f: WireField, expected: Any, actual: Any, xml: bool, where: str) -> None:
    assert type(actual) is f.model, where
    assert_decoded_matches(actual, expected, xml=xml)


def _decoded_list(f: WireField, expected: Any, actual: Any, xml: bool, where: str) -> None:
    assert f.item is not None
    assert type(actual) is tuple, where
    assert len(actual) == len(expected), where
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        _decoded(f.item, e, a, xml, f"{where}[{i}]")


#: Kind -> check that a value shopapi read from .NET's bytes is the neutral value .NET
#: held (never called with ``None`` on either side).
DECODED_CHECKS: Final[Mapping[Kind, Callable[[WireField, Any, Any, bool, str], None]]] = {
    Kind.STR: _decoded_str,
    Kind.INT: lambda f, e, a, xml, where: _same(e, a, where),
    Kind.CODED: _decoded_coded,
    Kind.BOOL: lambda f, e, a, xml, where: _same(e, a, where),
    Kind.TIMESTAMP: _decoded_date,
    Kind.DECIMAL: _decoded_decimal,
    Kind.ENUM: _decoded_enum,
    Kind.MODEL: _decoded_model,
    Kind.LIST: _decoded_list,
}


def _decoded(f: WireField, expected: Any, actual: Any, xml: bool, where: str) -> None:
    if expected is None:
        assert actual is None, where
        return
    DECODED_CHECKS[f.kind](f, expected, actual, xml, where)


def assert_decoded_matches(model: Any, neutral: dict[str, Any], *, xml: bool) -> None:
    """``model``, read by shopapi from what .NET wrote for ``neutral``, holds its values.

    XML's reader normalises line ends, so there a string is compared normalised.
    """
    cls: type = type(model)
    for f in json_order(cls):
        where = f"{type(model).__name__}.{f.wire}"
        _decoded(f, neutral[f.wire], getattr(model, f.name), xml, where)


def _equal(value: Any, got: Any, where: str) -> None:
    assert got == value, where


def _read_date(f: WireField, value: Any, got: Any, xml: bool, where: str) -> None:
    assert got["kind"] == kind_of(value), where
    if got["kind"] == "Local":
        assert got["utc_ticks"] == utc_ticks(value), where
    else:
        assert got["ticks"] == wall_ticks(value), where


def _read_decimal(f: WireField, value: Any, got: Any, xml: bool, where: str) -> None:
    # .NET holds the scale it read, as far as it fits: "100.0" from JSON is 100.0, "100"
    # from XML is 100, and JSON's 79228162514264337593543950335.0 is scale 0 again.
    sent = decimal_text(value) if xml else decimal_json_text(value)
    assert got == decimal_text(Decimal(sent)), where


def _read_enum(f: WireField, value: Any, got: Any, xml: bool, where: str) -> None:
    if isinstance(value, str):
        assert got["name"] == value, where
    else:
        assert got["value"] == int(value), where


def _read_list(f: WireField, value: Any, got: Any, xml: bool, where: str) -> None:
    assert f.item is not None
    assert len(got) == len(value), where
    for i, (v, g) in enumerate(zip(value, got, strict=True)):
        _read(f.item, v, g, xml, f"{where}[{i}]")


#: Kind -> check that what .NET read (neutral) from shopapi's bytes is the value shopapi
#: wrote (never called with ``None`` on shopapi's side).
READ_CHECKS: Final[Mapping[Kind, Callable[[WireField, Any, Any, bool, str], None]]] = {
    Kind.STR: lambda f, v, g, xml, where: _equal(v, unb64(g), where),
    Kind.INT: lambda f, v, g, xml, where: _equal(v, g, where),
    Kind.CODED: lambda f, v, g, xml, where: _equal(int(v), g, where),
    Kind.BOOL: lambda f, v, g, xml, where: _equal(v, g, where),
    Kind.TIMESTAMP: _read_date,
    Kind.DECIMAL: _read_decimal,
    Kind.ENUM: _read_enum,
    Kind.MODEL: lambda f, v, g, xml, where: assert_read_matches(v, g, xml=xml),
    Kind.LIST: _read_list,
}


def _read(f: WireField, value: Any, got: Any, xml: bool, where: str) -> None:
    if value is None:
        # XmlSerializer writes nothing for a null list, and reads nothing as an empty one.
        assert got == ([] if xml and f.kind is Kind.LIST else None), where
        return
    assert got is not None, where
    READ_CHECKS[f.kind](f, value, got, xml, where)


def assert_read_matches(model: Any, dumped: dict[str, Any], *, xml: bool = False) -> None:
    """What .NET read (``dumped``, neutral) from shopapi's bytes for ``model`` is ``model``.

    A date with an offset comes back as a local date of the same instant: .NET keeps no
    offset, only ``DateTimeKind.Local``.
    """
    cls: type = type(model)
    for f in json_order(cls):
        where = f"{type(model).__name__}.{f.wire}"
        _read(f, getattr(model, f.name), dumped[f.wire], xml, where)
