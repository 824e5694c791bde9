"""Content negotiation as ASP.NET Web API does it, for its JSON and XML formatters."""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

import attrs

from ..codecs import JsonCodec, XmlCodec, normalize_media_type

__all__ = ["FORMATS", "Format", "XML_CODEC", "body_format", "negotiated_format"]

_Codec: TypeAlias = JsonCodec | XmlCodec


@attrs.frozen
class Format:
    """A response format: the Web API formatter and the media type it matched on."""

    name: Literal["json", "xml"]
    media_type: str
    codec: _Codec
    content_type: str = attrs.field(init=False)

    @content_type.default
    def _content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


_JSON_CODEC: Final = JsonCodec()
XML_CODEC: Final = XmlCodec()
FORMATS: Final[dict[str, Format]] = {
    "application/json": Format("json", "application/json", _JSON_CODEC),
    "text/json": Format("json", "text/json", _JSON_CODEC),
    "application/xml": Format("xml", "application/xml", XML_CODEC),
    "text/xml": Format("xml", "text/xml", XML_CODEC),
}
# Web API's formatters in order, each with its supported media types in order.
_FORMATTERS: Final = (
    (FORMATS["application/json"], FORMATS["text/json"]),
    (FORMATS["application/xml"], FORMATS["text/xml"]),
)
_DEFAULT_FORMAT: Final = FORMATS["application/json"]
_LITERAL, _SUBTYPE_RANGE, _ALL_RANGE = 0, 1, 2


def _parse_accept(accept: str) -> list[tuple[float, int, str]]:
    """``(q, specificity, media range)`` for each acceptable range, best first."""
    entries: list[tuple[float, int, str]] = []
    for part in accept.split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        main, sep, sub = media.partition("/")
        if not sep or not main or not sub:
            continue
        q = 1.0
        valid = True
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    valid = False
                if not (0.0 <= q <= 1.0):  # also refuses NaN
                    valid = False
        if not valid or q == 0.0:
            continue
        if media == "*/*":
            specificity = _ALL_RANGE
        elif sub == "*":
            specificity = _SUBTYPE_RANGE
        else:
            specificity = _LITERAL
        entries.append((q, specificity, media))
    entries.sort(key=lambda e: (-e[0], e[1]))  # stable: header order breaks ties
    return entries


def _negotiate(accept: str | None, content_type: str | None) -> Format:
    """Web API's ``DefaultContentNegotiator``, for the JSON and XML formatters.

    Each formatter takes its first match in the sorted ``Accept``; per kind of match
    (literal, ``type/*``, ``*/*``) the highest quality wins, the JSON formatter on a tie;
    a literal match beats a range of equal quality. Failing that, the format of the
    request body; failing that, JSON.
    """
    if accept:
        entries = _parse_accept(accept)
        best: dict[int, tuple[float, Format]] = {}
        for formats in _FORMATTERS:
            match = _first_match(entries, formats)
            if match is not None:
                q, kind, fmt = match
                if kind not in best or q > best[kind][0]:
                    best[kind] = (q, fmt)
        chosen: tuple[float, Format] | None = None
        for kind in (_LITERAL, _SUBTYPE_RANGE, _ALL_RANGE):
            candidate = best.get(kind)
            if candidate is not None and (chosen is None or candidate[0] > chosen[0]):
                chosen = candidate
        if chosen is not None:
            return chosen[1]
    if content_type:
        by_body = FORMATS.get(normalize_media_type(content_type))
        if by_body is not None:
            return by_body
    return _DEFAULT_FORMAT


def _first_match(
    entries: list[tuple[float, int, str]], formats: tuple[Format, ...]
) -> tuple[float, int, Format] | None:
    for q, kind, media in entries:
        for fmt in formats:
            if kind == _ALL_RANGE or (
                kind == _SUBTYPE_RANGE and fmt.media_type.startswith(media[:-1])
            ):
                return q, kind, fmt
            if kind == _LITERAL and media == fmt.media_type:
                return q, kind, fmt
    return None


_NEGOTIATED: dict[tuple[str | None, str | None], Format] = {}


def negotiated_format(accept: str | None, content_type: str | None) -> Format:
    """:func:`_negotiate`, memoised: clients send the same few header values."""
    key = (accept, content_type)
    fmt = _NEGOTIATED.get(key)
    if fmt is None:
        fmt = _negotiate(accept, content_type)
        if len(_NEGOTIATED) >= 1024:
            _NEGOTIATED.clear()
        _NEGOTIATED[key] = fmt
    return fmt


def body_format(content_type: str | None) -> Format | None:
    """The format of a request body by its ``Content-Type`` (``None``: unsupported)."""
    return FORMATS.get(normalize_media_type(content_type or "application/octet-stream"))
