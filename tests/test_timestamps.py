"""``Timestamp``: .NET's round-trip dates, kept to the 100 ns tick.

A client that reads a conversation and writes it back must not change its timestamps,
so every form the server writes has to parse and format back to the same text, and the
seventh fractional digit has to survive everything a user does with a ``datetime``.
"""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shopapi import Timestamp
from shopapi._wire.timestamps import PLUS_ZERO, format_timestamp, parse_timestamp
from tests.strategies import canonical_timestamp_texts, timestamps

PLUS_ONE = timezone(timedelta(hours=1))
SAMPLE = "2026-01-11T16:13:16.7386644+01:00"


def ts(text: str) -> Timestamp:
    """Parse, checking the result is a ``Timestamp`` (the type that keeps the ticks)."""
    value = Timestamp.parse(text)
    assert type(value) is Timestamp
    return value


@pytest.mark.parametrize(
    ("text", "microsecond", "sub", "offset"),
    [
        ("2026-01-11T16:13:16.7386644+01:00", 738664, 4, timedelta(hours=1)),
        ("2026-01-11T16:13:16.754306+01:00", 754306, 0, timedelta(hours=1)),
        ("2026-01-11T16:13:16.1+01:00", 100000, 0, timedelta(hours=1)),
        ("2026-01-11T16:13:16+01:00", 0, 0, timedelta(hours=1)),
        ("2026-01-11T16:13:16.7386644Z", 738664, 4, timedelta(0)),
        ("2026-01-11T16:13:16.7386644", 738664, 4, None),
        ("2026-01-11T16:13:16.7386644+00:00", 738664, 4, timedelta(0)),
        ("2026-01-11T16:13:16.0000001-05:30", 0, 1, timedelta(hours=-5, minutes=-30)),
        ("2026-01-11T16:13:16.9999999+14:00", 999999, 9, timedelta(hours=14)),
        ("0001-01-01T00:00:00", 0, 0, None),
        ("9999-12-31T23:59:59.9999999Z", 999999, 9, timedelta(0)),
    ],
)
def test_every_server_form_round_trips(
    text: str, microsecond: int, sub: int, offset: timedelta | None
) -> None:
    """Each form the server writes comes back as the same text, with its parts intact."""
    value = ts(text)
    assert value.microsecond == microsecond
    assert value.sub_microsecond_ticks == sub
    assert value.utcoffset() == offset
    assert format_timestamp(value) == text
    assert value.to_dotnet() == text
    assert str(value) == text


def test_z_is_utc_and_no_suffix_is_naive() -> None:
    """The kind maps onto tzinfo: ``Z`` is UTC, no suffix is naive (Unspecified)."""
    assert ts("2026-01-11T16:13:16Z").tzinfo is UTC
    assert ts("2026-01-11T16:13:16").tzinfo is None


def test_plus_zero_is_kept_apart_from_z() -> None:
    """``+00:00`` (a Local time in London) must not be rewritten as ``Z`` (UTC), or back."""
    plus_zero = ts("2026-01-11T16:13:16.7386644+00:00")
    zulu = ts("2026-01-11T16:13:16.7386644Z")
    assert plus_zero.tzinfo is PLUS_ZERO
    assert plus_zero == zulu  # the same instant ...
    assert str(plus_zero) == "2026-01-11T16:13:16.7386644+00:00"  # ... written differently
    assert str(zulu) == "2026-01-11T16:13:16.7386644Z"


def test_formats_plain_datetimes_like_dotnet() -> None:
    """A user's own ``datetime`` is written in .NET's form, trailing zeros trimmed."""
    assert format_timestamp(datetime(2026, 1, 11, 16, 13, 16, 738660, PLUS_ONE)) == (
        "2026-01-11T16:13:16.73866+01:00"
    )
    assert format_timestamp(datetime(2026, 1, 11, 16, 13, 16, tzinfo=UTC)) == (
        "2026-01-11T16:13:16Z"
    )
    assert format_timestamp(datetime(2026, 1, 11)) == "2026-01-11T00:00:00"
    minus = timezone(-timedelta(hours=3, minutes=30))
    assert format_timestamp(datetime(2026, 1, 11, tzinfo=minus)) == "2026-01-11T00:00:00-03:30"


def test_trailing_zeros_are_trimmed_on_output() -> None:
    """.NET trims trailing zeros; seven written digits ending in 0 are the same tick."""
    assert str(ts("2026-01-11T16:13:16.7386640+01:00")) == "2026-01-11T16:13:16.738664+01:00"
    assert str(ts("2026-01-11T16:13:16.0000000Z")) == "2026-01-11T16:13:16Z"


def test_offset_that_is_not_whole_minutes_cannot_be_written() -> None:
    """.NET offsets are whole minutes; silently rounding one would move the instant."""
    odd = datetime(2026, 1, 1, tzinfo=timezone(timedelta(minutes=60, seconds=30)))
    with pytest.raises(ValueError, match="whole number of minutes"):
        format_timestamp(odd)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-01-11",
        "2026-01-11 16:13:16",
        "2026-01-11T16:13",
        "2026-01-11T16:13:16.",
        "2026-01-11T16:13:16.12345678",
        "2026-01-11T16:13:16+0100",
        "2026-01-11T16:13:16+01",
        "2026-01-11T16:13:16z",
        "2026-01-11T16:13:16+01:00Z",
        " 2026-01-11T16:13:16",
        "2026-01-11T16:13:16 ",
        "\u0662\u0660\u0662\u0666-01-11T16:13:16",
        "yesterday",
    ],
)
def test_malformed_text_raises_value_error(text: str) -> None:
    """Anything but .NET's round-trip form is refused, never guessed at."""
    with pytest.raises(ValueError, match=r"not a \.NET round-trip date"):
        parse_timestamp(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00",
        "2026-13-01T00:00:00",
        "0000-01-01T00:00:00",
        "2026-01-11T24:00:00",
        "2026-01-11T16:60:00",
        "2026-01-11T16:13:60",
        "2026-01-11T16:13:16+25:00",
        "2026-01-11T16:13:16+01:60",
    ],
)
def test_impossible_values_raise_value_error(text: str) -> None:
    """The right shape with impossible parts is refused too, not normalised."""
    with pytest.raises(ValueError, match=r"range|must be|not a \.NET round-trip date"):
        parse_timestamp(text)


def test_equal_only_when_ticks_are_equal() -> None:
    """The seventh digit counts: ...7386644 and ...7386640 are different instants."""
    assert ts(SAMPLE) != ts("2026-01-11T16:13:16.7386640+01:00")
    assert ts(SAMPLE) == ts(SAMPLE)
    assert ts(SAMPLE) == ts("2026-01-11T15:13:16.7386644Z")  # same instant, other zone
    assert (ts(SAMPLE) != ts(SAMPLE)) is False


def test_equal_to_plain_datetime_only_when_seventh_digit_is_zero() -> None:
    """A plain ``datetime`` has no seventh digit, so it matches only a zero one."""
    plain = datetime(2026, 1, 11, 16, 13, 16, 738664, PLUS_ONE)
    assert ts("2026-01-11T16:13:16.7386640+01:00") == plain
    assert plain == ts("2026-01-11T16:13:16.7386640+01:00")
    assert ts(SAMPLE) != plain
    assert plain != ts(SAMPLE)
    assert (plain == ts(SAMPLE)) is False


def test_not_equal_to_other_types() -> None:
    """Comparing with a non-datetime is plain inequality, not an error."""
    assert ts(SAMPLE) != SAMPLE
    assert ts(SAMPLE) != 0
    assert ts(SAMPLE) is not None


def test_ordering_includes_the_seventh_digit() -> None:
    """Sorting by date (the newest activity first, say) must respect the 100 ns tick."""
    a = ts("2026-01-11T16:13:16.7386643+01:00")
    b = ts(SAMPLE)
    c = ts("2026-01-11T16:13:16.7386645+01:00")
    assert a < b < c
    assert c > b > a
    assert a <= b <= b >= a
    assert sorted([c, a, b]) == [a, b, c]
    plain_before = datetime(2026, 1, 11, 16, 13, 16, 738664, PLUS_ONE)
    plain_after = datetime(2026, 1, 11, 16, 13, 16, 738665, PLUS_ONE)
    assert plain_before < b < plain_after
    assert plain_after > b > plain_before
    assert max(plain_before, b) is b


def test_ordering_against_non_datetime_raises_type_error() -> None:
    """Like ``datetime``: ordering against a string is a bug, not ``False``."""
    with pytest.raises(TypeError, match="not supported"):
        _ = ts(SAMPLE) < "2026"


def test_hash_is_consistent_with_equality() -> None:
    """Timestamps are dict keys and set members (deduplicating a journal, say)."""
    assert hash(ts(SAMPLE)) == hash(ts(SAMPLE))
    assert hash(ts(SAMPLE)) == hash(ts("2026-01-11T15:13:16.7386644Z"))
    zero = ts("2026-01-11T16:13:16.738664+01:00")
    plain = datetime(2026, 1, 11, 16, 13, 16, 738664, PLUS_ONE)
    assert hash(zero) == hash(plain)
    assert len({ts(SAMPLE), ts(SAMPLE), zero, plain}) == 2


@settings(max_examples=200, deadline=None)
@given(timestamps(), timestamps())
def test_hash_and_order_agree_with_ticks(a: Timestamp, b: Timestamp) -> None:
    """For any two timestamps of one kind: equal iff ticks equal, ordered by ticks."""
    b = b.replace(tzinfo=a.tzinfo)
    assert (a == b) is (a.ticks == b.ticks)
    assert (a < b) is (a.ticks < b.ticks)
    if a == b:
        assert hash(a) == hash(b)


def test_timedelta_arithmetic_keeps_the_seventh_digit() -> None:
    """Shifting a date (a follow-up a day later) must not lose the 100 ns tick."""
    value = ts(SAMPLE)
    later = value + timedelta(days=1, microseconds=1)
    assert type(later) is Timestamp
    assert str(later) == "2026-01-12T16:13:16.7386654+01:00"
    assert str(timedelta(days=1) + value) == "2026-01-12T16:13:16.7386644+01:00"
    earlier = value - timedelta(hours=1)
    assert type(earlier) is Timestamp
    assert str(earlier) == "2026-01-11T15:13:16.7386644+01:00"
    assert value - ts("2026-01-11T16:13:15.7386644+01:00") == timedelta(seconds=1)


def test_replace_and_astimezone_keep_the_seventh_digit() -> None:
    """Moving a date to another zone or field value keeps its tick."""
    value = ts(SAMPLE)
    assert str(value.replace(year=2025)) == "2025-01-11T16:13:16.7386644+01:00"
    assert str(value.replace(tzinfo=None)) == "2026-01-11T16:13:16.7386644"
    assert str(value.astimezone(UTC)) == "2026-01-11T15:13:16.7386644Z"
    assert str(value.astimezone(PLUS_ZERO)) == "2026-01-11T15:13:16.7386644+00:00"
    assert type(value.astimezone(UTC)) is Timestamp


@pytest.mark.parametrize(
    "text",
    [
        SAMPLE,
        "2026-01-11T16:13:16.7386644Z",
        "2026-01-11T16:13:16.7386644+00:00",
        "2026-01-11T16:13:16.7386644",
    ],
)
def test_pickle_and_copy_keep_ticks_and_kind(text: str) -> None:
    """Bulk jobs pickle results to worker processes; nothing may change on the way."""
    value = ts(text)
    clones = [copy.copy(value), copy.deepcopy(value)]
    clones += [
        pickle.loads(pickle.dumps(value, protocol))
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1)
    ]
    for clone in clones:
        assert type(clone) is Timestamp
        assert clone == value
        assert str(clone) == text
        assert clone.sub_microsecond_ticks == value.sub_microsecond_ticks


def test_ticks_match_dotnet() -> None:
    """``.ticks`` is .NET's ``DateTime.Ticks`` (MinValue is 0, MaxValue is well known)."""
    assert ts("0001-01-01T00:00:00").ticks == 0
    assert ts("0001-01-01T00:00:00.0000001").ticks == 1
    assert ts("9999-12-31T23:59:59.9999999").ticks == 3_155_378_975_999_999_999
    wall = datetime(2026, 1, 11, 16, 13, 16, 738664) - datetime(1, 1, 1)
    assert ts(SAMPLE).ticks == (wall // timedelta(microseconds=1)) * 10 + 4


def test_is_a_datetime() -> None:
    """Users treat it as the ``datetime`` it is: fields, isinstance, methods."""
    value = ts(SAMPLE)
    assert isinstance(value, datetime)
    assert (value.year, value.month, value.day) == (2026, 1, 11)
    assert (value.hour, value.minute, value.second) == (16, 13, 16)
    assert value.date().isoformat() == "2026-01-11"
    assert value.isoformat() == "2026-01-11T16:13:16.738664+01:00"


def test_from_datetime_adds_ticks() -> None:
    """The way to build a timestamp with a seventh digit from a plain ``datetime``."""
    plain = datetime(2026, 1, 11, 16, 13, 16, 738664, PLUS_ONE)
    assert Timestamp.from_datetime(plain, sub_microsecond_ticks=4) == ts(SAMPLE)
    assert Timestamp.from_datetime(plain) == plain
    assert Timestamp.from_datetime(ts(SAMPLE)) == ts(SAMPLE)  # keeps an existing digit
    for bad in (-1, 10):
        with pytest.raises(ValueError, match=r"0\.\.9"):
            Timestamp.from_datetime(plain, sub_microsecond_ticks=bad)


def test_repr_shows_the_full_text() -> None:
    """Logs must show the tick that will be sent, not a rounded microsecond."""
    assert repr(ts(SAMPLE)) == f"Timestamp.parse({SAMPLE!r})"


@settings(max_examples=300, deadline=None)
@given(canonical_timestamp_texts())
def test_canonical_text_round_trips(text: str) -> None:
    """Any text .NET writes parses and formats back to itself."""
    assert str(parse_timestamp(text)) == text


@settings(max_examples=300, deadline=None)
@given(timestamps())
def test_value_round_trips_through_text(value: Timestamp) -> None:
    """Any timestamp survives text: same ticks, same offset, same kind of suffix."""
    back = parse_timestamp(format_timestamp(value))
    assert back == value
    assert back.ticks == value.ticks
    assert back.utcoffset() == value.utcoffset()
    assert format_timestamp(back) == format_timestamp(value)


@settings(max_examples=200, deadline=None)
@given(timestamps(), st.integers(-(10**6), 10**6))
def test_adding_seconds_keeps_the_digit(value: Timestamp, seconds: int) -> None:
    """Arithmetic never loses the seventh digit, whatever the date."""
    assume(datetime(2, 1, 1) <= value.replace(tzinfo=None) <= datetime(9998, 1, 1))
    moved = value + timedelta(seconds=seconds)
    assert moved.sub_microsecond_ticks == value.sub_microsecond_ticks
    assert moved.ticks - value.ticks == seconds * 10_000_000


@given(canonical_timestamp_texts(), st.sampled_from(["", "0", "00"]), st.booleans())
def test_the_text_kept_from_parsing_is_what_formatting_writes(
    text: str, zeros: str, minus_zero: bool
) -> None:
    """A parsed value is written back as its own text only where that text is canonical:
    trailing zeros and ``-00:00`` are rewritten as .NET writes them."""
    parts = re.fullmatch(r"(.{19})(\.\d+)?(.*)", text)
    assert parts is not None
    head, frac, suffix = parts.groups(default="")
    if zeros and len(frac) - 1 + len(zeros) <= 7:
        frac = (frac or ".") + zeros
    if minus_zero and suffix == "+00:00":
        suffix = "-00:00"
    parsed = parse_timestamp(head + frac + suffix)
    fresh = Timestamp.from_datetime(parsed)  # equal, but built without the text
    assert fresh is not parsed
    assert format_timestamp(parsed) == format_timestamp(fresh)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Timestamp.parse("yesterday"),
        lambda: Timestamp.parse("2026-01-11T16:13:16+15:00"),
        lambda: Timestamp.from_datetime(datetime(2026, 1, 1, tzinfo=UTC), sub_microsecond_ticks=10),
    ],
)
def test_the_public_constructors_raise_shopapi_errors(make: Callable[[], object]) -> None:
    """Bad input to the public constructors is a ShopApiError, still a ValueError."""
    from shopapi import ConfigurationError, ShopApiError

    with pytest.raises(ShopApiError) as raised:
        make()
    assert isinstance(raised.value, ConfigurationError)
    assert isinstance(raised.value, ValueError)  # callers catching ValueError keep working
