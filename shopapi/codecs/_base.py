"""The codec protocol, the registry by media type, and what the codecs share.

A codec turns model instances into bytes of one media type and back. It is pure: no
I/O, no ``await``, no aiohttp. The session picks the codec for a request from the
client's settings and the decoder for an answer from its ``Content-Type`` through a
:class:`CodecRegistry`, so users can plug in their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, TypeVar, get_args, get_origin, runtime_checkable

import attrs

from .._exceptions import DecodeError, FieldError, ValidationError
from .._wire.codegen import compile_function, construct_lines
from .._wire.fields import _KEY
from .._wire.kinds import within
from .._wire.validation import Format, field_errors

__all__ = [
    "Codec",
    "CodecRegistry",
    "compile_function",
    "in_list",
    "construct_lines",
    "is_model",
    "list_item_type",
    "normalize_media_type",
    "raise_invalid",
    "suffix_base",
]

T = TypeVar("T")


@runtime_checkable
class Codec(Protocol):
    """What the session needs from a codec.

    Attributes:
        media_type: Sent as ``Content-Type`` and ``Accept``.
    """

    media_type: str

    def encode(self, obj: Any) -> bytes:
        """Render a model instance.

        Raises:
            ValidationError: The instance cannot be written in this format.
        """
        ...

    def decode(self, data: bytes, cls: type[T]) -> T:
        """Read a body as ``cls`` (a model class, or ``list[Model]`` for list endpoints).

        Raises:
            DecodeError: The body is not a ``cls``. Nothing else may escape.
        """
        ...


def normalize_media_type(content_type: str) -> str:
    """``"Application/JSON; charset=utf-8"`` -> ``"application/json"``."""
    return content_type.split(";", 1)[0].strip().lower()


def suffix_base(media_type: str) -> str | None:
    """The media type a structured suffix stands for (RFC 6839), or ``None``.

    ``"application/problem+json"`` -> ``"application/json"``. The one home of the rule:
    the registry and the error-body reader both ask it.
    """
    if "+" not in media_type:
        return None
    return "application/" + media_type.rsplit("+", 1)[1]


class CodecRegistry:
    """Codecs by media type, understanding parameters and ``+json``/``+xml`` suffixes.

    ``lookup("application/problem+json; charset=utf-8")`` finds the codec registered
    for ``application/json`` unless one was registered for the exact type.
    """

    def __init__(self) -> None:
        self._by_type: dict[str, Codec] = {}

    def register(self, codec: Codec, *media_types: str) -> None:
        """Register ``codec`` for its own media type and any ``media_types`` given."""
        for media_type in (codec.media_type, *media_types):
            self._by_type[normalize_media_type(media_type)] = codec

    def lookup(self, content_type: str | None) -> Codec | None:
        """The codec for a ``Content-Type`` header value, or ``None``."""
        if not content_type:
            return None
        media_type = normalize_media_type(content_type)
        codec = self._by_type.get(media_type)
        if codec is None and (base := suffix_base(media_type)) is not None:
            codec = self._by_type.get(base)
        return codec

    def media_types(self) -> tuple[str, ...]:
        """Every registered media type."""
        return tuple(self._by_type)

    def copy(self) -> CodecRegistry:
        """A registry with the same entries, to extend without touching this one."""
        new = CodecRegistry()
        new._by_type = dict(self._by_type)
        return new

    def __iter__(self) -> Iterator[Codec]:
        seen: list[Codec] = []
        for codec in self._by_type.values():
            if not any(codec is s for s in seen):
                seen.append(codec)
        return iter(seen)


def is_model(cls: Any) -> bool:
    """Whether ``cls`` is an attrs class with wire metadata (one of our resources)."""
    return (
        isinstance(cls, type)
        and attrs.has(cls)
        and any(_KEY in a.metadata for a in attrs.fields(cls))
    )


def list_item_type(cls: Any) -> Any | None:
    """``list[X]`` -> ``X``; anything else -> ``None``."""
    if get_origin(cls) is list:
        (item,) = get_args(cls)
        return item
    return None


def raise_invalid(obj: object, fmt: Format, cause: BaseException) -> None:
    """Turn an encoder's failure into a :class:`ValidationError` naming the fields."""
    if not is_model(type(obj)):
        raise ValidationError(
            [FieldError("<body>", f"{type(obj).__name__} is not a shopapi model")],
            type_name=type(obj).__name__,
        ) from None
    errors = field_errors(obj, fmt=fmt)
    if not errors:
        errors = [FieldError("<body>", f"cannot be written as {fmt}: {cause}")]
    raise ValidationError(errors, type_name=type(obj).__name__) from cause


def in_list(error: DecodeError, index: int) -> DecodeError:
    """The same error, with the list index in front of the field (``[3].Id``)."""
    return within(error, f"[{index}]")
