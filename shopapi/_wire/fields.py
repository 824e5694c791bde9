"""Wire metadata for model fields, declared once where each field is declared.

Each model field carries a :class:`WireSpec` in its attrs metadata: the wire name, the
scalar kind, nullability, whether the API requires it, and its maximum length. Codecs and
validation read it through :func:`wire_fields`; nothing else knows the wire names.

The order helpers encode the one fact both .NET serializers disagree on: Json.NET writes
a derived class's own properties before its base class's, XmlSerializer the reverse.
"""

from __future__ import annotations

import enum
from functools import cache
from typing import Any

import attrs

__all__ = [
    "Kind",
    "WireField",
    "WireSpec",
    "boolean",
    "enum_field",
    "integer",
    "json_order",
    "string",
    "timestamp",
    "wire_fields",
    "xml_order",
]

_KEY = "shopapi.wire"


class Kind(enum.Enum):
    """The scalar kinds the API uses."""

    STR = "string"
    INT = "integer"
    BOOL = "boolean"
    TIMESTAMP = "date"
    ENUM = "enum"


@attrs.frozen
class WireSpec:
    """What the wire says about one field."""

    wire: str
    kind: Kind
    nullable: bool = True
    required: bool = False
    max_length: int | None = None
    enum: type[enum.IntEnum] | None = None


@attrs.frozen
class WireField:
    """A model field joined with its :class:`WireSpec`."""

    name: str
    wire: str
    kind: Kind
    nullable: bool
    required: bool
    max_length: int | None
    enum: type[enum.IntEnum] | None
    owner: type


def _field(spec: WireSpec) -> Any:
    if spec.required:
        return attrs.field(metadata={_KEY: spec})
    return attrs.field(default=None, metadata={_KEY: spec})


def string(wire: str, max_length: int | None = None) -> Any:
    """A ``string`` field: always nullable in .NET; ``None`` when absent."""
    return _field(WireSpec(wire, Kind.STR, max_length=max_length))


def integer(wire: str, *, nullable: bool = True, required: bool = False) -> Any:
    """An ``int`` (``nullable=False``) or ``int?`` field."""
    return _field(WireSpec(wire, Kind.INT, nullable=nullable, required=required))


def boolean(wire: str, *, nullable: bool = False, required: bool = False) -> Any:
    """A ``bool`` or ``bool?`` field."""
    return _field(WireSpec(wire, Kind.BOOL, nullable=nullable, required=required))


def timestamp(wire: str, *, nullable: bool = True) -> Any:
    """A ``DateTime`` (``nullable=False``) or ``DateTime?`` field.

    A non-nullable date may still be ``None`` on the Python side, meaning "not set": JSON
    writes it as ``null`` and XML leaves it out, as neither can say "default" otherwise.
    """
    return _field(WireSpec(wire, Kind.TIMESTAMP, nullable=nullable))


def enum_field(wire: str, enum_cls: type[enum.IntEnum], *, required: bool = False) -> Any:
    """A .NET enum: an integer in JSON, a name in XML."""
    return _field(WireSpec(wire, Kind.ENUM, nullable=False, required=required, enum=enum_cls))


@cache
def _own_fields(cls: type) -> tuple[WireField, ...]:
    out = []
    for a in attrs.fields(cls):
        if a.inherited or _KEY not in a.metadata:
            continue
        s: WireSpec = a.metadata[_KEY]
        out.append(
            WireField(a.name, s.wire, s.kind, s.nullable, s.required, s.max_length, s.enum, cls)
        )
    return tuple(out)


def _chain(cls: type) -> list[type]:
    return [k for k in cls.__mro__ if attrs.has(k)]


@cache
def json_order(cls: type) -> tuple[WireField, ...]:
    """Json.NET's order: each class's own fields, most derived class first."""
    return tuple(f for k in _chain(cls) for f in _own_fields(k))


@cache
def xml_order(cls: type) -> tuple[WireField, ...]:
    """XmlSerializer's order: each class's own fields, base class first."""
    return tuple(f for k in reversed(_chain(cls)) for f in _own_fields(k))


def wire_fields(cls: type) -> tuple[WireField, ...]:
    """All wire fields of a model class, in XML (declaration) order."""
    return xml_order(cls)
