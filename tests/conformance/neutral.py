"""The serializer tool's neutral form, on the Python side: draw it, and compare with it.

A neutral value names each property by its wire name (see ``conformance/Wire.cs``): a
string is base64 of its UTF-8, an int or bool is itself, a date is ``{"ticks", "kind"}``
(.NET ``DateTime``), an enum is its integer. .NET builds the object from it, so what
.NET writes is drawn here independently of any codec under test.
"""

from __future__ import annotations

import calendar
import enum
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from conformance.codegen import enum_members
from conformance.harness import DOTNET_TZ, b64, unb64
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


def _neutral_field(f: WireField) -> st.SearchStrategy[Any]:
    value: st.SearchStrategy[Any]
    if f.kind is Kind.STR:
        value = hostile_texts(80 if f.max_length is None else 40).map(b64)
    elif f.kind is Kind.INT:
        value = int32s()
    elif f.kind is Kind.BOOL:
        value = st.booleans()
    elif f.kind is Kind.TIMESTAMP:
        value = neutral_dates()
    else:
        assert f.enum is not None
        return enum_ints(f.enum)
    if f.nullable and not f.required:  # a required field is never null on the wire
        return st.one_of(st.none(), value)
    return value


def neutral_values(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    """Any value of ``cls`` as .NET can hold it, in the neutral form."""
    return st.fixed_dictionaries({f.wire: _neutral_field(f) for f in json_order(cls)})


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


def dst_gap_wires(neutral: dict[str, Any], cls: type) -> set[str]:
    """The local dates of a neutral value that fall in the hour the server's clocks skip."""
    return {
        f.wire
        for f in json_order(cls)
        if f.kind is Kind.TIMESTAMP
        and neutral[f.wire] is not None
        and neutral[f.wire]["kind"] == "Local"
        and in_dst_gap(neutral[f.wire]["ticks"])
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


def assert_decoded_matches(model: Any, neutral: dict[str, Any], *, xml: bool) -> None:
    """``model``, read by shopapi from what .NET wrote for ``neutral``, holds its values.

    XML's reader normalises line ends, so there a string is compared normalised.
    """
    cls: type = type(model)
    for f in json_order(cls):
        expected, actual = neutral[f.wire], getattr(model, f.name)
        where = f"{type(model).__name__}.{f.wire}"
        if f.kind is Kind.STR:
            if expected is None:
                assert actual is None, where
            else:
                text = unb64(expected)
                assert actual == (newlines_normalised(text) if xml else text), where
        elif f.kind in (Kind.INT, Kind.BOOL):
            assert (actual, type(actual)) == (expected, type(expected)), where
        elif f.kind is Kind.TIMESTAMP:
            if expected is None:
                assert actual is None, where
            else:
                assert isinstance(actual, Timestamp), where
                assert (wall_ticks(actual), kind_of(actual)) == (
                    expected["ticks"],
                    expected["kind"],
                ), where
        else:
            assert f.enum is not None
            if xml:
                member = f.enum._value2member_map_.get(expected)
                assert actual == (member if member is not None else enum_members(f.enum)[expected])
                assert type(actual) is (f.enum if member is not None else str), where
            else:
                assert int(actual) == expected, where


def assert_read_matches(model: Any, dumped: dict[str, Any]) -> None:
    """What .NET read (``dumped``, neutral) from shopapi's bytes for ``model`` is ``model``.

    A date with an offset comes back as a local date of the same instant: .NET keeps no
    offset, only ``DateTimeKind.Local``.
    """
    cls: type = type(model)
    for f in json_order(cls):
        value, got = getattr(model, f.name), dumped[f.wire]
        where = f"{type(model).__name__}.{f.wire}"
        if f.kind is Kind.STR:
            assert (None if got is None else unb64(got)) == value, where
        elif f.kind in (Kind.INT, Kind.BOOL):
            assert got == value, where
        elif f.kind is Kind.TIMESTAMP:
            if value is None:
                assert got is None, where
                continue
            assert got is not None, where
            assert got["kind"] == kind_of(value), where
            if got["kind"] == "Local":
                assert got["utc_ticks"] == utc_ticks(value), where
            else:
                assert got["ticks"] == wall_ticks(value), where
        else:
            assert f.enum is not None
            if isinstance(value, str):
                assert got["name"] == value, where
            else:
                assert got["value"] == int(value), where
