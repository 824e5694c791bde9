"""The public names are pinned: adding or removing one is a deliberate act."""

from __future__ import annotations

import pytest

import shopapi
import shopapi.codecs
import shopapi.testing

PUBLIC = [
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


def test_public_names_are_pinned_and_sorted() -> None:
    assert shopapi.__all__ == PUBLIC
    assert sorted(shopapi.__all__) == shopapi.__all__


def test_every_public_name_resolves() -> None:
    for name in shopapi.__all__:
        assert getattr(shopapi, name) is not None
    assert set(shopapi.__all__) <= set(dir(shopapi))


def test_design_surface_is_importable_from_the_top() -> None:
    from shopapi import (  # noqa: F401
        ApiError,
        DecodeError,
        JsonCodec,
        MessageConversation,
        MessageConversationBasicInfo,
        MessageConversationChanges,
        PlatformKindEnum,
        RetryPolicy,
        ShopApiClient,
        ShopApiError,
        TransportError,
        ValidationError,
        XmlCodec,
    )


def test_every_error_is_a_shop_api_error() -> None:
    errors = [getattr(shopapi, n) for n in PUBLIC if n.endswith("Error") and n != "FieldError"]
    assert all(issubclass(e, shopapi.ShopApiError) for e in errors)


def test_submodule_surfaces() -> None:
    assert shopapi.codecs.__all__ == sorted(shopapi.codecs.__all__)
    assert {"Codec", "CodecRegistry", "JsonCodec", "XmlCodec", "default_registry"} <= set(
        shopapi.codecs.__all__
    )
    assert {"FakeShopServer", "Fault", "RecordedRequest"} <= set(shopapi.testing.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        shopapi.NoSuchThing  # noqa: B018
