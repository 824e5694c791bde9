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

from decimal import Decimal

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
#: Longer coefficients are refused unread (trailing zeros past it are no real answer).
_MAX_TEXT = 400


def _fit(value: Decimal) -> Decimal | str:
    """``value`` as .NET holds it, or why it cannot.

    .NET keeps as many of the trailing zeros it reads as fit (``79228162514264337593543950335.0``
    reads as the largest coefficient at scale 0); dropping zeros changes no value, so a
    value that fits once they are dropped is held. Anything else would need rounding.
    """
    if not value.is_finite():
        return f"{value} is not a number .NET's decimal can hold (no NaN or infinity)"
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if any(digits) and (len(digits) > _MAX_TEXT or len(digits) + exponent > _MAX_DIGITS):
        return f"{value} is beyond the range of .NET's decimal (96-bit coefficient)"
    if not any(digits):  # a zero of any scale or exponent: at most 28 places
        return (
            value
            if 0 >= exponent >= -MAX_SCALE and not sign
            else Decimal((0, (0,), max(min(exponent, 0), -MAX_SCALE)))
        )
    coefficient = int("".join(map(str, digits))) * 10 ** max(exponent, 0)
    scale = max(-exponent, 0)
    while scale and (scale > MAX_SCALE or coefficient > MAX_COEFFICIENT) and not coefficient % 10:
        coefficient //= 10
        scale -= 1
    if scale > MAX_SCALE:
        return f"has {-exponent} decimal places; .NET's decimal holds at most {MAX_SCALE}"
    if coefficient > MAX_COEFFICIENT:
        return f"{value} is beyond the range of .NET's decimal (96-bit coefficient)"
    if scale == -exponent:
        return value  # as it is: the usual case
    return Decimal((sign, tuple(map(int, str(coefficient))), -scale))


def decimal_problem(value: Decimal) -> str | None:
    """Why .NET's decimal cannot hold ``value``, or ``None`` when it can.

    The one home of the range rule (96-bit coefficient, at most 28 decimal places, no
    NaN or infinity): validation, both encoders and both decoders ask it.
    """
    fitted = _fit(value)
    return fitted if isinstance(fitted, str) else None


def dotnet_decimal(value: Decimal) -> Decimal:
    """``value`` as .NET holds it: no exponent above zero (``1E+2`` is ``100``), no
    negative zero, no more trailing zeros than fit.

    Raises:
        ValueError: :func:`decimal_problem` says why .NET cannot hold it.
    """
    fitted = _fit(value)
    if isinstance(fitted, str):
        raise ValueError(fitted)
    return fitted


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
