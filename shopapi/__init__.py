"""shopapi: an async client for ShopCtrl's REST API.

Models and codecs are pure; the session (aiohttp) sits on top of them.
"""

from __future__ import annotations

from ._bulk import UpdateResult
from ._client import Limits, ShopApiClient
from ._enums import PlatformKindEnum
from ._exceptions import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConfigurationError,
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
from ._retry import RetryPolicy
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
    "ConfigurationError",
    "ConnectError",
    "DecodeError",
    "FieldError",
    "JsonCodec",
    "Limits",
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
    "RetryPolicy",
    "ServerError",
    "ShopApiClient",
    "ShopApiError",
    "Timestamp",
    "TransportError",
    "UpdateResult",
    "ValidationError",
    "XmlCodec",
    "validate",
]
