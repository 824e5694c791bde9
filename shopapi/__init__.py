"""shopapi: an async client for ShopCtrl's REST API.

Models and codecs are pure; the session (aiohttp) sits on top of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from ._protocol.retry import RetryPolicy
from ._resources.coded_values import (
    DeliveryStatus,
    ProductContentType,
    ProductResourceType,
    ProductType,
    ShipmentStatus,
)
from ._resources.customers import (
    Customer,
    CustomerChanges,
)
from ._resources.message_conversations import (
    MessageBasicInfo,
    MessageChanges,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
)
from ._resources.orders import (
    Order,
    OrderBasicInfo,
    OrderChanges,
    OrderStatusDefinition,
    Parcel,
    ParcelBasicInfo,
    ParcelChanges,
    ShipmentBasicInfo,
    ShippingLabel,
)
from ._resources.products import (
    File,
    Product,
    ProductBasicInfo,
    ProductGroup,
    ProductGroupChanges,
    ProductListItem,
    ProductResource,
    ShopProduct,
)
from ._resources.shop_groups import ProductGroupBasicInfo, ShopGroup, ShopGroupChanges
from ._resources.shops import (
    PaymentTerm,
    ShopChanges,
    ShopOwnerChanges,
    ShopStatusInfo,
)
from ._resources.tickets import TicketChanges
from ._wire.enums import MessageSenderTypeEnum, MessageTypeEnum, PlatformKindEnum
from ._wire.timestamps import Timestamp
from ._wire.unknown import Unknown, UnknownMember, drop_unknown
from ._wire.validation import validate
from .codecs import Codec, CodecRegistry, JsonCodec, XmlCodec

if TYPE_CHECKING:
    from ._bulk import UpdateResult
    from ._session.client import Limits, ShopApiClient

__version__ = "0.1.0"

# The session (aiohttp) is imported on first use, so that ``import shopapi.codecs`` and
# the models stay free of aiohttp, as a sans-I/O core should.
_LAZY = {
    "Limits": "._session.client",
    "ShopApiClient": "._session.client",
    "UpdateResult": "._bulk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'shopapi' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ClientError",
    "Codec",
    "CodecRegistry",
    "ConfigurationError",
    "ConnectError",
    "Customer",
    "CustomerChanges",
    "DecodeError",
    "DeliveryStatus",
    "FieldError",
    "File",
    "JsonCodec",
    "Limits",
    "MessageBasicInfo",
    "MessageChanges",
    "MessageConversation",
    "MessageConversationBasicInfo",
    "MessageConversationChanges",
    "MessageSenderTypeEnum",
    "MessageTypeEnum",
    "NotFoundError",
    "Order",
    "OrderBasicInfo",
    "OrderChanges",
    "OrderStatusDefinition",
    "Parcel",
    "ParcelBasicInfo",
    "ParcelChanges",
    "PaymentTerm",
    "PermissionDeniedError",
    "PlatformKindEnum",
    "Product",
    "ProductBasicInfo",
    "ProductContentType",
    "ProductGroup",
    "ProductGroupBasicInfo",
    "ProductGroupChanges",
    "ProductListItem",
    "ProductResource",
    "ProductResourceType",
    "ProductType",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseMismatchError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "ShipmentBasicInfo",
    "ShipmentStatus",
    "ShippingLabel",
    "ShopApiClient",
    "ShopApiError",
    "ShopChanges",
    "ShopGroup",
    "ShopGroupChanges",
    "ShopOwnerChanges",
    "ShopProduct",
    "ShopStatusInfo",
    "TicketChanges",
    "Timestamp",
    "TransportError",
    "Unknown",
    "UnknownMember",
    "UpdateResult",
    "ValidationError",
    "XmlCodec",
    "drop_unknown",
    "validate",
]
