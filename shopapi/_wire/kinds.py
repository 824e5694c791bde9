"""One table of the field kinds: how each is validated, and read and written in JSON and XML.

:data:`KINDS` has one entry per :class:`~shopapi._wire.fields.Kind`. Validation and the
two codecs generate one function per model (a check, a writer, a reader) from source
lines, so that no value pays for a dispatch on its kind; each entry gives those lines
for its kind, and the small functions they call. A new kind is one new entry here (a
test checks that every kind has one) plus its declaration in :mod:`~shopapi._wire.fields`.

What the generators share with the entries:

* Lines are returned unindented; the generator indents them. They work on a variable
  (``v``) that holds the field's value, never ``None`` (the generator handles ``None``:
  null in JSON, nil or nothing in XML, "is required" when it must be set). Lines that
  read take ``w``, the source text of the wire name for errors.
* :class:`Gen` holds the generated function's namespace, and ``hook``: the function the
  generator has built for a nested model's class (its check, its writer, its reader).
* Written JSON values are what orjson writes, except a :class:`~decimal.Decimal`, which
  the JSON codec writes as Json.NET does (:func:`~shopapi._wire.decimals.decimal_json_text`).
* XML writers set ``v`` to the element, led by ``nl`` (a newline and indent when pretty,
  else empty), with text escaped by ``_esc``; XML readers get the element and call
  ``_text`` (element to text, ``None`` for nil) before parsing the text. Both helpers
  belong to the XML codec, which knows the document's escaping and markers.

This module is pure: no I/O, no format library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from .._exceptions import DecodeError, FieldError
from .codegen import compile_function
from .decimals import decimal_problem, decimal_text, dotnet_decimal
from .enums import enum_from_int, enum_from_name, enum_to_int, enum_to_name
from .fields import Kind, WireField, json_order
from .timestamps import (
    ACCEPTED_OFFSETS,
    PLUS_ZERO,
    Timestamp,
    format_timestamp,
    offset_problem,
    parse_timestamp,
)

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "JSON_MEDIA_TYPE",
    "KINDS",
    "NAIVE_MESSAGE",
    "XML_MEDIA_TYPE",
    "XSI",
    "XSI_NIL",
    "Gen",
    "KindRules",
    "describe_json",
    "is_nil",
    "json_bad",
    "json_timestamp",
    "utf16_length",
    "within",
]

Format = Literal["json", "xml"]

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
JSON_MEDIA_TYPE: Final = "application/json"
XML_MEDIA_TYPE: Final = "application/xml"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XSI_NIL: Final = f"{{{XSI}}}nil"

#: Why a naive ``datetime`` is refused, and what to send instead.
NAIVE_MESSAGE: Final = (
    "is a naive datetime (no tzinfo), which the server would read as its own local time; "
    "give it a time zone (datetime(..., tzinfo=timezone.utc)), or, to send a time of "
    "unspecified kind on purpose, pass Timestamp.from_datetime(value)"
)

_SURROGATE = re.compile("[\ud800-\udfff]")
_XML_INT = re.compile(r"[ \t\r\n]*[+-]?[0-9]+[ \t\r\n]*", re.ASCII)
# XmlConvert.ToDecimal: a sign, digits with one optional point, no exponent, XML spaces.
_XML_DECIMAL = re.compile(r"[ \t\r\n]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[ \t\r\n]*", re.ASCII)
_XML_BOOL = {"true": True, "1": True, "false": False, "0": False}
_XML_SPACE = " \t\r\n"


class Gen:
    """A generated function's namespace, and the generator's function for nested models.

    Args:
        ns: The namespace the function is compiled in; entries add their helpers to it.
        hook: For a model class, the function this generator builds for it (a nested
            model's check, writer or reader), built on first use.
    """

    def __init__(self, ns: dict[str, Any], hook: Callable[[type], Callable[..., Any]]) -> None:
        self.ns = ns
        self.hook = hook
        self._count = 0

    def add(self, prefix: str, value: object) -> str:
        """Put ``value`` in the namespace under a fresh name, and return the name."""
        self._count += 1
        name = f"_{prefix}{self._count}"
        self.ns[name] = value
        return name


def utf16_length(text: str) -> int:
    """The length .NET's ``MaxLength`` sees: UTF-16 code units, not code points.

    A code point past U+FFFF is two units; a lone surrogate is one, as in .NET. Encoding
    counts them in C, several times faster than a Python loop over a non-ASCII name.
    """
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) >> 1


def within(error: DecodeError, prefix: str) -> DecodeError:
    """The same error, with the path of its container in front of its field.

    ``BillTo`` + ``City`` is ``BillTo.City``; ``OrderRows[2]`` + ``Quantity`` is
    ``OrderRows[2].Quantity``; ``[3]`` + ``Id`` is ``[3].Id``.
    """
    inner = error.field
    if not inner:
        field = prefix
    elif inner.startswith("["):
        field = prefix + inner
    else:
        field = f"{prefix}.{inner}" if prefix else inner
    return DecodeError(
        error.reason, media_type=error.media_type, field=field, position=error.position
    )


# -- what the generated readers call ---------------------------------------------------------

_JSON_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    Decimal: "a number",
    bool: "a boolean",
    type(None): "null",
}


def describe_json(value: object) -> str:
    """What a parsed JSON value is, in JSON's words (``an object``, ``null``)."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def json_bad(wire: str, expected: str, value: object) -> DecodeError:
    """A JSON value of the wrong type."""
    return DecodeError(
        f"expected {expected}, got {describe_json(value)}", media_type=JSON_MEDIA_TYPE, field=wire
    )


def _json_out_of_range(wire: str, value: int) -> DecodeError:
    return DecodeError(
        f"{value} is outside the 32-bit range of a .NET int",
        media_type=JSON_MEDIA_TYPE,
        field=wire,
    )


def json_timestamp(value: object, wire: str = "<date>") -> Timestamp:
    """A JSON date string, read as :func:`~shopapi._wire.timestamps.parse_timestamp` reads it."""
    if type(value) is not str:
        raise json_bad(wire, "a date string", value)
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise DecodeError(str(exc), media_type=JSON_MEDIA_TYPE, field=wire) from None


def _json_enum(enum_cls: Any, value: object, wire: str) -> Any:
    if type(value) is int:
        if not INT32_MIN <= value <= INT32_MAX:
            raise _json_out_of_range(wire, value)
        return enum_from_int(enum_cls, value)
    if type(value) is str:
        # Json.NET reads enum names too (case-insensitively); the server writes integers,
        # so a name this client does not know cannot be written back and is refused.
        try:
            return enum_from_name(enum_cls, value, keep_unknown=False)
        except ValueError as exc:
            raise DecodeError(str(exc), media_type=JSON_MEDIA_TYPE, field=wire) from None
    raise json_bad(wire, f"a {enum_cls.__name__} integer", value)


def _read_decimal(value: Decimal, wire: str, media_type: str) -> Decimal:
    try:
        return dotnet_decimal(value)
    except ValueError as exc:
        raise DecodeError(str(exc), media_type=media_type, field=wire) from None


def _json_decimal(value: object, wire: str) -> Decimal:
    # Only an exact reading reaches here: the codec parses numbers as Decimal (never as a
    # float) for any model with a decimal field.
    if type(value) is Decimal:
        return _read_decimal(value, wire, JSON_MEDIA_TYPE)
    if type(value) is int:
        return _read_decimal(Decimal(value), wire, JSON_MEDIA_TYPE)
    raise json_bad(wire, "a number or null", value)


def _xml_bad(wire: str, message: str) -> DecodeError:
    return DecodeError(message, media_type=XML_MEDIA_TYPE, field=wire)


def _xml_int(t: str | None, wire: str) -> int | None:
    if t is None:
        return None
    if len(t) > 64:  # also keeps int() clear of Python's 4300-digit guard
        raise _xml_bad(wire, f"integer of {len(t)} characters is out of range")
    if _XML_INT.fullmatch(t) is None:
        raise _xml_bad(wire, f"expected an integer, got {t[:40]!r}")
    value = int(t)
    if not INT32_MIN <= value <= INT32_MAX:  # the server's integers are .NET ints
        raise _xml_bad(wire, f"{value} is outside the 32-bit range of a .NET int")
    return value


def _xml_coded(enum_cls: Any, t: str | None, wire: str) -> Any:
    value = _xml_int(t, wire)
    return None if value is None else enum_from_int(enum_cls, value)


def _coded_int(value: object, wire: str) -> int:
    """For the writers: a coded value's integer (a member's, or the int kept as read)."""
    if type(value) is bool or not isinstance(value, int):
        raise TypeError(wire)
    return int(value)


def _xml_bool(t: str | None, wire: str) -> bool | None:
    if t is None:
        return None
    value = _XML_BOOL.get(t.strip(_XML_SPACE))
    if value is None:
        raise _xml_bad(wire, f"expected true or false, got {t[:40]!r}")
    return value


def _xml_timestamp(t: str | None, wire: str) -> Timestamp | None:
    if t is None:
        return None
    try:
        return parse_timestamp(t.strip(_XML_SPACE))
    except ValueError as exc:
        raise _xml_bad(wire, str(exc)) from None


def _xml_enum(enum_cls: Any, t: str | None, wire: str) -> Any:
    if t is None or not t.strip():
        raise _xml_bad(wire, f"expected a {enum_cls.__name__} name")
    # A name this client does not know is kept as a str and written back unchanged.
    return enum_from_name(enum_cls, t)


def _xml_decimal(t: str | None, wire: str) -> Decimal | None:
    if t is None:
        return None
    if len(t) > 128:
        raise _xml_bad(wire, f"decimal of {len(t)} characters is out of range")
    if _XML_DECIMAL.fullmatch(t) is None:
        raise _xml_bad(wire, f"expected a decimal number, got {t[:40]!r}")
    try:
        value = Decimal(t.strip(_XML_SPACE))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise _xml_bad(wire, f"expected a decimal number, got {t[:40]!r}") from None
    return _read_decimal(value, wire, XML_MEDIA_TYPE)


def is_nil(el: Any) -> bool:
    """Whether an lxml element says ``xsi:nil`` (``true`` or ``1``, as XML Schema allows)."""
    nil: str | None = el.get(XSI_NIL)
    return nil == "true" or nil == "1"


def _check_decimal(value: Decimal) -> None:
    """For the writers: refuse what .NET cannot hold (validation then says why)."""
    problem = decimal_problem(value)
    if problem is not None:
        raise ValueError(problem)


# -- the entries -----------------------------------------------------------------------------


def _indent(lines: list[str], depth: int = 1) -> list[str]:
    pad = "    " * depth
    return [pad + line for line in lines]


class KindRules:
    """What one kind of field does in validation, JSON and XML (see the module docstring).

    Attributes:
        kind: The kind.
        xml_item: XmlSerializer's element name for a list member of this kind.
        reference: A .NET reference type (string, class, list): XmlSerializer leaves a
            null out, where it writes ``xsi:nil`` for a null ``Nullable<T>``.
        json_refuses_null: Writing ``None`` as JSON is refused (an enum has no null).
    """

    kind: Kind
    xml_item: str = ""
    reference: bool = False
    json_refuses_null: bool = False

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        """What is wrong with a non-``None`` value: ``(path below the field, message)``."""
        raise NotImplementedError

    def nests(self, f: WireField) -> type | None:
        """The model class a field of this kind holds (a nested model, a list's member)."""
        return None

    def json_exact(self, f: WireField) -> bool:
        """Whether the field's JSON numbers must be read exactly (never as floats)."""
        return False

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        """Lines that ``return False`` when the value breaks a format-independent rule."""
        raise NotImplementedError

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        """Lines that turn the value into what orjson writes (or raise, for the explainer)."""
        raise NotImplementedError

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        """Lines that turn a parsed JSON value into the field's value, or raise DecodeError."""
        raise NotImplementedError

    def json_fast_type(self, f: WireField) -> Any | None:
        """The fast JSON reader's type (``str``, ``bool``, or ``int``, which it bounds to
        int32), or ``None``: no fast path for the model."""
        return None

    def json_fast_read(self, f: WireField, v: str, g: Gen) -> list[str]:
        """Lines that turn the fast reader's (type-checked) value into the field's value."""
        return []

    def xml_write(self, f: WireField, v: str, tag: str, g: Gen) -> list[str]:
        """Lines that turn the value into its element ``<tag>...</tag>``, led by ``nl``."""
        raise NotImplementedError

    def xml_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        """Lines that turn the element into the field's value (``None`` for nil)."""
        raise NotImplementedError


#: ``errors_of(model, fmt)``: every error of a nested model (validation's own function).
ErrorsOf = Callable[[object, "Format | None"], list[FieldError]]


def _type_check(v: str, py: str, tag: str) -> str:
    return f"if type({v}) is not {py}: raise TypeError({tag!r})"


def _element(tag: str, text: str) -> str:
    return f"nl + '<{tag}>' + {text} + '</{tag}>'"


class _Str(KindRules):
    kind = Kind.STR
    xml_item = "string"
    reference = True

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        if not isinstance(value, str):
            return [("", f"must be a string, not {type(value).__name__}")]
        if _SURROGATE.search(value):
            return [("", "holds a lone surrogate, which no UTF-8 body can carry")]
        if f.max_length is not None and (n := utf16_length(value)) > f.max_length:
            return [("", f"is {n} characters long; the maximum is {f.max_length}")]
        # A character XML 1.0 forbids is no error even for XML: the codec writes it as
        # a character reference, which ASP.NET's XML formatter reads back.
        return []

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        lines = [f"if not isinstance({v}, str): return False"]
        if f.max_length is not None:
            m = f.max_length
            g.ns["_u16"] = utf16_length
            # A code point is at most two UTF-16 units: only a string longer than half
            # the limit can pass it without passing it in code points.
            lines.append(
                f"if len({v}) > {m} or (len({v}) > {m // 2} and not {v}.isascii() "
                f"and _u16({v}) > {m}): return False"
            )
        return lines

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        return [_type_check(v, "str", f.wire)]

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        g.ns["_bad"] = json_bad
        return [f"if type({v}) is not str: raise _bad({w}, 'a string or null', {v})"]

    def json_fast_type(self, f: WireField) -> Any:
        return str

    def xml_write(self, f: WireField, v: str, tag: str, g: Gen) -> list[str]:
        return [
            _type_check(v, "str", tag),
            f"{v} = {_element(tag, f'_esc({v})')} if {v} else nl + '<{tag} />'",
        ]

    def xml_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        return [f"{v} = _text({v}, {w})"]


class _Scalar(KindRules):
    """A .NET value type whose text one function reads: int, bool, date, decimal."""

    py = ""  # the Python type's name in the namespace
    xml_reader: Callable[..., Any]

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        return [_type_check(v, self.py, f.wire)]

    def xml_text(self, f: WireField, v: str, g: Gen) -> str:
        raise NotImplementedError

    def xml_write(self, f: WireField, v: str, tag: str, g: Gen) -> list[str]:
        return [_type_check(v, self.py, tag), f"{v} = {_element(tag, self.xml_text(f, v, g))}"]

    def xml_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        reader = g.add("read", self.xml_reader)
        return [f"{v} = {reader}(_text({v}, {w}), {w})"]


class _Int(_Scalar):
    kind = Kind.INT
    xml_item = "int"
    py = "int"
    xml_reader = staticmethod(_xml_int)

    def expected(self, f: WireField) -> str:
        """What a wrong type's message says the field takes."""
        return "an int"

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        if type(value) is bool or not isinstance(value, int):
            return [("", f"must be {self.expected(f)}, not {type(value).__name__}")]
        if not INT32_MIN <= value <= INT32_MAX:
            return [("", f"{value} is outside the 32-bit range of a .NET int")]
        return []

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        return [f"if type({v}) is not int or not {INT32_MIN} <= {v} <= {INT32_MAX}: return False"]

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        g.ns["_bad"] = json_bad
        g.ns["_out_of_range"] = _json_out_of_range
        # The server's integers are .NET ints: a value outside int32 is no answer it can
        # give, and could not be written back.
        return [
            f"if type({v}) is not int: raise _bad({w}, 'an integer or null', {v})",
            f"if not {INT32_MIN} <= {v} <= {INT32_MAX}: raise _out_of_range({w}, {v})",
        ]

    def json_fast_type(self, f: WireField) -> Any:
        return int  # the codec bounds it to int32

    def xml_text(self, f: WireField, v: str, g: Gen) -> str:
        return f"str({v})"


class _Coded(_Int):
    """A .NET ``int`` whose values the pages name: an open IntEnum in Python.

    Unlike a .NET enum (a name in XML), the property is an ``int``, so both serializers
    write the digits. Read, a named value becomes its member and any other int32 stays
    a plain ``int``, written back unchanged (as :class:`_Enum` keeps an unknown integer);
    written, a member or an ``int`` is its integer.
    """

    kind = Kind.CODED

    def expected(self, f: WireField) -> str:
        assert f.enum is not None
        return f"a {f.enum.__name__} or an int"

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        return [
            f"if type({v}) is not int and (type({v}) is bool or not isinstance({v}, int)):",
            "    return False",
            f"if not {INT32_MIN} <= {v} <= {INT32_MAX}: return False",
        ]

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        # orjson writes an IntEnum member as its integer: only another type is converted.
        e = g.add("E", f.enum)
        g.ns["_coded_int"] = _coded_int
        return [
            f"if type({v}) is not int and type({v}) is not {e}: {v} = _coded_int({v}, {f.wire!r})"
        ]

    def _member(self, f: WireField, v: str, g: Gen) -> str:
        # The member map's get, inlined: a named value's member, else the int itself.
        assert f.enum is not None
        members = g.add("members", f.enum._value2member_map_)
        return f"{v} = {members}.get({v}, {v})"

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        return [*super().json_read(f, v, w, g), self._member(f, v, g)]

    def json_fast_read(self, f: WireField, v: str, g: Gen) -> list[str]:
        return [self._member(f, v, g)]

    def xml_write(self, f: WireField, v: str, tag: str, g: Gen) -> list[str]:
        # An IntEnum's str() is its digits (Python 3.11's ReprEnum), as an int's is.
        e = g.add("E", f.enum)
        g.ns["_coded_int"] = _coded_int
        return [
            f"if type({v}) is not int and type({v}) is not {e}: {v} = _coded_int({v}, {tag!r})",
            f"{v} = {_element(tag, f'str({v})')}",
        ]

    def xml_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        e = g.add("E", f.enum)
        g.ns["_xml_coded"] = _xml_coded
        return [f"{v} = _xml_coded({e}, _text({v}, {w}), {w})"]


class _Bool(_Scalar):
    kind = Kind.BOOL
    xml_item = "boolean"
    py = "bool"
    xml_reader = staticmethod(_xml_bool)

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        if not isinstance(value, bool):
            return [("", f"must be a bool, not {type(value).__name__}")]
        return []

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        return [f"if type({v}) is not bool: return False"]

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        g.ns["_bad"] = json_bad
        return [f"if type({v}) is not bool: raise _bad({w}, 'a boolean or null', {v})"]

    def json_fast_type(self, f: WireField) -> Any:
        return bool

    def xml_text(self, f: WireField, v: str, g: Gen) -> str:
        return f"('true' if {v} else 'false')"


class _Timestamp(_Scalar):
    kind = Kind.TIMESTAMP
    xml_item = "dateTime"
    xml_reader = staticmethod(_xml_timestamp)

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        if not isinstance(value, datetime):
            return [("", f"must be a datetime, not {type(value).__name__}")]
        try:
            offset = value.utcoffset()
        except Exception as exc:  # noqa: BLE001 - a user's tzinfo may raise anything: named below
            return [("", f"its tzinfo's utcoffset() raised {type(exc).__name__}: {exc}")]
        if offset is None and not isinstance(value, Timestamp):
            return [("", NAIVE_MESSAGE)]
        if offset is not None and (problem := offset_problem(offset)) is not None:
            return [("", problem)]
        return []

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        g.ns.update(
            _datetime=datetime,
            _Timestamp=Timestamp,
            _utc=UTC,
            _plus_zero=PLUS_ZERO,
            _offset_problem=offset_problem,
            _accepted=ACCEPTED_OFFSETS,
        )
        # A naive value is a Timestamp of unspecified kind on purpose (read from the
        # wire, or wrapped by the caller), never a plain naive datetime. A user's tzinfo
        # may raise: that is a "no" here, which the explainer explains.
        return [
            f"if not isinstance({v}, _datetime): return False",
            f"if {v}.tzinfo is None:",
            f"    if not isinstance({v}, _Timestamp): return False",
            f"elif {v}.tzinfo is not _utc and {v}.tzinfo is not _plus_zero:",
            "    try:",
            f"        _off = {v}.utcoffset()",
            "    except Exception:",
            "        return False",
            "    if _off is None:",
            f"        if not isinstance({v}, _Timestamp): return False",
            "    elif _off not in _accepted and _offset_problem(_off) is not None:",
            "        return False",
        ]

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        g.ns["_fmt"] = format_timestamp
        return [f"{v} = _fmt({v})"]

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        g.ns["_ts"] = json_timestamp
        return [f"{v} = _ts({v}, {w})"]

    def json_fast_type(self, f: WireField) -> Any:
        return str  # parsed by parse_timestamp, which keeps the 7th digit

    def json_fast_read(self, f: WireField, v: str, g: Gen) -> list[str]:
        g.ns["_ts"] = json_timestamp
        return [f"{v} = _ts({v}, {f.wire!r})"]

    def xml_write(self, f: WireField, v: str, tag: str, g: Gen) -> list[str]:
        g.ns["_datetime"] = datetime
        g.ns["_fmt"] = format_timestamp
        return [
            f"if not isinstance({v}, _datetime): raise TypeError({tag!r})",
            f"{v} = {_element(tag, f'_fmt({v})')}",
        ]


class _Decimal(_Scalar):
    kind = Kind.DECIMAL
    xml_item = "decimal"
    py = "_Decimal"
    xml_reader = staticmethod(_xml_decimal)

    def json_exact(self, f: WireField) -> bool:
        return True

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        if type(value) is not Decimal:
            return [("", f"must be a Decimal, not {type(value).__name__}")]
        problem = decimal_problem(value)
        return [] if problem is None else [("", problem)]

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        g.ns.update(_Decimal=Decimal, _decimal_problem=decimal_problem)
        return [
            f"if type({v}) is not _Decimal: return False",
            f"if _decimal_problem({v}) is not None: return False",
        ]

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        # Left a Decimal: the JSON codec writes its text (orjson has no decimals).
        g.ns.update(_Decimal=Decimal, _check_decimal=_check_decimal)
        return [_type_check(v, "_Decimal", f.wire), f"_check_decimal({v})"]

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        g.ns["_dec"] = _json_decimal
        return [f"{v} = _dec({v}, {w})"]

    def xml_text(self, f: WireField, v: str, g: Gen) -> str:
        g.ns.update(_Decimal=Decimal, _decimal_text=decimal_text)
        return f"_decimal_text({v})"


class _Enum(KindRules):
    kind = Kind.ENUM
    json_refuses_null = True

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        assert f.enum is not None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return [("", f"must be a {f.enum.__name__}, int or str, not {type(value).__name__}")]
        if (
            isinstance(value, int)
            and not isinstance(value, f.enum)
            and not INT32_MIN <= value <= INT32_MAX
        ):
            return [("", f"{value} is outside the 32-bit range of a .NET enum")]
        try:
            if fmt == "xml":
                enum_to_name(f.enum, value)
            elif fmt == "json":
                enum_to_int(f.enum, value)
        except ValueError as exc:
            return [("", str(exc))]
        return []

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        return [
            f"if isinstance({v}, bool): return False",
            f"if isinstance({v}, int):",
            f"    if not {INT32_MIN} <= {v} <= {INT32_MAX}: return False",
            f"elif not isinstance({v}, str): return False",
        ]

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        e = g.add("E", f.enum)
        g.ns["_enum_int"] = enum_to_int
        return [f"if type({v}) is not int and type({v}) is not {e}: {v} = _enum_int({e}, {v})"]

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        e = g.add("E", f.enum)
        g.ns["_enum"] = _json_enum
        return [f"{v} = _enum({e}, {v}, {w})"]

    def json_fast_type(self, f: WireField) -> Any:
        return int  # int32; names take the reference path, which reads them

    def json_fast_read(self, f: WireField, v: str, g: Gen) -> list[str]:
        e = g.add("E", f.enum)
        g.ns["_enum_from_int"] = enum_from_int
        return [f"{v} = _enum_from_int({e}, {v})"]

    def xml_write(self, f: WireField, v: str, tag: str, g: Gen) -> list[str]:
        e = g.add("E", f.enum)
        g.ns["_name"] = enum_to_name
        return [f"{v} = {_element(tag, f'_name({e}, {v})')}"]

    def xml_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        e = g.add("E", f.enum)
        g.ns["_enum"] = _xml_enum
        return [f"{v} = _enum({e}, _text({v}, {w}), {w})"]


class _Model(KindRules):
    kind = Kind.MODEL
    reference = True

    def nests(self, f: WireField) -> type | None:
        return f.model

    def json_exact(self, f: WireField) -> bool:
        assert f.model is not None
        return any(KINDS[g.kind].json_exact(g) for g in json_order(f.model))

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        assert f.model is not None
        if type(value) is not f.model:
            return [("", f"must be a {f.model.__name__}, not {type(value).__name__}")]
        return [(f".{e.field}", e.message) for e in errors_of(value, fmt)]

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        assert f.model is not None
        m, check = g.add("M", f.model), g.add("valid", g.hook(f.model))
        return [f"if type({v}) is not {m} or not {check}({v}): return False"]

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        assert f.model is not None
        m, sub = g.add("M", f.model), g.add("write", g.hook(f.model))
        return [_type_check(v, m, f.wire or "<item>"), f"{v} = {sub}({v})"]

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        assert f.model is not None
        sub = g.add("read", g.hook(f.model))
        g.ns.update(_DecodeError=DecodeError, _within=within)
        return [
            "try:",
            f"    {v} = {sub}({v})",
            "except _DecodeError as _e:",
            f"    raise _within(_e, {w}) from None",
        ]

    def xml_write(self, f: WireField, v: str, tag: str, g: Gen) -> list[str]:
        assert f.model is not None
        m, sub = g.add("M", f.model), g.add("write", g.hook(f.model))
        return [
            _type_check(v, m, tag),
            f"{v} = {sub}({v}, nl + '  ' if nl else '')",
            f"{v} = nl + '<{tag}>' + {v} + nl + '</{tag}>' if {v} else nl + '<{tag} />'",
        ]

    def xml_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        assert f.model is not None
        sub = g.add("read", g.hook(f.model))
        g.ns.update(_DecodeError=DecodeError, _within=within, _is_nil=is_nil)
        return [
            f"if _is_nil({v}): {v} = None",
            "else:",
            "    try:",
            f"        {v} = {sub}({v})",
            "    except _DecodeError as _e:",
            f"        raise _within(_e, {w}) from None",
        ]


def _item_of(f: WireField) -> tuple[WireField, KindRules]:
    assert f.item is not None
    return f.item, KINDS[f.item.kind]


def _item_tag(item: WireField) -> str:
    if item.kind is Kind.MODEL:
        assert item.model is not None
        return item.model.__name__.lstrip("_")
    return KINDS[item.kind].xml_item


class _List(KindRules):
    """A ``List<T>``: a tuple in Python, an array in JSON, ``<T>`` members in XML.

    Each operation compiles one small function per list field from the member kind's
    own lines, so a member is checked, written and read exactly as a field of its kind.
    A member may be ``None`` only in a list of strings, as in .NET's ``List<string>``.
    """

    kind = Kind.LIST
    reference = True

    def nests(self, f: WireField) -> type | None:
        item, rules = _item_of(f)
        return rules.nests(item)

    def json_exact(self, f: WireField) -> bool:
        item, rules = _item_of(f)
        return rules.json_exact(item)

    def problem(
        self, f: WireField, value: object, fmt: Format | None, errors_of: ErrorsOf
    ) -> list[tuple[str, str]]:
        item, rules = _item_of(f)
        if not isinstance(value, (tuple, list)):
            return [("", f"must be a tuple, not {type(value).__name__}")]
        out = []
        for i, x in enumerate(value):
            if x is None:
                if not item.nullable:
                    out.append((f"[{i}]", "is None, which this list cannot hold"))
                continue
            out.extend((f"[{i}]{path}", m) for path, m in rules.problem(item, x, fmt, errors_of))
        return out

    def _compile(self, name: str, args: str, body: list[str], g: Gen) -> str:
        source = "\n".join([f"def {name}({args}):", *_indent(body)]) + "\n"
        return g.add(name, compile_function(name, source, g.ns))

    def valid(self, f: WireField, v: str, g: Gen) -> list[str]:
        item, rules = _item_of(f)
        none = "continue" if item.nullable else "return False"
        body = ["for x in xs:", f"    if x is None: {none}", *_indent(rules.valid(item, "x", g))]
        fn = self._compile("valid_items", "xs", [*body, "return True"], g)
        return [
            f"if type({v}) is not tuple and type({v}) is not list: return False",
            f"if not {fn}({v}): return False",
        ]

    def json_write(self, f: WireField, v: str, g: Gen) -> list[str]:
        item, rules = _item_of(f)
        none = "return None" if item.nullable else f"raise TypeError({f.wire!r})"
        body = ["if x is None:", f"    {none}", *rules.json_write(item, "x", g), "return x"]
        fn = self._compile("write_item", "x", body, g)
        return [
            f"if type({v}) is not tuple and type({v}) is not list: raise TypeError({f.wire!r})",
            f"{v} = [{fn}(x) for x in {v}]",
        ]

    def json_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        item, rules = _item_of(f)
        g.ns.update(_bad=json_bad, _DecodeError=DecodeError, _within=within, _MTJ=JSON_MEDIA_TYPE)
        null = (
            "out.append(None)"
            if item.nullable
            else "raise _DecodeError('is null, which this list cannot hold', media_type=_MTJ)"
        )
        body = [
            "out = []",
            "for x in xs:",
            "    try:",
            "        if x is None:",
            f"            {null}",
            "            continue",
            *_indent(rules.json_read(item, "x", "''", g), 2),
            "    except _DecodeError as _e:",
            "        raise _within(_e, f'{w}[{len(out)}]') from None",
            "    out.append(x)",
            "return tuple(out)",
        ]
        fn = self._compile("read_items", "xs, w", body, g)
        return [
            f"if type({v}) is not list: raise _bad({w}, 'an array or null', {v})",
            f"{v} = {fn}({v}, {w})",
        ]

    def xml_write(self, f: WireField, v: str, tag: str, g: Gen) -> list[str]:
        item, rules = _item_of(f)
        member = _item_tag(item)
        none = (
            f"return nl + '<{member} xsi:nil=\"true\" />'"
            if item.nullable
            else f"raise TypeError({f.wire!r})"
        )
        body = ["if x is None:", f"    {none}", *rules.xml_write(item, "x", member, g), "return x"]
        fn = self._compile("write_item", "x, nl", body, g)
        return [
            f"if type({v}) is not tuple and type({v}) is not list: raise TypeError({tag!r})",
            "_inl = nl + '  ' if nl else ''",
            f"{v} = nl + '<{tag}>' + ''.join([{fn}(x, _inl) for x in {v}]) + nl + '</{tag}>'"
            f" if {v} else nl + '<{tag} />'",
        ]

    def xml_read(self, f: WireField, v: str, w: str, g: Gen) -> list[str]:
        item, rules = _item_of(f)
        member = _item_tag(item)
        g.ns.update(_DecodeError=DecodeError, _within=within, _MTX=XML_MEDIA_TYPE, _is_nil=is_nil)
        null = (
            "out.append(None)"
            if item.nullable
            else "raise _DecodeError('is nil, which this list cannot hold', media_type=_MTX)"
        )
        # XmlSerializer skips members of another name, as this does.
        body = [
            "if _is_nil(el): return None",
            "out = []",
            "for x in el:",
            f"    if x.tag != {member!r}: continue",
            "    try:",
            *_indent(rules.xml_read(item, "x", "''", g), 2),
            "        if x is None:",
            f"            {null}",
            "            continue",
            "    except _DecodeError as _e:",
            "        raise _within(_e, f'{w}[{len(out)}]') from None",
            "    out.append(x)",
            "return tuple(out)",
        ]
        fn = self._compile("read_items", "el, w", body, g)
        return [f"{v} = {fn}({v}, {w})"]


#: The kinds, one entry each: the only place that says what a kind does.
KINDS: Final[Mapping[Kind, KindRules]] = {
    rules.kind: rules
    for rules in (
        _Str(),
        _Int(),
        _Coded(),
        _Bool(),
        _Timestamp(),
        _Decimal(),
        _Enum(),
        _Model(),
        _List(),
    )
}
