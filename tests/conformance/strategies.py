"""Models as a shopapi user builds them, valid for the format they are sent in.

The values of each kind come from :data:`CLIENT_STRATEGIES`, a table keyed by kind (a
test checks that every kind has a row).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, Final, Literal

from hypothesis import strategies as st

from conformance.codegen import enum_members
from shopapi._wire.fields import Kind, WireField, json_order
from shopapi._wire.timestamps import PLUS_ZERO, Timestamp
from tests.conformance.neutral import (
    MAX_TICKS,
    hostile_texts,
    int32s,
    neutral_decimals,
    tick_counts,
)

Format = Literal["json", "xml"]
_EPOCH = datetime(1, 1, 1)
#: A day of ticks: an offset date this far from the ends stays inside .NET's range when
#: the server converts it to its local time (beyond it, .NET clamps; see test_findings).
DAY_TICKS = 86_400 * 10_000_000


def timestamp_of(ticks: int, tz: tzinfo | None) -> Timestamp:
    """The wall-clock time ``ticks`` (``DateTime.Ticks``) with ``tz``."""
    wall = _EPOCH + timedelta(microseconds=ticks // 10)
    return Timestamp.from_datetime(wall.replace(tzinfo=tz), sub_microsecond_ticks=ticks % 10)


@st.composite
def timestamps(draw: st.DrawFn) -> Timestamp:
    """Every kind: no suffix, ``Z``, ``+00:00``, any whole-minute offset up to 14 h."""
    minutes = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
    tz = draw(st.one_of(st.sampled_from([None, UTC, PLUS_ZERO]), minutes))
    ticks = draw(tick_counts())
    if tz is not None and tz is not UTC:
        ticks = min(max(ticks, DAY_TICKS), MAX_TICKS - DAY_TICKS)
    return timestamp_of(ticks, tz)


def _enum_values(enum_cls: type[enum.IntEnum], fmt: Format) -> st.SearchStrategy[Any]:
    members = st.sampled_from(list(enum_cls)) if len(enum_cls) else st.nothing()
    if fmt == "json":
        return st.one_of(members, int32s())
    # XML carries names: the client's members, and names only the server knows.
    return st.one_of(members, st.sampled_from(sorted(enum_members(enum_cls).values())))


def _coded_values(enum_cls: type[enum.IntEnum]) -> st.SearchStrategy[Any]:
    # A member, or any int32: one the pages do not name is sent as the user gave it.
    return st.one_of(st.sampled_from(list(enum_cls)), int32s())


def decimals() -> st.SearchStrategy[Decimal]:
    """Decimals .NET can hold, as a user writes them: any scale, negative zeros, and
    exponents (``Decimal("1E+2")`` is sent as ``100``)."""
    return st.one_of(
        neutral_decimals().map(Decimal),
        st.sampled_from(["1E+2", "-0E+3", "0E-28", "12.50", "-0.00"]).map(Decimal),
    )


def _nullable(f: WireField, value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A required field is always set (a valid body has it), nullable or not.
    return st.one_of(st.none(), value) if f.nullable and not f.required else value


def _list(f: WireField, fmt: Format) -> st.SearchStrategy[Any]:
    assert f.item is not None
    return _nullable(f, st.lists(_value(f.item, fmt), max_size=4).map(tuple))


#: Kind -> a field's values for a format.
CLIENT_STRATEGIES: Final[Mapping[Kind, Callable[[WireField, Format], st.SearchStrategy[Any]]]] = {
    # Every character but lone surrogates, in both formats: XML sends the ones XML 1.0
    # forbids as character references.
    Kind.STR: lambda f, fmt: _nullable(f, hostile_texts(80 if f.max_length is None else 40)),
    Kind.INT: lambda f, fmt: _nullable(f, int32s()),
    Kind.CODED: lambda f, fmt: _nullable(f, _coded_values(f.enum)),  # type: ignore[arg-type]
    Kind.BOOL: lambda f, fmt: _nullable(f, st.booleans()),
    Kind.TIMESTAMP: lambda f, fmt: _nullable(f, timestamps()),
    Kind.DECIMAL: lambda f, fmt: _nullable(f, decimals()),
    Kind.ENUM: lambda f, fmt: _enum_values(f.enum, fmt),  # type: ignore[arg-type]
    Kind.MODEL: lambda f, fmt: _nullable(
        f,
        st.deferred(lambda: client_models(f.model, fmt)),  # type: ignore[arg-type]
    ),
    Kind.LIST: _list,
}


def _value(f: WireField, fmt: Format) -> st.SearchStrategy[Any]:
    return CLIENT_STRATEGIES[f.kind](f, fmt)


def client_models(cls: type, fmt: Format) -> st.SearchStrategy[Any]:
    """Instances of ``cls`` that ``fmt`` can carry, every non-nullable or required field
    set."""
    return st.builds(cls, **{f.name: _value(f, fmt) for f in json_order(cls)})
