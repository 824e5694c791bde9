"""The codec registry and protocol: how an answer's Content-Type finds its decoder.

Servers answer with parameters, odd casing, ``text/`` aliases and ``+json``/``+xml``
suffixes; users plug in codecs of their own.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pytest

from shopapi import (
    Codec,
    CodecRegistry,
    DecodeError,
    JsonCodec,
    MessageConversationBasicInfo,
    PlatformKindEnum,
    XmlCodec,
)
from shopapi._wire.enums import enum_to_int
from shopapi._wire.fields import Kind, wire_fields
from shopapi._wire.timestamps import Timestamp, format_timestamp, parse_timestamp
from shopapi.codecs import default_registry, normalize_media_type

T = TypeVar("T")


class LinesCodec:
    """``Wire=value`` per line: a small but real third-party codec."""

    media_type = "application/x-test"

    def encode(self, obj: Any) -> bytes:
        """One line per set field, enums as integers, dates in .NET form."""
        lines = []
        for f in wire_fields(type(obj)):
            value = getattr(obj, f.name)
            if value is None:
                continue
            if f.kind is Kind.TIMESTAMP:
                value = format_timestamp(value)
            elif f.kind is Kind.ENUM:
                assert f.enum is not None
                value = enum_to_int(f.enum, value)
            lines.append(f"{f.wire}={value}")
        return "\n".join(lines).encode()

    def decode(self, data: bytes, cls: type[T]) -> T:
        """The reverse; every failure is a DecodeError, as the protocol demands."""
        try:
            pairs = dict(line.split("=", 1) for line in data.decode().splitlines())
            values: dict[str, Any] = {}
            for f in wire_fields(cls):
                raw = pairs.get(f.wire)
                if raw is None:
                    continue
                if f.kind is Kind.INT:
                    values[f.name] = int(raw)
                elif f.kind is Kind.ENUM:
                    assert f.enum is not None
                    values[f.name] = f.enum(int(raw))
                elif f.kind is Kind.TIMESTAMP:
                    values[f.name] = parse_timestamp(raw)
                else:
                    values[f.name] = raw
            return cls(**values)
        except (ValueError, TypeError) as exc:
            raise DecodeError(str(exc), media_type=self.media_type) from None


@pytest.mark.parametrize(
    ("content_type", "codec_type"),
    [
        ("application/json", JsonCodec),
        ("application/json; charset=utf-8", JsonCodec),
        ("Application/JSON; Charset=UTF-8", JsonCodec),
        ("  application/json  ;charset=utf-8", JsonCodec),
        ("text/json", JsonCodec),
        ("text/json; charset=utf-8", JsonCodec),
        ("application/problem+json", JsonCodec),
        ("application/vnd.shopctrl.v1+json; charset=utf-8", JsonCodec),
        ("application/xml", XmlCodec),
        ("application/xml; charset=utf-8", XmlCodec),
        ("APPLICATION/XML", XmlCodec),
        ("text/xml", XmlCodec),
        ("text/xml; charset=utf-16", XmlCodec),
        ("application/problem+xml", XmlCodec),
        ("application/atom+xml", XmlCodec),
    ],
)
def test_default_registry_lookup(content_type: str, codec_type: type) -> None:
    """Every way the API (or a proxy) labels JSON or XML finds the right codec."""
    codec = default_registry().lookup(content_type)
    assert type(codec) is codec_type


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/html",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "application/x-yaml+yaml",
        "application/jsonx",
        "json",
    ],
)
def test_unknown_media_types_find_nothing(content_type: str | None) -> None:
    """An HTML error page from a proxy must not be fed to the JSON decoder."""
    assert default_registry().lookup(content_type) is None


def test_default_registry_contents() -> None:
    """JSON and XML, each once, under their ``application/`` and ``text/`` names."""
    registry = default_registry()
    assert set(registry.media_types()) == {
        "application/json",
        "text/json",
        "application/xml",
        "text/xml",
    }
    assert sorted(type(c).__name__ for c in registry) == ["JsonCodec", "XmlCodec"]


def test_codecs_satisfy_the_protocol() -> None:
    """The session accepts anything that is a ``Codec``, built-in or not."""
    assert isinstance(JsonCodec(), Codec)
    assert isinstance(XmlCodec(), Codec)
    assert isinstance(LinesCodec(), Codec)
    assert not isinstance(object(), Codec)
    assert JsonCodec.media_type == "application/json"
    assert XmlCodec.media_type == "application/xml"


def test_registering_a_custom_codec() -> None:
    """A user's codec is found by its media type, parameters and all, and works."""
    registry = default_registry().copy()
    registry.register(LinesCodec(), "application/vnd.lines")
    codec = registry.lookup("Application/X-Test; charset=utf-8")
    assert isinstance(codec, LinesCodec)
    assert registry.lookup("application/vnd.lines") is codec
    assert isinstance(registry.lookup("application/json"), JsonCodec)
    value = MessageConversationBasicInfo(
        id=3,
        shop_id=4,
        platform_kind_enum_value=PlatformKindEnum.FlowAi,
        creation_date=Timestamp.parse("2026-01-11T16:13:16.7386644+01:00"),
        customer_name="Ann",
    )
    assert codec.decode(codec.encode(value), MessageConversationBasicInfo) == value
    with pytest.raises(DecodeError, match="invalid literal"):
        codec.decode(b"Id=x", MessageConversationBasicInfo)


def test_copy_leaves_the_default_registry_alone() -> None:
    """Extending a copy must not change what every other client uses."""
    registry = default_registry().copy()
    registry.register(LinesCodec())
    assert registry.lookup("application/x-test") is not None
    assert default_registry().lookup("application/x-test") is None


def test_exact_registration_beats_the_suffix_rule() -> None:
    """A codec registered for ``application/problem+json`` wins over plain JSON."""
    registry = default_registry().copy()
    problem = LinesCodec()
    registry.register(problem, "application/problem+json")
    assert registry.lookup("application/problem+json; charset=utf-8") is problem
    assert isinstance(registry.lookup("application/other+json"), JsonCodec)


def test_empty_registry_finds_nothing() -> None:
    """A fresh registry holds no codecs until told."""
    registry = CodecRegistry()
    assert registry.lookup("application/json") is None
    assert list(registry) == []
    registry.register(JsonCodec())
    assert isinstance(registry.lookup("application/problem+json"), JsonCodec)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("Application/JSON; charset=utf-8", "application/json"),
        ("text/xml", "text/xml"),
        ("  TEXT/XML ;q=1", "text/xml"),
        ("", ""),
    ],
)
def test_normalize_media_type(content_type: str, expected: str) -> None:
    """Parameters and case are not part of the media type."""
    assert normalize_media_type(content_type) == expected
