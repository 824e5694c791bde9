"""ASP.NET's error answers: the ``HttpError`` bodies and the statuses that carry them.

This is the one writer of the fake's error bodies (the client only reads them, in
:mod:`shopapi._protocol.errorbody`): Json.NET's ``{"Message": ..., "ModelState": {...}}``
and XmlSerializer's ``<Error><Message/><ModelState><changes.Field/></ModelState></Error>``
(an ``HttpError`` is a dictionary, so neither has the namespace declarations a model's
root carries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

import orjson
from aiohttp import web
from lxml import etree

from ..codecs import normalize_media_type
from ._negotiation import Format

__all__ = [
    "error",
    "invalid",
    "no_route",
    "not_allowed",
    "not_found",
    "reason",
    "render_error_body",
    "too_large",
    "unauthorized",
    "unsupported_media_type",
]

REALM: Final = "ShopCtrl"


def _is_xml(media_type: str) -> bool:
    return media_type in ("application/xml", "text/xml") or media_type.endswith("+xml")


def render_error_body(
    media_type: str,
    message: str,
    model_state: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """An ``HttpError`` body as ASP.NET writes it in ``media_type`` (XML or else JSON)."""
    if _is_xml(normalize_media_type(media_type)):
        root = etree.Element("Error")
        etree.SubElement(root, "Message").text = message
        if model_state:
            state = etree.SubElement(root, "ModelState")
            for key, messages in model_state.items():
                for m in messages:
                    etree.SubElement(state, key).text = m
        out: bytes = etree.tostring(root, encoding="utf-8", xml_declaration=False)
        return out
    body: dict[str, Any] = {"Message": message}
    if model_state:
        body["ModelState"] = {k: list(v) for k, v in model_state.items()}
    return orjson.dumps(body)


def reason(code: int) -> str:
    """The status's reason phrase (``"Error"`` for an unregistered code)."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def error(
    fmt: Format,
    status: int,
    message: str,
    model_state: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """``status`` with an ``HttpError`` body in the negotiated format."""
    all_headers = {"Content-Type": fmt.content_type}
    if headers:
        all_headers.update(headers)
    body = render_error_body(fmt.media_type, message, model_state)
    return web.Response(status=status, body=body, headers=all_headers)


def invalid(fmt: Format, model_state: Mapping[str, Sequence[str]]) -> web.Response:
    """400 with the ``ModelState`` of a request that failed binding or validation."""
    return error(fmt, 400, "The request is invalid.", model_state)


def not_found(fmt: Format, message: str) -> web.Response:
    """404 for an item (or its parent) that is not stored."""
    return error(fmt, 404, message)


def no_route(fmt: Format, url: object) -> web.Response:
    """404 for a path no route matches."""
    return error(fmt, 404, f"No HTTP resource was found that matches the request URI '{url}'.")


def not_allowed(fmt: Format, method: str, allow: str) -> web.Response:
    """405 for a known path under another method, with the ``Allow`` it supports."""
    return error(
        fmt,
        405,
        f"The requested resource does not support http method '{method}'.",
        headers={"Allow": allow},
    )


def unauthorized(fmt: Format) -> web.Response:
    """401 with the Basic challenge."""
    return error(
        fmt,
        401,
        "Authorization has been denied for this request.",
        headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},
    )


def too_large(fmt: Format, max_body_size: int) -> web.Response:
    """413, closing the connection rather than waiting for a body nobody will read."""
    response = error(fmt, 413, f"The request entity is larger than {max_body_size} bytes.")
    response.force_close()
    return response


def unsupported_media_type(fmt: Format, content_type: str | None) -> web.Response:
    """415 for a body in a format no formatter reads."""
    media = normalize_media_type(content_type or "") or "application/octet-stream"
    return error(
        fmt,
        415,
        f"The request entity's media type '{media}' is not supported for this resource.",
    )
