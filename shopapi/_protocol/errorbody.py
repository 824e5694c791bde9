"""ASP.NET Web API error bodies (``HttpError``), as the client reads them. Pure.

The API does not document its error bodies, but ASP.NET's ``HttpError`` is the likely
shape: ``{"Message": ..., "ModelState": {"changes.Field": ["..."]}}`` in JSON and
``<Error><Message/><ModelState><changes.Field/></ModelState></Error>`` in XML. The
client parses it when it is there and keeps the raw body either way. (The client never
writes one; the fake server's writer is :func:`shopapi.testing._errors.render_error_body`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import orjson

from .._exceptions import DecodeError
from ..codecs._base import normalize_media_type, suffix_base
from ..codecs.xml import parse_document, unmark

__all__ = ["ErrorBody", "parse_error_body"]

_MESSAGE_KEYS = ("Message", "message", "error_description", "error")
_DETAIL_KEYS = ("MessageDetail", "ExceptionMessage")


@attrs.frozen
class ErrorBody:
    """What an error body says.

    Attributes:
        message: ``Message`` (with ``MessageDetail``/``ExceptionMessage`` appended).
        model_state: Field path to its error messages.
    """

    message: str | None = None
    model_state: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)


def _is_json(media_type: str) -> bool:
    return media_type in ("application/json", "text/json") or (
        suffix_base(media_type) == "application/json"
    )


def _is_xml(media_type: str) -> bool:
    return media_type in ("application/xml", "text/xml") or (
        suffix_base(media_type) == "application/xml"
    )


def _join(message: str | None, detail: str | None) -> str | None:
    if message and detail:
        return f"{message} {detail}"
    return message or detail


def _from_json(data: bytes) -> ErrorBody | None:
    value: Any = orjson.loads(data[3:] if data[:3] == b"\xef\xbb\xbf" else data)
    if isinstance(value, str):
        return ErrorBody(message=value)
    if not isinstance(value, dict):
        return None
    message = next((v for k in _MESSAGE_KEYS if isinstance(v := value.get(k), str)), None)
    detail = next((v for k in _DETAIL_KEYS if isinstance(v := value.get(k), str)), None)
    state: dict[str, tuple[str, ...]] = {}
    raw_state = value.get("ModelState")
    if isinstance(raw_state, dict):
        for key, messages in raw_state.items():
            if isinstance(messages, list):
                state[str(key)] = tuple(str(m) for m in messages if m is not None)
            elif messages is not None:
                state[str(key)] = (str(messages),)
    if message is None and detail is None and not state:
        return None
    return ErrorBody(message=_join(message, detail), model_state=state)


def _from_xml(data: bytes) -> ErrorBody | None:
    root = parse_document(data, max_size=1024 * 1024)
    if root.tag != "Error":
        return None
    message = detail = None
    state: dict[str, list[str]] = {}
    for el in root:
        if el.tag == "Message":
            message = unmark(el.text or "")
        elif el.tag in _DETAIL_KEYS and detail is None:
            detail = unmark(el.text or "")
        elif el.tag == "ModelState":
            for entry in el:
                state.setdefault(str(entry.tag), []).append(unmark(entry.text or ""))
    return ErrorBody(
        message=_join(message, detail), model_state={k: tuple(v) for k, v in state.items()}
    )


def parse_error_body(data: bytes, content_type: str | None) -> ErrorBody | None:
    """Read an ``HttpError`` body; ``None`` when the body is not one (keep the raw bytes).

    Never raises: an error body that cannot be read must not hide the status behind it.
    """
    if not data:
        return None
    media_type = normalize_media_type(content_type or "")
    looks_json = data.lstrip()[:1] in (b"{", b'"')
    try:
        if _is_json(media_type) or (not _is_xml(media_type) and looks_json):
            return _from_json(data)
        if _is_xml(media_type) or data.lstrip()[:1] == b"<":
            return _from_xml(data)
    except (orjson.JSONDecodeError, DecodeError, ValueError, TypeError):
        return None
    return None
