"""Emit the C# model classes from the Python models' wire metadata.

The conformance tools (``Tool.cs``, ``Server.cs``) are compiled against classes this
module writes at build time from :mod:`shopapi._wire.fields` metadata, so the .NET side can
never drift from the Python side: a field added, renamed, made nullable or given a
maximum length in ``shopapi`` is the same change in C# on the next run. Nothing it
writes is checked in.

Every kind maps to C# through :data:`CSHARP_TYPES` (a test checks that none is
missing); a new kind is one more row there plus its line in the tool's neutral form.
:func:`generate` takes any model types: the classes their fields nest (models, list
members) and their bases come first, in dependency order.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Final

import attrs

from shopapi._resources import RESOURCES
from shopapi._wire.fields import Kind, WireField, json_order
from shopapi._wire.kinds import KINDS

from .probes import PROBE_TYPES

__all__ = [
    "CONFORMANCE_TYPES",
    "CSHARP_TYPES",
    "EXTENDED_NAMESPACE",
    "EXTRA_MEMBERS",
    "MODEL_TYPES",
    "SERVER_ENUM_MEMBERS",
    "csharp_class_name",
    "csharp_type",
    "enum_types",
    "generate",
    "generate_extended",
    "model_chain",
]


#: Every model the client sends or receives: the body and answer types of every resource's
#: endpoints.
def _with_nested(models: Iterable[type]) -> set[type]:
    """The models and every public model their fields nest (``ShippingLabel`` in a
    ``Parcel``), so that a nested type is round-tripped on its own too."""
    out: set[type] = set()
    todo = list(models)
    while todo:
        cls = todo.pop()
        if cls in out:
            continue
        out.add(cls)
        for f in json_order(cls):
            nested = KINDS[f.kind].nests(f)
            if nested is not None and not nested.__name__.startswith("_"):
                todo.append(nested)
    return out


MODEL_TYPES: Final[tuple[type, ...]] = tuple(
    sorted(_with_nested(m for r in RESOURCES for m in r.models()), key=lambda m: m.__name__)
)

#: Every model the conformance suite checks: the resources' and the probes'.
CONFORMANCE_TYPES: Final[tuple[type, ...]] = MODEL_TYPES + PROBE_TYPES

#: Kind -> (C# type, C# type when nullable). ``None`` marks a type named by the field:
#: an enum or a nested model (its own name), a list (``List<`` its member's type ``>``).
CSHARP_TYPES: Final[Mapping[Kind, tuple[str | None, str | None]]] = {
    Kind.STR: ("string", "string"),  # a .NET string is always nullable
    Kind.INT: ("int", "int?"),
    Kind.CODED: ("int", "int?"),  # a .NET int whose values the pages name
    Kind.BOOL: ("bool", "bool?"),
    Kind.TIMESTAMP: ("DateTime", "DateTime?"),
    Kind.DECIMAL: ("decimal", "decimal?"),
    Kind.ENUM: (None, None),
    Kind.MODEL: (None, None),  # a class: nullable by nature
    Kind.LIST: (None, None),
}

#: Members the *server's* enums have beyond the client's, as a real server adds values
#: the client does not know yet. The message enums use the fake server's names
#: (``shopapi.testing``), so both servers speak alike.
SERVER_ENUM_MEMBERS: Final[Mapping[str, Mapping[int, str]]] = {
    "PlatformKindEnum": {1: "WhatsApp", 2: "Messenger", 7: "Instagram"},
    "MessageSenderTypeEnum": {0: "Customer", 1: "Employee", 2: "Bot", 3: "System"},
    "MessageTypeEnum": {0: "Text", 1: "Note", 2: "Attachment", 3: "Event"},
    "ProbeColor": {2: "Blue"},
}


def csharp_class_name(cls: type) -> str:
    """A private Python base class (``_ConversationDetails``) loses its underscore."""
    return cls.__name__.lstrip("_")


def model_chain(types: Iterable[type] = MODEL_TYPES) -> list[type]:
    """Every class the models need, each after its bases and the classes it nests."""
    out: list[type] = []

    def add(cls: type) -> None:
        for k in reversed([k for k in cls.__mro__ if attrs.has(k)]):
            if k in out:
                continue
            for f in json_order(k):
                nested = KINDS[f.kind].nests(f)
                if f.owner is k and nested is not None and nested not in out:
                    add(nested)
            out.append(k)

    for cls in types:
        add(cls)
    return out


def enum_types(types: Iterable[type] = MODEL_TYPES) -> list[type[enum.IntEnum]]:
    """The .NET enums the models' fields use, in first-use order (a coded integer's
    IntEnum is no .NET enum: its property is an ``int``)."""
    out: list[type[enum.IntEnum]] = []
    for cls in model_chain(types):
        for f in json_order(cls):
            if f.kind is Kind.ENUM and f.enum is not None and f.enum not in out:
                out.append(f.enum)
    return out


def enum_members(enum_cls: type[enum.IntEnum]) -> dict[int, str]:
    """The server's members: the client's, plus :data:`SERVER_ENUM_MEMBERS`.

    Raises:
        ValueError: The two disagree on a value's name (the table is stale).
    """
    members = {int(m): m.name for m in enum_cls}
    for value, name in SERVER_ENUM_MEMBERS.get(enum_cls.__name__, {}).items():
        if members.setdefault(value, name) != name:
            raise ValueError(f"{enum_cls.__name__}.{value} is {members[value]} in shopapi")
    return dict(sorted(members.items()))


def _own_fields(cls: type) -> list[WireField]:
    return [f for f in json_order(cls) if f.owner is cls]


#: The kinds whose C# type is named by the field: an enum or a class by its name, a list
#: by its member's type.
_NAMED_TYPES: Final[Mapping[Kind, Callable[[WireField], str]]] = {
    Kind.ENUM: lambda f: f.enum.__name__,  # type: ignore[union-attr]
    Kind.MODEL: lambda f: csharp_class_name(f.model),  # type: ignore[arg-type]
    Kind.LIST: lambda f: f"List<{csharp_type(f.item)}>",  # type: ignore[arg-type]
}


def csharp_type(f: WireField) -> str:
    """The C# type of a field (or of a list's member)."""
    plain, nullable = CSHARP_TYPES[f.kind]
    if plain is None:
        return _NAMED_TYPES[f.kind](f)
    return (nullable if f.nullable else plain) or plain


def _property(f: WireField) -> list[str]:
    cs_type = csharp_type(f)
    lines = []
    if f.required:
        lines.append("        [Required]")
    if f.max_length is not None:
        lines.append(f"        [MaxLength({f.max_length})]")
    lines.append(f"        public {cs_type} {f.wire} {{ get; set; }}")
    return lines


def generate(types: Iterable[type] = MODEL_TYPES, namespace: str = "ShopCtrl.Models") -> str:
    """The C# source of the models (and their enums), in namespace ``namespace``.

    Properties are declared in the Python declaration order, so reflection (and with it
    Json.NET and XmlSerializer) sees them as the help page lists them.
    """
    types = tuple(types)
    out = [
        "// Generated by conformance/codegen.py from shopapi's wire metadata. Do not edit.",
        "using System;",
        "using System.Collections.Generic;",
        "using System.ComponentModel.DataAnnotations;",
        "",
        f"namespace {namespace}",
        "{",
    ]
    for enum_cls in enum_types(types):
        out.append(f"    public enum {enum_cls.__name__}")
        out.append("    {")
        out.extend(f"        {name} = {value}," for value, name in enum_members(enum_cls).items())
        out.append("    }")
        out.append("")
    for cls in model_chain(types):
        bases = [b for b in cls.__bases__ if attrs.has(b)]
        if len(bases) > 1:
            raise ValueError(f"{cls.__name__}: C# has single inheritance")
        extends = f" : {csharp_class_name(bases[0])}" if bases else ""
        out.append(f"    public class {csharp_class_name(cls)}{extends}")
        out.append("    {")
        for f in _own_fields(cls):
            out.extend(_property(f))
        out.append("    }")
        out.append("")
    out.append("}")
    return "\n".join(out) + "\n"


#: The namespace of the extended classes (``Neutral.ModelType("Extended.X")``).
EXTENDED_NAMESPACE: Final = "ShopCtrl.Extended"

#: The members an extended class adds, as (C# type, name suffix, initial value): one of
#: every kind a newer API could add, with values that exercise each format's writing.
EXTRA_MEMBERS: Final[tuple[tuple[str, str, str], ...]] = (
    ("string", "Text", '"extra \\u00e9 <&> \\"q\\""'),
    ("int", "Count", "-42"),
    ("int?", "Missing", "null"),
    ("decimal", "Amount", "12.50m"),
    ("AddedThing", "Thing", 'new AddedThing { A = "a", B = 1.10m, C = new List<int> { 1, 2 } }'),
    (
        "List<AddedThing>",
        "Things",
        'new List<AddedThing> { new AddedThing { B = 0.0m }, new AddedThing { A = "" } }',
    ),
    ("List<int>", "Numbers", "new List<int>()"),
)

_ADDED_THING = """    public class AddedThing
    {
        public string A { get; set; }
        public decimal B { get; set; }
        public List<int> C { get; set; }
    }
"""


def _extra_cuts(own: int) -> dict[int, tuple[tuple[str, str, str], ...]]:
    """Where :data:`EXTRA_MEMBERS` go among ``own`` members: before the member at each
    key (``own``: after the last), two before the first, three in the middle, the rest
    after the last. With fewer than two members the places coincide and share a key, so
    every extra member is placed once whatever the count (a class with one member, like
    ``ShopGroup``, lost the first two when the middle's key overwrote the start's)."""
    cuts: dict[int, tuple[tuple[str, str, str], ...]] = {}
    for at, members in ((0, EXTRA_MEMBERS[:2]), (own // 2, EXTRA_MEMBERS[2:5])):
        cuts[at] = cuts.get(at, ()) + members
    cuts[own] = cuts.get(own, ()) + EXTRA_MEMBERS[5:]
    return cuts


def _extended_class(cls: type) -> list[str]:
    """``cls`` with :data:`EXTRA_MEMBERS` interleaved: some before its own members, some
    in the middle, the rest after, each named after the class (C# hides a base's member
    of the same name)."""
    name = csharp_class_name(cls)
    own = _own_fields(cls)
    cuts = _extra_cuts(len(own))
    body: list[str] = []
    inits: list[str] = []
    for i in range(len(own) + 1):
        for cs_type, suffix, value in cuts.get(i, ()):
            body.append(f"        public {cs_type} Added{name}{suffix} {{ get; set; }}")
            inits.append(f"            Added{name}{suffix} = {value};")
        if i < len(own):
            body.extend(_property(own[i]))
    bases = [b for b in cls.__bases__ if attrs.has(b)]
    extends = f" : {csharp_class_name(bases[0])}" if bases else ""
    return [
        f"    public class {name}{extends}",
        "    {",
        f"        public {name}()",
        "        {",
        *inits,
        "        }",
        *body,
        "    }",
        "",
    ]


def generate_extended(types: Iterable[type] = MODEL_TYPES, models: str = "ShopCtrl.Models") -> str:
    """The C# source of every class of ``types`` with members the Python models lack.

    Each has its namesake's members plus :data:`EXTRA_MEMBERS`, set by its constructor,
    in :data:`EXTENDED_NAMESPACE`: the same class names, so that XmlSerializer's element
    names are the same, and a newer server's type, so that the conformance suite can check
    that a Python model without those members keeps them. Appended to :func:`generate`'s
    source (it uses that source's enums).
    """
    out = [f"namespace {EXTENDED_NAMESPACE}", "{", f"    using {models};", ""]
    out.append(_ADDED_THING)
    for cls in model_chain(types):
        out.extend(_extended_class(cls))
    out.append("}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(generate(CONFORMANCE_TYPES) + generate_extended(CONFORMANCE_TYPES), end="")
