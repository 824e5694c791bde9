""".NET's ``decimal``: what it can hold, and how Json.NET and XmlSerializer write it.

A .NET decimal is a 96-bit integer coefficient and a scale of 0 to 28 decimal places,
and it keeps its scale: ``12.50`` stays ``12.50`` through both serializers, where a
float would give ``12.5``. Python's :class:`~decimal.Decimal` keeps it too, so the
model holds exactly what the server sent, as long as nothing reads it through a float.

Measured on Mono (Json.NET 6.0.8, XmlSerializer): neither writes an exponent; a
negative zero is written without its sign; XmlSerializer writes ``XmlConvert.ToString``
(``12.50``, ``100``, ``0.000``) and Json.NET the same text with ``.0`` appended when it
has no decimal point (``100.0``). Both refuse a value beyond the 96-bit coefficient; on
reading they round a scale past 28 away, which this client refuses instead, as no
server can have sent it.

This module is pure: no I/O, no format library.
"""

from __future__ import annotations

from decimal import Context, Decimal

__all__ = [
    "MAX_COEFFICIENT",
    "MAX_SCALE",
    "decimal_problem",
    "decimal_text",
    "decimal_json_text",
    "dotnet_decimal",
]

#: The largest coefficient of a .NET decimal (``decimal.MaxValue`` at scale 0).
MAX_COEFFICIENT = 2**96 - 1
#: The most decimal places a .NET decimal holds.
MAX_SCALE = 28
_MAX_DIGITS = len(str(MAX_COEFFICIENT))  # 29
_ONE = Decimal(1)
_WIDE = Context(prec=2 * _MAX_DIGITS)  # the default 28 digits would round


def decimal_problem(value: Decimal) -> str | None:
    """Why .NET's decimal cannot hold ``value``, or ``None`` when it can.

    The one home of the range rule: validation, both encoders and both decoders ask it.
    """
    if not value.is_finite():
        return f"{value} is not a number .NET's decimal can hold (no NaN or infinity)"
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent < -MAX_SCALE:
        return f"has {-exponent} decimal places; .NET's decimal holds at most {MAX_SCALE}"
    if not any(digits):
        return None
    shift = max(exponent, 0)  # 1E+2 is the coefficient 100 at scale 0
    if len(digits) + shift > _MAX_DIGITS or (
        int("".join(map(str, digits))) * 10**shift > MAX_COEFFICIENT
    ):
        return f"{value} is beyond the range of .NET's decimal (96-bit coefficient)"
    return None


def dotnet_decimal(value: Decimal) -> Decimal:
    """``value`` as .NET holds it: no exponent above zero (``1E+2`` is ``100``), no
    negative zero.

    Raises:
        ValueError: :func:`decimal_problem` says why .NET cannot hold it.
    """
    problem = decimal_problem(value)
    if problem is not None:
        raise ValueError(problem)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent > 0:
        value = value.quantize(_ONE, context=_WIDE)
    if value.is_signed() and value.is_zero():
        value = value.copy_abs()
    return value


def decimal_text(value: Decimal) -> str:
    """XmlSerializer's text (``XmlConvert.ToString``): plain notation, scale kept.

    Raises:
        ValueError: .NET cannot hold the value.
    """
    return format(dotnet_decimal(value), "f")


def decimal_json_text(value: Decimal) -> str:
    """Json.NET's text: XmlSerializer's, with ``.0`` when it has no decimal point.

    Raises:
        ValueError: .NET cannot hold the value.
    """
    text = decimal_text(value)
    return text if "." in text else text + ".0"
