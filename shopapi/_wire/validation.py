"""Checking a model against the help page's constraints before anything is sent.

The server would refuse these with a 400 after a round trip, or worse, an XML body
could not even be written. Checking first reports every offending field at once, by its
wire name, and costs no request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from .._exceptions import FieldError, ValidationError
from .fields import Kind, WireField, xml_order
from .timestamps import MAX_OFFSET, PLUS_ZERO, Timestamp

__all__ = ["field_errors", "is_valid", "utf16_length", "validate"]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

#: Characters XML 1.0 cannot carry (its ``Char`` production, negated).
XML_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

Format = Literal["json", "xml"]

#: Why a naive ``datetime`` is refused, and what to send instead.
NAIVE_MESSAGE = (
    "is a naive datetime (no tzinfo), which the server would read as its own local time; "
    "give it a time zone (datetime(..., tzinfo=timezone.utc)), or, to send a time of "
    "unspecified kind on purpose, pass Timestamp.from_datetime(value)"
)


def utf16_length(text: str) -> int:
    """The length .NET's ``MaxLength`` sees: UTF-16 code units, not code points.

    A code point past U+FFFF is two units; a lone surrogate is one, as in .NET. Encoding
    counts them in C, several times faster than a Python loop over a non-ASCII name.
    """
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) >> 1


def _check_field(f: WireField, value: object, fmt: Format | None) -> str | None:
    if value is None:
        if f.required:
            return "is required"
        return None
    kind = f.kind
    if kind is Kind.STR:
        if not isinstance(value, str):
            return f"must be a string, not {type(value).__name__}"
        if _SURROGATE.search(value):
            return "holds a lone surrogate, which no UTF-8 body can carry"
        if f.max_length is not None and (n := utf16_length(value)) > f.max_length:
            return f"is {n} characters long; the maximum is {f.max_length}"
        # A character XML 1.0 forbids is no error even for XML: the codec writes it as
        # a character reference, which ASP.NET's XML formatter reads back.
    elif kind is Kind.INT:
        if type(value) is bool or not isinstance(value, int):
            return f"must be an int, not {type(value).__name__}"
        if not INT32_MIN <= value <= INT32_MAX:
            return f"{value} is outside the 32-bit range of a .NET int"
    elif kind is Kind.BOOL:
        if not isinstance(value, bool):
            return f"must be a bool, not {type(value).__name__}"
    elif kind is Kind.TIMESTAMP:
        if not isinstance(value, datetime):
            return f"must be a datetime, not {type(value).__name__}"
        try:
            offset = value.utcoffset()
        except Exception as exc:  # noqa: BLE001 - a user's tzinfo may raise anything: named below
            return f"its tzinfo's utcoffset() raised {type(exc).__name__}: {exc}"
        if offset is None and not isinstance(value, Timestamp):
            return NAIVE_MESSAGE
        if offset is not None and (offset.seconds % 60 or offset.microseconds):
            return f"has offset {offset}; .NET offsets are whole minutes"
        if offset is not None and abs(offset) > MAX_OFFSET:
            return f"has offset {offset}, beyond .NET's range of -14:00 to +14:00"
    elif kind is Kind.ENUM:
        assert f.enum is not None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return f"must be a {f.enum.__name__}, int or str, not {type(value).__name__}"
        if isinstance(value, int) and not isinstance(value, f.enum):
            if not INT32_MIN <= value <= INT32_MAX:
                return f"{value} is outside the 32-bit range of a .NET enum"
            if fmt == "xml" and value not in f.enum._value2member_map_:
                return (
                    f"{value} is a {f.enum.__name__} value unknown to this client, "
                    "so its XML name is unknown"
                )
        if isinstance(value, str) and fmt == "json" and value not in f.enum.__members__:
            return (
                f"{value!r} is a {f.enum.__name__} name unknown to this client, "
                "so its JSON integer is unknown"
            )
    return None


def field_errors(obj: object, *, fmt: Format | None = None) -> list[FieldError]:
    """Every constraint ``obj`` breaks, in wire (XML) order; empty when it is valid.

    Args:
        obj: A model instance.
        fmt: Also check what only one format cannot carry: ``"xml"`` (enum integers
            without a known name) or ``"json"`` (enum names without a known integer).
    """
    errors = []
    cls: type = type(obj)
    for f in xml_order(cls):
        message = _check_field(f, getattr(obj, f.name), fmt)
        if message is not None:
            errors.append(FieldError(f.wire, message))
    return errors


def _compile_is_valid(cls: type) -> Callable[[Any], bool]:
    """Generate a check of every format-independent rule, with no per-field dispatch.

    It answers only yes or no, for the hot path; :func:`field_errors` explains a no.
    Unlike :func:`field_errors` it skips the lone-surrogate scan: no format can carry
    one, so the encoders fail on it anyway (as on XML's illegal characters and unknown
    enum mappings), and the hot path need not scan every string twice.
    """
    from ..codecs._base import compile_function

    ns: dict[str, Any] = {"_u16": utf16_length, "_datetime": datetime, "_Timestamp": Timestamp}
    ns.update({"_utc": UTC, "_plus_zero": PLUS_ZERO, "_max_offset": MAX_OFFSET})
    lo, hi = INT32_MIN, INT32_MAX
    lines = ["def is_valid(o):"]
    for i, f in enumerate(xml_order(cls)):
        v = f"v{i}"
        lines.append(f"    {v} = o.{f.name}")
        none_ok = "False" if f.required else "True"
        lines.append(f"    if {v} is None:")
        lines.append(f"        if not {none_ok}: return False")
        if f.kind is Kind.STR:
            lines.append(f"    elif not isinstance({v}, str): return False")
            if f.max_length is not None:
                m = f.max_length
                # A code point is at most two UTF-16 units: only a string longer than
                # half the limit can pass it without passing it in code points.
                lines.append(
                    f"    elif len({v}) > {m} or (len({v}) > {m // 2} and not {v}.isascii() "
                    f"and _u16({v}) > {m}): return False"
                )
        elif f.kind is Kind.INT:
            lines.append(f"    elif type({v}) is not int or not {lo} <= {v} <= {hi}: return False")
        elif f.kind is Kind.BOOL:
            lines.append(f"    elif type({v}) is not bool: return False")
        elif f.kind is Kind.TIMESTAMP:
            # A naive value is a Timestamp of unspecified kind on purpose (read from the
            # wire, or wrapped by the caller), never a plain naive datetime. A user's
            # tzinfo may raise: that is a "no" here, which field_errors explains.
            lines.append(f"    elif not isinstance({v}, _datetime): return False")
            lines.append(f"    elif {v}.tzinfo is None:")
            lines.append(f"        if not isinstance({v}, _Timestamp): return False")
            lines.append(f"    elif {v}.tzinfo is not _utc and {v}.tzinfo is not _plus_zero:")
            lines.append("        try:")
            lines.append(f"            _off = {v}.utcoffset()")
            lines.append("        except Exception:")
            lines.append("            return False")
            lines.append("        if _off is None:")
            lines.append(f"            if not isinstance({v}, _Timestamp): return False")
            lines.append(
                "        elif _off.seconds % 60 or _off.microseconds or abs(_off) > _max_offset:"
            )
            lines.append("            return False")
        else:  # ENUM
            lines.append(f"    elif isinstance({v}, bool): return False")
            lines.append(f"    elif isinstance({v}, int):")
            lines.append(f"        if not {lo} <= {v} <= {hi}: return False")
            lines.append(f"    elif not isinstance({v}, str): return False")
    lines.append("    return True")
    return compile_function("is_valid", "\n".join(lines) + "\n", ns)


_IS_VALID: dict[type, Callable[[Any], bool]] = {}


def is_valid(obj: object) -> bool:
    """Whether ``obj`` passes :func:`field_errors` with no format (fast, generated)."""
    cls = type(obj)
    check = _IS_VALID.get(cls)
    if check is None:
        check = _IS_VALID[cls] = _compile_is_valid(cls)
    return check(obj)


def validate(obj: object, *, fmt: Format | None = None) -> None:
    """Raise :class:`ValidationError` naming every field of ``obj`` that breaks a rule.

    Args:
        obj: A model instance.
        fmt: As for :func:`field_errors`.

    Raises:
        ValidationError: At least one field is invalid.
    """
    errors = field_errors(obj, fmt=fmt)
    if errors:
        raise ValidationError(errors, type_name=type(obj).__name__)
