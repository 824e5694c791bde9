"""The fake server's own names for enums whose members the API does not document.

The server stores such values as integers and writes these names in XML, as the real
server would with its real mapping; the client knows none of them. Which fields they
apply to follows from the models' wire metadata: every field of one of these enum types,
in any model, so a new resource using them needs nothing here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import attrs

from .._wire.enums import MessageSenderTypeEnum, MessageTypeEnum
from .._wire.fields import wire_fields

__all__ = ["MESSAGE_SENDER_NAMES", "MESSAGE_TYPE_NAMES", "from_wire_names", "to_wire_names"]

T = TypeVar("T")

#: Who sent a message, by the fake's own names.
MESSAGE_SENDER_NAMES: Final = {0: "Customer", 1: "Employee", 2: "Bot", 3: "System"}
#: The kind of a message, by the fake's own names.
MESSAGE_TYPE_NAMES: Final = {0: "Text", 1: "Note", 2: "Attachment", 3: "Event"}

_NAMES: Final[Mapping[type[enum.IntEnum], Mapping[int, str]]] = {
    MessageSenderTypeEnum: MESSAGE_SENDER_NAMES,
    MessageTypeEnum: MESSAGE_TYPE_NAMES,
}
_VALUES: Final = {cls: {v: k for k, v in names.items()} for cls, names in _NAMES.items()}


_FIELDS: dict[type, tuple[tuple[str, type[enum.IntEnum]], ...]] = {}


def _named_fields(cls: type) -> tuple[tuple[str, type[enum.IntEnum]], ...]:
    """The fields of ``cls`` whose enum the server names (memoised)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = tuple(
            (f.name, f.enum) for f in wire_fields(cls) if f.enum is not None and f.enum in _NAMES
        )
        _FIELDS[cls] = fields
    return fields


def to_wire_names(obj: T) -> T:
    """``obj`` with those enums' integers replaced by the server's names (for XML)."""
    fields = _named_fields(type(obj))
    if not fields:
        return obj
    changes: dict[str, Any] = {}
    for name, enum_cls in fields:
        value = getattr(obj, name)
        if isinstance(value, int) and not isinstance(value, bool):
            changes[name] = _NAMES[enum_cls].get(value, value)
    return attrs.evolve(obj, **changes)  # type: ignore[misc]


def from_wire_names(obj: T) -> T:
    """A received ``obj`` with those enums' names (from XML) turned into the stored
    integers.

    Raises:
        KeyError: A name the server does not know.
    """
    fields = _named_fields(type(obj))
    if not fields:
        return obj
    changes: dict[str, Any] = {}
    for name, enum_cls in fields:
        value = getattr(obj, name)
        if isinstance(value, str):
            changes[name] = _VALUES[enum_cls][value]
    return attrs.evolve(obj, **changes) if changes else obj  # type: ignore[misc]
