"""shopapi: an async client for ShopCtrl's REST API.

Models and codecs are pure; the session (aiohttp) sits on top of them.
"""

from __future__ import annotations

from ._enums import PlatformKindEnum
from ._exceptions import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConnectError,
    DecodeError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseMismatchError,
    ResponseTooLargeError,
    ServerError,
    ShopApiError,
    TransportError,
    ValidationError,
)
from ._models import (
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
)
from ._timestamps import Timestamp
from ._validation import validate
from .codecs import Codec, CodecRegistry, JsonCodec, XmlCodec

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ClientError",
    "Codec",
    "CodecRegistry",
    "ConnectError",
    "DecodeError",
    "FieldError",
    "JsonCodec",
    "MessageConversation",
    "MessageConversationBasicInfo",
    "MessageConversationChanges",
    "NotFoundError",
    "PermissionDeniedError",
    "PlatformKindEnum",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseMismatchError",
    "ResponseTooLargeError",
    "ServerError",
    "ShopApiError",
    "Timestamp",
    "TransportError",
    "ValidationError",
    "XmlCodec",
    "validate",
]
