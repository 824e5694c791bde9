"""Hypothesis strategies for shopapi's models, driven by the wire metadata.

Every instance drawn here is valid for the format asked for, so a codec must round-trip
it exactly. The strategies lean on the edges the wire formats care about: 100 ns ticks,
``Z`` versus ``+00:00`` versus no suffix, whole-minute offsets up to 14 h, characters
Json.NET and XmlSerializer escape, astral characters (2 UTF-16 units each), ``None`` in
every nullable field, and enum values this client does not know.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, Final, Literal

from hypothesis import strategies as st

from shopapi import (
    DecodeError,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    PlatformKindEnum,
)
from shopapi._wire.decimals import MAX_COEFFICIENT, MAX_SCALE
from shopapi._wire.fields import Kind, WireField, wire_fields
from shopapi._wire.timestamps import PLUS_ZERO, Timestamp
from shopapi._wire.validation import utf16_length

Format = Literal["json", "xml"]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
MAX_OFFSET_MINUTES = 14 * 60
#: How long an unbounded string (``Url``, ``Note``) gets; long enough, still fast.
UNBOUNDED_STRING_SIZE = 300

MODELS: tuple[type, ...] = (
    MessageConversationBasicInfo,
    MessageConversation,
    MessageConversationChanges,
)

# Characters the serializers treat specially, drawn often so the escaping is exercised.
_SPECIAL = "&<>\"'\\/\r\n\t \u0085\u2028\u2029\u00e9\u20ac\U0001f600\U00010000]]>"
_XML_ILLEGAL_BMP = "".join(
    [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"]
)
# Lone surrogates (Unicode category Cs), which no UTF-8 text can carry.
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)

xml_chars = st.one_of(
    st.characters(exclude_categories=_SURROGATES, exclude_characters=_XML_ILLEGAL_BMP),
    st.sampled_from(_SPECIAL),
)
json_chars = st.one_of(
    st.characters(exclude_categories=_SURROGATES),
    st.sampled_from(_SPECIAL + "\x00\x01\x08\x0b\x0c\x1f\x7f\ufffe\uffff"),
)


def _fit_utf16(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` UTF-16 code units (what .NET's MaxLength counts)."""
    while utf16_length(text) > limit:
        text = text[:-1]
    return text


def texts(fmt: Format, max_length: int | None = None) -> st.SearchStrategy[str]:
    """Strings a field with ``max_length`` accepts, carriable in ``fmt``."""
    alphabet = xml_chars if fmt == "xml" else json_chars
    size = UNBOUNDED_STRING_SIZE if max_length is None else max_length
    strategy = st.text(alphabet, max_size=size)
    if max_length is not None:
        strategy = strategy.map(lambda s: _fit_utf16(s, max_length))
    return strategy


def offsets() -> st.SearchStrategy[tzinfo | None]:
    """Every kind .NET writes: naive (no suffix), UTC (``Z``), ``+00:00``, a fixed offset."""
    fixed = st.integers(-MAX_OFFSET_MINUTES, MAX_OFFSET_MINUTES).map(
        lambda m: timezone(timedelta(minutes=m))
    )
    return st.one_of(st.sampled_from([None, UTC, PLUS_ZERO]), fixed)


def timestamps() -> st.SearchStrategy[Timestamp]:
    """Timestamps with arbitrary 100 ns ticks and every textual kind."""
    return st.builds(
        lambda dt, tz, sub: Timestamp.from_datetime(
            dt.replace(tzinfo=tz), sub_microsecond_ticks=sub
        ),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        offsets(),
        st.integers(0, 9),
    )


@st.composite
def canonical_timestamp_texts(draw: st.DrawFn) -> str:
    """Text exactly as .NET's round-trip format writes it (trailing zeros trimmed)."""
    dt = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    ticks = draw(st.one_of(st.integers(0, 9_999_999), st.sampled_from([0, 1, 10, 7386644])))
    text = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    )
    if ticks:
        text += "." + f"{ticks:07d}".rstrip("0")
    kind = draw(st.sampled_from(["naive", "Z", "offset"]))
    if kind == "Z":
        return text + "Z"
    if kind == "offset":
        minutes = draw(st.integers(-MAX_OFFSET_MINUTES, MAX_OFFSET_MINUTES))
        sign = "-" if minutes < 0 else "+"
        hours, mins = divmod(abs(minutes), 60)
        text += f"{sign}{hours:02d}:{mins:02d}"
    return text


def unknown_enum_ints(
    enum_cls: type[enum.IntEnum] = PlatformKindEnum,
) -> st.SearchStrategy[int]:
    """``PlatformKindEnum`` integers this client does not know (only JSON can carry them)."""
    known = {m.value for m in enum_cls}
    return st.integers(INT32_MIN, INT32_MAX).filter(lambda v: v not in known)


def unknown_enum_names(
    enum_cls: type[enum.IntEnum] = PlatformKindEnum,
) -> st.SearchStrategy[str]:
    """``PlatformKindEnum`` names this client does not know (only XML can carry them)."""
    return st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True).filter(
        lambda v: v not in enum_cls.__members__
    )


def enum_values(
    fmt: Format, enum_cls: type[enum.IntEnum] | None = PlatformKindEnum
) -> st.SearchStrategy[Any]:
    """A known member, or an unknown value in the raw form ``fmt`` reads it as."""
    assert enum_cls is not None
    unknown = unknown_enum_ints(enum_cls) if fmt == "json" else unknown_enum_names(enum_cls)
    members = st.sampled_from(list(enum_cls)) if len(enum_cls) else st.nothing()
    return st.one_of(members, unknown)


def coded_values(enum_cls: type[enum.IntEnum]) -> st.SearchStrategy[Any]:
    """A coded integer's member, or an int32 it does not name (kept as the plain int,
    in both formats: both carry the integer)."""
    return st.one_of(st.sampled_from(list(enum_cls)), unknown_enum_ints(enum_cls))


def decimals() -> st.SearchStrategy[Decimal]:
    """Decimals .NET's decimal holds: any scale to 28, coefficients to 96 bits, negative
    zeros, and exponents (``1E+2`` is sent as ``100``). A value a format reads back with
    another scale (``100`` from JSON's ``100.0``) is still equal to it."""
    coefficients = st.one_of(
        st.sampled_from([0, 1, 1250, MAX_COEFFICIENT]), st.integers(0, MAX_COEFFICIENT)
    )
    plain = st.builds(
        lambda c, scale, sign: Decimal((sign, tuple(map(int, str(c))), -scale)),
        coefficients,
        st.integers(0, MAX_SCALE),
        st.sampled_from([0, 1]),
    )
    return st.one_of(plain, st.sampled_from(["1E+2", "-0E+3", "12.50", "-0.00"]).map(Decimal))


def _scalar(value: st.SearchStrategy[Any]) -> Callable[[WireField, Format], Any]:
    return lambda f, fmt: value


#: Kind -> the valid values of a field of that kind for a format (``None`` added where
#: the field is not required).
VALUES: Final[Mapping[Kind, Callable[[WireField, Format], st.SearchStrategy[Any]]]] = {
    Kind.STR: lambda f, fmt: texts(fmt, f.max_length),
    Kind.INT: _scalar(
        st.one_of(st.sampled_from([0, 1, INT32_MIN, INT32_MAX]), st.integers(INT32_MIN, INT32_MAX))
    ),
    Kind.CODED: lambda f, fmt: coded_values(f.enum),  # type: ignore[arg-type]
    Kind.BOOL: _scalar(st.booleans()),
    Kind.TIMESTAMP: _scalar(st.deferred(timestamps)),
    Kind.DECIMAL: _scalar(st.deferred(decimals)),
    Kind.ENUM: lambda f, fmt: enum_values(fmt, f.enum),
    Kind.MODEL: lambda f, fmt: st.deferred(lambda: instances(f.model, fmt)),  # type: ignore[arg-type]
    Kind.LIST: lambda f, fmt: st.lists(_member(f, fmt), max_size=4).map(tuple),
}


def _member(f: WireField, fmt: Format) -> st.SearchStrategy[Any]:
    assert f.item is not None
    value = VALUES[f.item.kind](f.item, fmt)
    return st.one_of(st.none(), value) if f.item.nullable else value


def _value(f: WireField, fmt: Format) -> st.SearchStrategy[Any]:
    value = VALUES[f.kind](f, fmt)
    if f.required or f.kind is Kind.ENUM:
        return value
    return st.one_of(st.none(), value)


def instances(cls: type, fmt: Format) -> st.SearchStrategy[Any]:
    """Valid instances of model ``cls`` that ``fmt`` can carry."""
    return st.builds(cls, **{f.name: _value(f, fmt) for f in wire_fields(cls)})


def basic_infos(fmt: Format) -> st.SearchStrategy[MessageConversationBasicInfo]:
    """Valid ``MessageConversationBasicInfo`` instances for ``fmt``."""
    return instances(MessageConversationBasicInfo, fmt)


def conversations(fmt: Format) -> st.SearchStrategy[MessageConversation]:
    """Valid ``MessageConversation`` instances for ``fmt``."""
    return instances(MessageConversation, fmt)


def conversation_changes(fmt: Format) -> st.SearchStrategy[MessageConversationChanges]:
    """Valid ``MessageConversationChanges`` instances for ``fmt``."""
    return instances(MessageConversationChanges, fmt)


def models(fmt: Format) -> st.SearchStrategy[Any]:
    """A valid instance of any of the three models, for ``fmt``."""
    return st.one_of(basic_infos(fmt), conversations(fmt), conversation_changes(fmt))


# Fragments that are meaningful to one of the parsers, spliced in by ``mutated``.
_TOKENS = (
    b"<", b">", b"&", b"</", b'"', b"{", b"}", b"[", b"]", b",", b":", b"null", b"-", b"\\u",
    b'xsi:nil="true"', b"<!DOCTYPE a>", b"\xef\xbb\xbf", b"\x00", b"99999999999999999999",
    b"&#xD;", b"9" * 5000,
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, sample: bytes) -> bytes:
    """``sample`` with a few bytes replaced, inserted, deleted or duplicated.

    Mostly-valid input reaches deeper into a decoder than random bytes do.
    """
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "duplicate", "truncate"]))
        at = draw(st.integers(0, len(data)))
        if op == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            chunk = draw(st.one_of(st.binary(max_size=8), st.sampled_from(_TOKENS)))
            data[at:at] = chunk
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif op == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 64)))
            data[at:at] = data[at:end]
        elif op == "truncate":
            del data[at:]
    return bytes(data)


def decode_outcome(codec: Any, data: bytes, cls: Any) -> Any:
    """What a fuzzed decode yields: the value, or the ``DecodeError`` it raised.

    Anything else propagates and fails the test, which is the property being checked.
    """
    try:
        return codec.decode(data, cls)
    except DecodeError as exc:
        return exc


def _outcome_key(outcome: Any) -> object:
    """What tells two decode outcomes apart: the error's text and field, or the repr of
    the value (which shows enum members apart from ints and ``Z`` apart from ``+00:00``,
    where ``==`` would not)."""
    if isinstance(outcome, DecodeError):
        return (type(outcome), str(outcome), outcome.field, outcome.position)
    return repr(outcome)


def same_outcome(codec: Any, reference: Any, data: bytes, cls: Any) -> bool:
    """Whether ``codec`` and ``reference`` decode ``data`` to the same value or error."""
    return _outcome_key(decode_outcome(codec, data, cls)) == _outcome_key(
        decode_outcome(reference, data, cls)
    )


def _bad_str(f: WireField) -> list[st.SearchStrategy[Any]]:
    options: list[st.SearchStrategy[Any]] = [st.integers(), st.binary(max_size=4)]
    if f.max_length is not None:
        limit = f.max_length
        options.append(st.just("x" * (limit + 1)))
        options.append(st.just("\U0001f600" * (limit // 2 + 1)))  # too long in UTF-16
    return options


def _bad_timestamp(f: WireField) -> list[st.SearchStrategy[Any]]:
    odd_offset = st.integers(1, 59).map(
        lambda s: datetime(2026, 1, 1, tzinfo=timezone(timedelta(minutes=90, seconds=s)))
    )
    return [st.just("2026-01-11T16:13:16"), st.integers(), odd_offset]


#: Kind -> values that break a field's rule in every format (wrong type, length, range).
BAD_VALUES: Final[Mapping[Kind, Callable[[WireField], list[st.SearchStrategy[Any]]]]] = {
    Kind.STR: _bad_str,
    Kind.INT: lambda f: [
        st.booleans(),
        st.integers(INT32_MAX + 1, 2**64),
        st.integers(-(2**64), INT32_MIN - 1),
        st.just("1"),
        st.just(1.0),
    ],
    Kind.CODED: lambda f: [
        st.booleans(),
        st.integers(INT32_MAX + 1, 2**40),
        st.integers(-(2**40), INT32_MIN - 1),
        st.just("1"),
        st.just(1.0),
    ],
    Kind.BOOL: lambda f: [st.integers(), st.just("true")],
    Kind.TIMESTAMP: _bad_timestamp,
    Kind.DECIMAL: lambda f: [
        st.just(1.5),
        st.integers(),
        st.just("1.5"),
        st.sampled_from(["NaN", "Infinity", "1E+29", "1E-29", "79228162514264337593543950336"]).map(
            Decimal
        ),
    ],
    Kind.ENUM: lambda f: [st.booleans(), st.just(0.0), st.integers(INT32_MAX + 1, 2**40)],
    Kind.MODEL: lambda f: [st.integers(), st.just("x")],
    Kind.LIST: lambda f: [st.integers(), st.just("abc"), st.just({1: 2})],
}


def _bad_value(f: WireField) -> st.SearchStrategy[Any]:
    """Values that break ``f``'s rule in every format (wrong type, length or range)."""
    options = BAD_VALUES[f.kind](f)
    if f.required:
        options.append(st.none())
    return st.one_of(options)


@st.composite
def instances_with_errors(draw: st.DrawFn, cls: type) -> tuple[Any, tuple[str, ...]]:
    """An instance with some fields broken, and the wire names of the broken ones.

    Only rules that hold in every format are broken, so ``validate`` with no format must
    name exactly these fields.
    """
    values: dict[str, Any] = {}
    bad: list[str] = []
    for f in wire_fields(cls):
        if draw(st.integers(0, 4)) == 0:
            values[f.name] = draw(_bad_value(f))
            bad.append(f.wire)
        else:
            values[f.name] = draw(_value(f, "json"))
    return cls(**values), tuple(bad)
