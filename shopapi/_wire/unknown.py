"""Members the models do not know, kept as they came and written back in place.

Many help pages are cut off and the live API adds fields, so a model that dropped what
it does not declare would lose data on every read-modify-write. A model opts in with
one field declaration, ``unknown: Unknown = keep_unknown()`` (see
:func:`shopapi._wire.fields.keep_unknown`); the codecs then keep each JSON member's raw
value text (``12.50`` and nested objects byte for byte) or each XML element as it came
(namespaces and all), each anchored after the known member it followed, and write them
back there.

The raw text belongs to one format: JSON text cannot be written as XML or the reverse
without inventing a mapping, so writing them in the other format is refused by
validation (naming the members); :func:`drop_unknown` drops them on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import attrs

from .._exceptions import ConfigurationError

__all__ = [
    "EMPTY",
    "UNKNOWN_KEY",
    "Unknown",
    "UnknownMember",
    "drop_unknown",
    "merge",
    "unknown_attr",
]

#: The metadata key marking a model's unknown-members field.
UNKNOWN_KEY = "shopapi.unknown"


@attrs.frozen
class UnknownMember:
    """One member the model does not declare.

    Attributes:
        name: The JSON property name, or the XML element's tag (``{namespace}local``
            for a namespaced one).
        raw: The JSON value's text, or the whole XML element's text, as it came.
        after: The wire name of the known member it followed, ``None`` if it came first.
    """

    name: str
    raw: str
    after: str | None

    def __repr__(self) -> str:
        # Names only: the values are arbitrary (perhaps large, perhaps secret) text.
        return f"UnknownMember({self.name!r}, {len(self.raw)} chars)"


@attrs.frozen
class Unknown:
    """The unknown members of one model instance, in the order they came.

    Attributes:
        format: ``"json"`` or ``"xml"``: the format whose text ``members`` hold.
        members: The members, in wire order.
    """

    format: Literal["json", "xml"] | None = None
    members: tuple[UnknownMember, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def __iter__(self) -> Iterator[UnknownMember]:
        return iter(self.members)

    def names(self) -> tuple[str, ...]:
        """The members' names, in order."""
        return tuple(m.name for m in self.members)

    def __repr__(self) -> str:
        if not self.members:
            return "Unknown()"
        names = [m.name for m in self.members[:5]]
        more = f", +{len(self.members) - 5} more" if len(self.members) > 5 else ""
        return f"Unknown({self.format}: {', '.join(names)}{more})"


#: No unknown members: the default of every model's field, shared.
EMPTY = Unknown()


def unknown_attr(cls: type) -> str | None:
    """The name of ``cls``'s unknown-members field, or ``None`` if it keeps none."""
    if not attrs.has(cls):
        return None
    for a in attrs.fields(cls):
        if UNKNOWN_KEY in a.metadata:
            name: str = a.name
            return name
    return None


def drop_unknown(obj: Any) -> Any:
    """``obj`` without its unknown members (and its nested models' and list items'), on
    purpose: to write a model read in one format in the other.

    Returns ``obj`` itself when it keeps none.

    Raises:
        ConfigurationError: ``obj`` is not a model instance.
    """
    cls = type(obj)
    if not attrs.has(cls):
        raise ConfigurationError(f"drop_unknown() takes a model, not {cls.__name__}")
    name = unknown_attr(cls)
    changes: dict[str, Any] = {}
    if name is not None and getattr(obj, name):
        changes[name] = EMPTY
    for a in attrs.fields(cls):
        value = getattr(obj, a.name)
        if attrs.has(type(value)):
            new = drop_unknown(value)
            if new is not value:
                changes[a.name] = new
        elif isinstance(value, (tuple, list)) and value and attrs.has(type(value[0])):
            items = [drop_unknown(x) if attrs.has(type(x)) else x for x in value]
            if any(n is not o for n, o in zip(items, value, strict=True)):
                changes[a.name] = type(value)(items)
    return attrs.evolve(obj, **changes) if changes else obj


def merge(pieces: list[tuple[str, Any]], unknown: Unknown) -> list[tuple[str, Any]]:
    """``(wire name, value)`` pairs with each unknown member put back after its anchor.

    A member whose anchor the model lacks (a body built from another class) goes last.
    A member the model declares (a basic info's unknown ``ExternalKey`` carried into a
    full body by ``from_basic_info``) is not written twice: the model's field is what it
    holds now, so the field wins.
    """
    known = {name for name, _ in pieces}
    by_anchor: dict[str | None, list[UnknownMember]] = {}
    for m in unknown.members:
        if m.name not in known:
            by_anchor.setdefault(m.after, []).append(m)
    out: list[tuple[str, Any]] = [(m.name, m) for m in by_anchor.pop(None, ())]
    for name, value in pieces:
        out.append((name, value))
        for m in by_anchor.pop(name, ()):
            out.append((m.name, m))
    for rest in by_anchor.values():
        out.extend((m.name, m) for m in rest)
    return out
