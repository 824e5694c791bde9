"""A ``datetime`` that keeps .NET's 100 ns ticks and its textual kind.

.NET writes ``DateTime`` in round-trip form with up to seven fractional digits and
trailing zeros trimmed (``2026-01-11T16:13:16.7386644+01:00``). Python's ``datetime``
keeps microseconds, so a plain ``datetime`` silently drops the seventh digit and a
read-modify-write would change the server's timestamp. :class:`Timestamp` *is* a
``datetime`` (comparison, arithmetic, ``.year`` all work) that also carries that digit.

The kind of a .NET ``DateTime`` is mapped onto ``tzinfo``:

* ``Z`` (``DateTimeKind.Utc``) is ``tzinfo=timezone.utc``;
* an offset (``+01:00``, ``DateTimeKind.Local``) is a fixed ``timezone``; ``+00:00`` is
  kept apart from ``Z`` as :data:`PLUS_ZERO`;
* no suffix (``DateTimeKind.Unspecified``) is a naive datetime.

This module is pure: no I/O, no format library.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, SupportsIndex, overload

from .._exceptions import ConfigurationError

__all__ = [
    "ACCEPTED_OFFSETS",
    "MAX_OFFSET",
    "PLUS_ZERO",
    "Timestamp",
    "format_timestamp",
    "offset_problem",
    "parse_timestamp",
]

#: The widest offset .NET's ``DateTimeOffset`` allows, either way.
MAX_OFFSET = timedelta(hours=14)


def offset_problem(offset: timedelta) -> str | None:
    """Why .NET cannot hold a UTC ``offset``, or ``None`` when it can.

    The one home of the rule (whole minutes, at most 14 hours either way): the parser,
    the formatter and validation all ask it.
    """
    if offset.seconds % 60 or offset.microseconds:
        return f"offset {offset} is not a whole number of minutes, as .NET offsets are"
    if abs(offset) > MAX_OFFSET:
        sign = "-" if offset < timedelta(0) else "+"
        hours, minutes = divmod(int(abs(offset).total_seconds()) // 60, 60)
        return f"offset {sign}{hours:02d}:{minutes:02d} is beyond .NET's range of -14:00 to +14:00"
    ACCEPTED_OFFSETS.add(offset)  # at most 1,681 of them
    return None


#: Every offset :func:`offset_problem` has accepted: a hot path may skip the call for these.
ACCEPTED_OFFSETS: set[timedelta] = set()


#: A zero offset that is written ``+00:00`` rather than ``Z``.
PLUS_ZERO = timezone(timedelta(0), "+00:00")

_TICKS_PER_SECOND = 10_000_000
_EPOCH = datetime(1, 1, 1)
_FORM = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d{1,7}))?(Z|[+-]\d\d:\d\d)?",
    re.ASCII,
)


class Timestamp(datetime):
    """A ``datetime`` with .NET's seventh fractional digit (100 ns ticks).

    Equality and ordering include the extra digit, so two timestamps compare equal only
    when their ticks are equal; against a plain ``datetime`` the extra digit counts as 0.
    Adding or subtracting a ``timedelta`` keeps the digit. ``ts - other`` gives a
    ``timedelta``, which, like all of Python, has microsecond resolution.

    Build one with :meth:`parse`, :meth:`from_datetime` or the ``datetime`` constructor
    (which gives an extra digit of 0).
    """

    _sub: int = 0  # 0..9: hundreds of nanoseconds past the microsecond
    # The server's text, when it is exactly what format_timestamp would write: a value
    # read and written back unchanged (read-modify-write) is then not formatted again.
    _text: str | None = None

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """Parse .NET's round-trip form.

        Raises:
            ConfigurationError: ``text`` is not one (a ``ShopApiError`` and a ``ValueError``).
        """
        try:
            return parse_timestamp(text)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    @classmethod
    def from_datetime(cls, value: datetime, *, sub_microsecond_ticks: int = 0) -> Timestamp:
        """Wrap a ``datetime``, adding 0..9 ticks of 100 ns past its microsecond.

        This is also how to send a time of unspecified kind on purpose: a naive
        ``datetime`` set on a model is refused (the server would read it as its own
        local time), but ``Timestamp.from_datetime(naive)`` is written without an offset.

        Raises:
            ConfigurationError: ``sub_microsecond_ticks`` is not in 0..9.
        """
        if not 0 <= sub_microsecond_ticks <= 9:
            raise ConfigurationError("sub_microsecond_ticks must be in 0..9")
        sub = getattr(value, "_sub", 0) if sub_microsecond_ticks == 0 else sub_microsecond_ticks
        return _make(value, sub)

    @property
    def sub_microsecond_ticks(self) -> int:
        """The 100 ns ticks past the microsecond (0..9): the digit ``datetime`` lacks."""
        return self._sub

    @property
    def ticks(self) -> int:
        """.NET ``DateTime.Ticks`` of the wall-clock time: 100 ns units since 0001-01-01."""
        delta = self.replace(tzinfo=None) - _EPOCH
        return (
            (delta.days * 86_400 + delta.seconds) * _TICKS_PER_SECOND
            + delta.microseconds * 10
            + self._sub
        )

    def to_dotnet(self) -> str:
        """The text .NET would write for this value."""
        return format_timestamp(self)

    # -- equality and ordering include the extra digit ---------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, datetime):
            return datetime.__eq__(self, other) is True and self._sub == getattr(other, "_sub", 0)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        base = datetime.__hash__(self)
        return base if not self._sub else hash((base, self._sub))

    def _cmp(self, other: object) -> int | None:
        if not isinstance(other, datetime):
            return None
        if datetime.__lt__(self, other):
            return -1
        if datetime.__gt__(self, other):
            return 1
        return (self._sub > getattr(other, "_sub", 0)) - (self._sub < getattr(other, "_sub", 0))

    def __lt__(self, other: object) -> bool:
        c = self._cmp(other)
        return NotImplemented if c is None else c < 0

    def __le__(self, other: object) -> bool:
        c = self._cmp(other)
        return NotImplemented if c is None else c <= 0

    def __gt__(self, other: object) -> bool:
        c = self._cmp(other)
        return NotImplemented if c is None else c > 0

    def __ge__(self, other: object) -> bool:
        c = self._cmp(other)
        return NotImplemented if c is None else c >= 0

    # -- operations that would otherwise drop the extra digit ---------------------------

    def __add__(self, other: timedelta) -> Timestamp:
        result = datetime.__add__(self, other)
        if result is NotImplemented:
            return NotImplemented
        return _make(result, self._sub)

    __radd__ = __add__

    @overload  # type: ignore[override]
    def __sub__(self, other: timedelta) -> Timestamp: ...
    @overload
    def __sub__(self, other: datetime) -> timedelta: ...

    def __sub__(self, other: Any) -> Any:
        result = datetime.__sub__(self, other)
        if isinstance(result, datetime):
            return _make(result, self._sub)
        return result

    def replace(self, *args: Any, **kwargs: Any) -> Timestamp:
        """Like ``datetime.replace``; keeps the extra digit."""
        return _make(datetime.replace(self, *args, **kwargs), self._sub)

    def astimezone(self, tz: tzinfo | None = None) -> Timestamp:
        """Like ``datetime.astimezone``; keeps the extra digit."""
        return _make(datetime.astimezone(self, tz), self._sub)

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        return (_restore, (format_timestamp(self),))

    def __repr__(self) -> str:
        return f"Timestamp.parse({format_timestamp(self)!r})"

    def __str__(self) -> str:
        return format_timestamp(self)


def _make(value: datetime, sub: int) -> Timestamp:
    ts = Timestamp(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        value.tzinfo,
        fold=value.fold,
    )
    if sub:
        ts._sub = sub
    return ts


def _restore(text: str) -> Timestamp:
    return parse_timestamp(text)


_from_iso = Timestamp.fromisoformat
_OFFSETS_IN_RANGE: set[str] = set()  # offsets already checked, such as "+01:00"


def parse_timestamp(text: str) -> Timestamp:
    """Parse .NET's round-trip form (``Z``, an offset, or no suffix).

    Raises:
        ValueError: The text is not in that form or is not a real date.
    """
    m = _FORM.fullmatch(text)
    if m is None:
        raise ValueError(f"not a .NET round-trip date: {text[:64]!r}")
    frac, suffix = m.groups()
    if suffix is not None and suffix != "Z" and suffix not in _OFFSETS_IN_RANGE:
        hours, minutes = int(suffix[1:3]), int(suffix[4:6])
        if minutes > 59:
            raise ValueError(f"offset {suffix} is out of range: minutes stop at 59")
        offset = timedelta(hours=hours, minutes=minutes)
        problem = offset_problem(-offset if suffix[0] == "-" else offset)
        if problem is not None:
            raise ValueError(problem)
        _OFFSETS_IN_RANGE.add(suffix)  # at most 1,682 of them
    ts = _from_iso(text)  # Python 3.11 truncates past the 6th fractional digit
    if frac is not None and len(frac) == 7 and frac[6] != "0":
        ts._sub = ord(frac[6]) - 48
    if suffix == "+00:00" or suffix == "-00:00":
        ts = ts.replace(tzinfo=PLUS_ZERO)
    if (frac is None or frac[-1] != "0") and suffix != "-00:00":
        ts._text = text  # canonical: trailing zeros trimmed, "+00:00" not "-00:00"
    return ts


def format_timestamp(value: datetime) -> str:
    """Write a ``datetime`` as .NET does: up to 7 digits, trailing zeros trimmed.

    Raises:
        ValueError: The offset is not a whole number of minutes (.NET cannot hold it).
    """
    known: str | None = getattr(value, "_text", None)
    if known is not None:  # parsed from canonical text, and immutable since
        return known
    # datetime.isoformat (C) does the padding; only the fraction and the suffix differ.
    text = _isoformat(value)
    head = text[:19]
    micro = value.microsecond
    frac = micro * 10 + getattr(value, "_sub", 0)
    if frac:
        digits = f"{frac:07d}"
        head += "." + (digits if frac % 10 else digits.rstrip("0"))
    tz = value.tzinfo
    if tz is None:
        return head
    if tz is UTC:
        return head + "Z"
    offset = text[26:] if micro else text[19:]
    if not offset:
        return head
    if offset not in _OFFSETS_IN_RANGE:
        delta = value.utcoffset()
        assert delta is not None  # isoformat wrote one
        problem = offset_problem(delta)
        if problem is not None:
            raise ValueError(problem)
        _OFFSETS_IN_RANGE.add(offset)
    if offset == "+00:00" and tz is not PLUS_ZERO:
        return head + "Z"
    return head + offset


_isoformat = datetime.isoformat
