"""Checking a model against the help page's constraints before anything is sent.

The server would refuse these with a 400 after a round trip, or worse, an XML body
could not even be written. Checking first reports every offending field at once, by its
wire name, and costs no request. What each kind of field must be is its entry in
:mod:`shopapi._wire.kinds`; this module walks a model's fields and reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from .._exceptions import FieldError, ValidationError
from .codegen import compile_function
from .fields import xml_order
from .kinds import INT32_MAX, INT32_MIN, KINDS, NAIVE_MESSAGE, Gen, utf16_length
from .unknown import unknown_attr

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "NAIVE_MESSAGE",
    "field_errors",
    "is_valid",
    "utf16_length",
    "validate",
]

#: Characters XML 1.0 cannot carry (its ``Char`` production, negated).
XML_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Format = Literal["json", "xml"]


def field_errors(obj: object, *, fmt: Format | None = None) -> list[FieldError]:
    """Every constraint ``obj`` breaks, in wire (XML) order; empty when it is valid.

    A field inside a nested model or a list is named by its path (``BillTo.City``,
    ``OrderRows[2].Quantity``).

    Args:
        obj: A model instance.
        fmt: Also check what only one format cannot carry: ``"xml"`` (enum integers
            without a known name) or ``"json"`` (enum names without a known integer).
    """
    errors = []
    cls: type = type(obj)
    name = unknown_attr(cls)
    kept = getattr(obj, name) if name is not None else None
    if fmt is not None and kept and kept.format != fmt:
        for m in kept.members:
            errors.append(
                FieldError(
                    m.name,
                    f"is an unknown member kept as raw {kept.format.upper()}, which "
                    f"{fmt.upper()} cannot carry as it came; send the body as "
                    f"{kept.format.upper()}, or drop_unknown() it on purpose",
                )
            )
    for f in xml_order(cls):
        value = getattr(obj, f.name)
        if value is None:
            if f.required:
                errors.append(FieldError(f.wire, "is required"))
            continue
        for path, message in KINDS[f.kind].problem(f, value, fmt, _nested_errors):
            errors.append(FieldError(f.wire + path, message))
    return errors


def _nested_errors(obj: object, fmt: Format | None) -> list[FieldError]:
    return field_errors(obj, fmt=fmt)


def _compile_is_valid(cls: type) -> Callable[[Any], bool]:
    """Generate a check of every format-independent rule, with no per-field dispatch.

    It answers only yes or no, for the hot path; :func:`field_errors` explains a no.
    Unlike :func:`field_errors` it skips the lone-surrogate scan: no format can carry
    one, so the encoders fail on it anyway (as on XML's illegal characters and unknown
    enum mappings), and the hot path need not scan every string twice.
    """
    ns: dict[str, Any] = {}
    g = Gen(ns, _is_valid_of)
    lines = ["def is_valid(o):"]
    for i, f in enumerate(xml_order(cls)):
        v = f"v{i}"
        lines.append(f"    {v} = o.{f.name}")
        lines.append(f"    if {v} is None:")
        lines.append("        return False" if f.required else "        pass")
        lines.append("    else:")
        lines.extend("        " + line for line in KINDS[f.kind].valid(f, v, g))
    lines.append("    return True")
    return compile_function("is_valid", "\n".join(lines) + "\n", ns)


_IS_VALID: dict[type, Callable[[Any], bool]] = {}


def _is_valid_of(cls: type) -> Callable[[Any], bool]:
    check = _IS_VALID.get(cls)
    if check is None:
        check = _IS_VALID[cls] = _compile_is_valid(cls)
    return check


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
