"""The API's enums.

.NET enums travel as integers in JSON and as names in XML. The server adds values over
time, so a field typed with one of these enums also accepts the raw wire form of a value
this client does not know yet: an ``int`` (read from JSON) or a ``str`` (read from XML).
Such a value round-trips unchanged in the format it came from; asking for the other
format's form of it is an error, because only the server knows the mapping.
"""

from __future__ import annotations

import enum

__all__ = [
    "MessageSenderTypeEnum",
    "MessageTypeEnum",
    "PlatformKindEnum",
    "enum_from_int",
    "enum_from_name",
    "enum_to_int",
    "enum_to_name",
]


class PlatformKindEnum(enum.IntEnum):
    """The platform a conversation came from. Member names are the .NET names."""

    FlowAi = 0


class MessageSenderTypeEnum(enum.IntEnum):
    """Who sent a message.

    The API documents the type but not its members, so none are declared: every value
    is kept as the server sent it (an ``int`` from JSON, a ``str`` from XML) and written
    back unchanged. Converting between the two forms needs the mapping, so it is refused
    until the members are known.
    """


class MessageTypeEnum(enum.IntEnum):
    """The kind of a message. Members undocumented; see :class:`MessageSenderTypeEnum`."""


def enum_from_int(enum_cls: type[enum.IntEnum], value: int) -> enum.IntEnum | int:
    """The member for a JSON integer; an unknown integer is kept as it is."""
    return enum_cls._value2member_map_.get(value, value)  # type: ignore[return-value]


def enum_from_name(
    enum_cls: type[enum.IntEnum], name: str, *, keep_unknown: bool = True
) -> enum.IntEnum | str:
    """The member for a name: XmlSerializer's exact name, else Json.NET's any-case one.

    Args:
        keep_unknown: Keep a name this client does not know as the ``str`` (XML, where
            it round-trips); ``False`` refuses it (JSON, which has no integer for it).

    Raises:
        ValueError: ``name`` is unknown and ``keep_unknown`` is false.
    """
    member = enum_cls.__members__.get(name)
    if member is not None:
        return member
    if keep_unknown:
        return name
    folded = name.lower()
    for known, member in enum_cls.__members__.items():
        if known.lower() == folded:
            return member
    raise ValueError(f"{name!r} is not a {enum_cls.__name__} name this client knows")


def enum_to_int(enum_cls: type[enum.IntEnum], value: object) -> int:
    """The JSON (integer) form of a member, a known name, or an unknown integer.

    Raises:
        ValueError: ``value`` is a name this client does not know, so its integer is unknown.
        TypeError: ``value`` is neither an int nor a str.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        member = enum_cls.__members__.get(value)
        if member is None:
            raise ValueError(
                f"{value!r} is a {enum_cls.__name__} name unknown to this client, "
                "so its JSON integer is unknown"
            )
        return int(member)
    raise TypeError(f"expected {enum_cls.__name__}, int or str, got {type(value).__name__}")


def enum_to_name(enum_cls: type[enum.IntEnum], value: object) -> str:
    """The XML (name) form of a member, a known integer, or an unknown name.

    Raises:
        ValueError: ``value`` is an integer this client does not know, so its name is unknown.
        TypeError: ``value`` is neither an int nor a str.
    """
    if isinstance(value, enum_cls):
        return value.name
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # The member map, not enum_cls(value): an enum with no members yet raises
        # TypeError there, and this is a value the client does not know either way.
        member = enum_cls._value2member_map_.get(value)
        if member is None:
            raise ValueError(
                f"{value} is a {enum_cls.__name__} value unknown to this client, "
                "so its XML name is unknown"
            )
        return member.name
    raise TypeError(f"expected {enum_cls.__name__}, int or str, got {type(value).__name__}")
