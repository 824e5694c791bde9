"""Pluggable codecs: ``bytes <-> model`` for one media type each, pure and I/O-free.

``JsonCodec`` writes what Json.NET writes; ``XmlCodec`` writes what .NET's
XmlSerializer writes. Both are built on cattrs converters configured by their module's
``configure_converter()`` (``shopapi.codecs.json``, ``shopapi.codecs.xml``).

Add your own by implementing :class:`Codec` and registering it::

    registry = default_registry().copy()
    registry.register(MyCodec(), "application/vnd.example")
"""

from __future__ import annotations

from ._base import Codec, CodecRegistry, normalize_media_type
from .json import JsonCodec
from .xml import XmlCodec

__all__ = [
    "Codec",
    "CodecRegistry",
    "JsonCodec",
    "XmlCodec",
    "default_registry",
    "normalize_media_type",
]

_DEFAULT = CodecRegistry()
_DEFAULT.register(JsonCodec(), "text/json")
_DEFAULT.register(XmlCodec(), "text/xml")


def default_registry() -> CodecRegistry:
    """The registry the client uses unless given another: JSON and XML, with the
    ``text/`` aliases and ``+json``/``+xml`` suffixes the API may answer with."""
    return _DEFAULT
