"""Request recording: what each request was and what it got, credentials redacted."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Final

import attrs
from multidict import CIMultiDict, CIMultiDictProxy, MultiMapping

from ._faults import Fault

__all__ = ["Exchange", "RecordedRequest", "redact_headers"]

_SECRET_HEADERS: Final = ("Authorization", "Proxy-Authorization")
_AUTH_SCHEMES: Final = frozenset({"basic", "bearer", "digest", "negotiate", "ntlm"})


def _redact(value: str) -> str:
    scheme = value.split(None, 1)[0] if value.strip() else ""
    if scheme.lower() in _AUTH_SCHEMES:
        return f"{scheme} [REDACTED]"
    return "[REDACTED]"


def redact_headers(headers: CIMultiDictProxy[str]) -> CIMultiDictProxy[str]:
    """``headers`` with each credential header reduced to its scheme."""
    if not any(name in headers for name in _SECRET_HEADERS):
        return headers
    redacted: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        redacted.add(name, _redact(value) if name.title() in _SECRET_HEADERS else value)
    return CIMultiDictProxy(redacted)


@attrs.frozen
class RecordedRequest:
    """One request as the server saw it; credentials are redacted.

    Attributes:
        method: The HTTP method.
        path: The decoded path (``/v1/Shops/1/MessageConversations/2``).
        query: The query parameters.
        headers: The request headers; ``Authorization`` keeps only its scheme
            (``Basic [REDACTED]``).
        body: The request body; ``b""`` when it was never read (a drop before the body,
            or a 413).
        shop_id: The shop in the URL, when the route matched.
        conversation_id: The conversation in the URL, when there was one (more
            generally: the item the URL names, or its parent; what
            :meth:`FakeShopServer.inject`'s ``conversation_id`` targets).
        status: The status answered; ``None`` when the connection was dropped.
        fault: The fault that was applied, if any.
        received_at: ``time.monotonic()`` when the request reached the handler, to check
            a client's backoff.
        params: Every path parameter of the matched route, by its Python name
            (``{"shop_id": 1, "message_conversation_id": 2}``); empty when none matched.
    """

    method: str
    path: str
    query: MultiMapping[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    shop_id: int | None
    conversation_id: int | None
    status: int | None
    fault: Fault | None
    received_at: float
    params: Mapping[str, int | str] = attrs.field(factory=dict)


class Exchange:
    """What one request did, for the record."""

    __slots__ = (
        "body",
        "conversation_id",
        "dropped",
        "fault",
        "params",
        "received_at",
        "shop_id",
        "status",
    )

    def __init__(self) -> None:
        self.received_at = time.monotonic()
        self.body: bytes | None = None
        self.shop_id: int | None = None
        self.conversation_id: int | None = None
        self.params: Mapping[str, int | str] = {}
        self.fault: Fault | None = None
        self.dropped = False
        self.status: int | None = None
