"""Validators for the frozen, keyword-only configuration classes.

Configuration mistakes are errors of the library's own kind: a
:class:`~shopapi.ConfigurationError` (also a ``ValueError``) naming the option.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from ._exceptions import ConfigurationError

__all__ = ["check_positive", "non_negative", "optional_positive", "positive", "positive_int"]


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigurationError(f"{name} must be a number of seconds, got {value!r}")
    return float(value)


def check_positive(name: str, value: Any) -> float:
    """A number of seconds > 0, as a float."""
    if _number(name, value) <= 0:
        raise ConfigurationError(f"{name} must be > 0, got {value!r}")
    return float(value)


def positive(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A number > 0."""
    check_positive(attribute.name, value)


def non_negative(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A number >= 0."""
    if _number(attribute.name, value) < 0:
        raise ConfigurationError(f"{attribute.name} must be >= 0, got {value!r}")


def optional_positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or a number > 0."""
    if value is not None:
        positive(instance, attribute, value)


def positive_int(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{attribute.name} must be an int >= 1, got {value!r}")
