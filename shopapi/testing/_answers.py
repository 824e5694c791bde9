"""Successful answers and faulty ones: bodies in the negotiated format, and what each
:class:`Fault` does to the answer a success would have carried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web

from .._exceptions import ValidationError
from ._enum_names import to_wire_names
from ._errors import reason, render_error_body
from ._faults import OTHER_CONVERSATION_OFFSET, Fault
from ._negotiation import XML_CODEC, Format
from ._recording import Exchange

__all__ = ["apply_fault", "drop", "encode", "ok", "shift"]


def encode(fmt: Format, obj: Any, element: type | None) -> bytes:
    """``obj`` (a model, or a list of ``element``) in ``fmt``; ``b""`` for no answer.

    An empty list names its element type in XML (``<ArrayOfMessageBasicInfo/>``), so
    it comes from the endpoint, never from a default.
    """
    if obj is None:
        return b""
    if fmt.name == "xml":
        if type(obj) is list:
            if not obj:
                assert element is not None
                return XML_CODEC.encode_empty_list(element)
            obj = [to_wire_names(o) for o in obj]
        else:
            obj = to_wire_names(obj)
    return fmt.codec.encode(obj)


def ok(fmt: Format, data: bytes) -> web.Response:
    """200 with ``data`` (no ``Content-Type`` when there is no body)."""
    if not data:
        return web.Response()
    return web.Response(body=data, headers={"Content-Type": fmt.content_type})


def drop(request: web.Request, ex: Exchange) -> web.Response:
    """Close the connection with no answer.

    aiohttp then fails to write the returned response, which it treats as a client
    disconnection: nothing is logged.
    """
    ex.dropped = True
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response()


def _shifted(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value + OTHER_CONVERSATION_OFFSET
    if isinstance(value, str):
        return f"OTHER-{value}"
    return value


def shift(obj: Any, fields: tuple[str, ...]) -> Any:
    """``obj`` (or each item of a list) describing another item: ``fields`` shifted."""
    if isinstance(obj, list):
        return [shift(item, fields) for item in obj]
    if obj is None or not fields:
        return obj
    return attrs.evolve(obj, **{name: _shifted(getattr(obj, name)) for name in fields})


def _format_retry_after(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def apply_fault(
    request: web.Request,
    ex: Exchange,
    fault: Fault,
    fmt: Format,
    reply: Callable[[], Any],
    element: type | None,
    shifted: tuple[str, ...],
    fallback: Callable[[], Any],
) -> web.StreamResponse:
    """Answer ``fault`` instead of processing the request.

    Args:
        reply: What a success would answer (called only for faults that fake one).
        element: The answer's model type (a list's item type).
        shifted: The fields ``other_conversation`` shifts.
        fallback: A sample answer, for when ``reply``'s cannot be written in ``fmt``.
    """
    kind = fault.kind
    if kind == "status":
        assert fault.code is not None
        code = fault.code
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = _format_retry_after(fault.retry_after)
        if code in (204, 304):
            return web.Response(status=code, headers=headers)
        body = fault.body
        if body is None:
            body = render_error_body(fmt.media_type, f"{reason(code)} (injected)")
        headers["Content-Type"] = fault.content_type or fmt.content_type
        return web.Response(status=code, body=body, headers=headers)
    if kind == "drop":
        return drop(request, ex)
    if kind == "malformed":
        content_type = fault.content_type or fmt.content_type
        return web.Response(body=fault.body or b"", headers={"Content-Type": content_type})
    obj = reply()
    if kind == "other_conversation":
        obj = shift(obj, shifted)
    try:
        data = encode(fmt, obj, element)
    except ValidationError:
        data = encode(fmt, fallback(), element)
    if kind == "other_conversation":
        return ok(fmt, data)
    if kind == "wrong_content_type":
        return web.Response(body=data, headers={"Content-Type": "text/html; charset=utf-8"})
    # truncated: promise the whole body (at least a byte), send half, hang up.
    ex.status = 200
    transport = request.transport
    if transport is not None and not transport.is_closing():
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Type: {fmt.content_type}\r\n"
            f"Content-Length: {len(data) or 1}\r\n"
            "\r\n"
        ).encode("latin-1")
        transport.write(head + data[: len(data) // 2])
        transport.close()
    return web.Response()
