"""Wire metadata for model fields, declared once where each field is declared.

Each model field carries a :class:`WireSpec` in its attrs metadata: the wire name, the
kind, nullability, whether the API requires it, and its maximum length (and, for a
nested model or a list, the model or the item). Codecs and validation read it through
:func:`wire_fields`; nothing else knows the wire names. How each kind is read, written
and validated lives in :mod:`shopapi._wire.kinds`, one entry per kind.

The order helpers encode the one fact both .NET serializers disagree on: Json.NET writes
a derived class's own properties before its base class's, XmlSerializer the reverse.
"""

from __future__ import annotations

import enum
from functools import cache
from typing import Any

import attrs

from .._exceptions import ConfigurationError
from .unknown import EMPTY, UNKNOWN_KEY

__all__ = [
    "Kind",
    "WireField",
    "WireSpec",
    "boolean",
    "coded_field",
    "decimal_field",
    "enum_field",
    "integer",
    "json_order",
    "keep_unknown",
    "list_field",
    "model_field",
    "string",
    "timestamp",
    "wire_fields",
    "xml_order",
]

_KEY = "shopapi.wire"


class Kind(enum.Enum):
    """The kinds of field the API uses (the help pages' type names)."""

    STR = "string"
    INT = "integer"
    CODED = "coded integer"
    BOOL = "boolean"
    TIMESTAMP = "date"
    ENUM = "enum"
    DECIMAL = "decimal number"
    MODEL = "model"
    LIST = "collection"


@attrs.frozen
class WireSpec:
    """What the wire says about one field."""

    wire: str
    kind: Kind
    nullable: bool = True
    required: bool = False
    max_length: int | None = None
    enum: type[enum.IntEnum] | None = None
    model: type | None = None
    item: WireSpec | None = None


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
    #: The nested model's class (``Kind.MODEL``), or a model list's item class.
    model: type | None = None
    #: A list's member (``Kind.LIST``): its kind, enum or model; named by its element.
    item: WireField | None = None


def _item_field(spec: WireSpec, owner: type) -> WireField:
    return WireField(
        "", "", spec.kind, spec.nullable, False, spec.max_length, spec.enum, owner, spec.model
    )


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


def coded_field(
    wire: str, enum_cls: type[enum.IntEnum], *, nullable: bool = True, required: bool = False
) -> Any:
    """An ``int`` or ``int?`` whose values the help pages name (``ShipmentStatusId``:
    ``Delivered = 4``): an integer in JSON *and* XML, as a .NET ``int`` property is, held
    as a member of ``enum_cls``. The set is open: a value the pages do not name is kept as
    the plain ``int`` and written back unchanged.
    """
    return _field(WireSpec(wire, Kind.CODED, nullable=nullable, required=required, enum=enum_cls))


def timestamp(wire: str, *, nullable: bool = True) -> Any:
    """A ``DateTime`` (``nullable=False``) or ``DateTime?`` field.

    A non-nullable date may still be ``None`` on the Python side, meaning "not set": JSON
    writes it as ``null`` and XML leaves it out, as neither can say "default" otherwise.
    """
    return _field(WireSpec(wire, Kind.TIMESTAMP, nullable=nullable))


def enum_field(wire: str, enum_cls: type[enum.IntEnum], *, required: bool = False) -> Any:
    """A .NET enum: an integer in JSON, a name in XML."""
    return _field(WireSpec(wire, Kind.ENUM, nullable=False, required=required, enum=enum_cls))


def decimal_field(wire: str, *, nullable: bool = True, required: bool = False) -> Any:
    """A ``decimal`` (``nullable=False``) or ``decimal?`` field: a :class:`~decimal.Decimal`.

    Its scale travels: ``Decimal("12.50")`` is written ``12.50`` and read back so.
    """
    return _field(WireSpec(wire, Kind.DECIMAL, nullable=nullable, required=required))


def model_field(wire: str, model: type) -> Any:
    """A nested model (a .NET class, so nullable): ``None`` when absent.

    Raises:
        ConfigurationError: ``model`` is not an attrs class.
    """
    return _field(WireSpec(wire, Kind.MODEL, model=_model(wire, model)))


def _model(wire: str, model: object) -> type:
    if not (isinstance(model, type) and attrs.has(model)):
        raise ConfigurationError(f"{wire}: {model!r} is not a model (an attrs class)")
    return model


#: What :func:`list_field` takes for a list of scalars.
_ITEM_KINDS = {
    "string": Kind.STR,
    "integer": Kind.INT,
    "boolean": Kind.BOOL,
    "decimal": Kind.DECIMAL,
    "date": Kind.TIMESTAMP,
}


def list_field(wire: str, item: str | type) -> Any:
    """A .NET ``List<T>``, held as a tuple (models are frozen and hashable); ``None`` when
    absent.

    Decoding gives a tuple; a ``list`` given is written alike, but a model holding one
    is not hashable. A model list's members may not be ``None``.

    Args:
        wire: The wire name.
        item: A model class (``OrderRows``), or the members' kind: ``"integer"``
            (``Children``, "Collection of integer"), ``"string"`` (its members may be
            ``None``, as .NET's strings may), ``"boolean"``, ``"decimal"``, ``"date"``.

    Raises:
        ConfigurationError: ``item`` is neither a kind a list can hold nor a model.
    """
    if isinstance(item, str):
        kind = _ITEM_KINDS.get(item)
        if kind is None:
            raise ConfigurationError(
                f"list_field({wire!r}): no list of {item!r}; one of {sorted(_ITEM_KINDS)}"
            )
        spec = WireSpec("", kind, nullable=kind is Kind.STR)
    else:
        spec = WireSpec("", Kind.MODEL, nullable=False, model=_model(wire, item))
    model = item if not isinstance(item, str) else None
    return _field(WireSpec(wire, Kind.LIST, model=model, item=spec))


def keep_unknown() -> Any:
    """The one field a model declares to keep what it does not know:
    ``unknown: Unknown = keep_unknown()``.

    It holds the JSON members or XML elements the model does not declare, as they came,
    and the codecs write them back in place (see :mod:`shopapi._wire.unknown`). It takes
    no part in ``==`` or ``hash``: those compare the documented values, and raw text is
    no value (the same data read from JSON and from XML should compare equal). Compare
    ``a.unknown == b.unknown`` explicitly when that matters. Its repr shows names only.
    Subclasses inherit it.
    """
    return attrs.field(default=EMPTY, eq=False, kw_only=True, metadata={UNKNOWN_KEY: True})


@cache
def _own_fields(cls: type) -> tuple[WireField, ...]:
    out = []
    for a in attrs.fields(cls):
        if a.inherited or _KEY not in a.metadata:
            continue
        s: WireSpec = a.metadata[_KEY]
        item = _item_field(s.item, cls) if s.item is not None else None
        out.append(
            WireField(
                a.name,
                s.wire,
                s.kind,
                s.nullable,
                s.required,
                s.max_length,
                s.enum,
                cls,
                s.model,
                item,
            )
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
