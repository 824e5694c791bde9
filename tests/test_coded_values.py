"""The coded values: generated open IntEnums, held by the fields the pages describe, taken
by their filters, and refused by the generator where the pages do not name them."""

from __future__ import annotations

import base64
import copy
import inspect
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from shopapi import (
    DeliveryStatus,
    JsonCodec,
    ProductBasicInfo,
    ProductContentType,
    ProductResource,
    ProductResourceType,
    ProductType,
    RetryPolicy,
    ShipmentBasicInfo,
    ShipmentStatus,
    ShippingLabel,
    ShopApiClient,
    ValidationError,
    XmlCodec,
    helpgen,
)
from shopapi._protocol.requests import render_query
from shopapi._resources import orders
from shopapi._resources.orders import Orders
from shopapi._wire.fields import Kind, wire_fields
from shopapi.codecs import Codec
from shopapi.testing import FakeShopServer

ROOT = Path(__file__).resolve().parents[1]
API: dict[str, Any] = json.loads((ROOT / "spec/api.json").read_text(encoding="utf-8"))
CONFIG: dict[str, Any] = json.loads((ROOT / "spec/resources.json").read_text(encoding="utf-8"))
SHIPMENTS = orders.RESOURCE.endpoint("shipments")
USER, PASSWORD = "user", "pw"


def test_the_coded_values_are_the_ones_index_md_lists() -> None:
    """The members, as spec/help/INDEX.md ("Enums and coded values") lists them."""
    statuses = ["NotPlanned", "Planned", "Shipping", "Delivered", "Cancelled", "Exception"]
    statuses.append("Deleted")
    assert {m.name: m.value for m in ShipmentStatus} == {
        **{name: i for i, name in enumerate(statuses, 1)},
        "Partiallydelivered": 8,
    }
    assert {m.name: m.value for m in DeliveryStatus} == {
        name: i for i, name in enumerate(statuses, 1)
    }
    assert [(m.name, m.value) for m in ProductType] == [
        ("SimpleProduct", 0),
        ("ProductVariantParent", 1),
        ("ProductVariant", 2),
    ]
    assert [(m.name, m.value) for m in ProductResourceType] == [
        ("File", 0),
        ("Link", 1),
        ("SharedFile", 2),
    ]
    assert [(m.name, m.value) for m in ProductContentType] == [
        ("Generic", 0),
        ("Image", 1),
        ("Movie", 2),
        ("Document", 3),
    ]


@pytest.mark.parametrize(
    ("model", "wire", "enum_cls", "nullable"),
    [
        (ShipmentBasicInfo, "ShipmentStatusId", ShipmentStatus, True),
        (ShippingLabel, "DeliveryStatusId", DeliveryStatus, True),
        (ProductBasicInfo, "Type", ProductType, False),
        (ProductResource, "ResourceType", ProductResourceType, True),
        (ProductResource, "ContentType", ProductContentType, True),
    ],
)
def test_each_field_is_a_coded_integer_of_its_enum(
    model: type, wire: str, enum_cls: type, nullable: bool
) -> None:
    """Kind, enum and nullability as the pages give them (``Type`` is an ``int``, the
    others ``int?``), and the annotation says what the field holds."""
    [f] = [f for f in wire_fields(model) if f.wire == wire]
    assert (f.kind, f.enum, f.nullable, f.required) == (Kind.CODED, enum_cls, nullable, False)
    assert get_type_hints(model)[f.name] == enum_cls | int | None


@pytest.mark.parametrize("codec", [JsonCodec(), XmlCodec()], ids=["json", "xml"])
def test_a_shipment_reads_its_status_as_a_member_and_keeps_one_it_does_not_name(
    codec: Codec,
) -> None:
    """The integer on the wire in both formats; a value the pages do not name (9) is kept
    as the plain int and written back unchanged."""
    for value, expected_type in [(ShipmentStatus.Delivered, ShipmentStatus), (9, int)]:
        shipment = ShipmentBasicInfo(
            id=1, shop_id=7, carrier_account_id=3, is_return=False, shipment_status_id=value
        )
        body = codec.encode(shipment)
        assert (b"<ShipmentStatusId>%d<" % value in body) or (
            b'"ShipmentStatusId":%d,' % value in body
        )
        read: Any = codec.decode(body, ShipmentBasicInfo)
        assert type(read.shipment_status_id) is expected_type
        assert read.shipment_status_id == value
        assert codec.encode(read) == body


def test_the_status_filter_takes_a_member_or_an_int_and_nothing_else() -> None:
    """``shipmentStatusId`` writes a member's integer; another type is refused, naming the
    filter."""
    query = render_query(SHIPMENTS, {"shipment_status_id": ShipmentStatus.Delivered})
    assert query == "shipmentStatusId=4&pageSize=100&pageNumber=1"
    assert render_query(SHIPMENTS, {"shipment_status_id": 9}).startswith("shipmentStatusId=9&")
    for bad in ("Delivered", True, 2**31):
        with pytest.raises(ValidationError) as info:
            render_query(SHIPMENTS, {"shipment_status_id": bad})
        assert info.value.fields == ("shipmentStatusId",)
    for method in (Orders.shipments, Orders.shipments_page):
        hint = get_type_hints(method)["shipment_status_id"]
        assert hint == ShipmentStatus | int | None
        assert inspect.signature(method).parameters["shipment_status_id"].default is None


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        yield srv


@pytest.mark.parametrize("codec", [JsonCodec(), XmlCodec()], ids=["json", "xml"])
async def test_the_client_sends_the_member_and_reads_members_back(
    server: FakeShopServer, codec: Codec
) -> None:
    """Against the fake server: the shipments it serves (whose statuses are named values)
    are read with members, and the filter is sent as the member's integer."""
    seeded = server.seed_endpoint(SHIPMENTS, {"shop_id": 7}, n=3)
    retry = RetryPolicy(max_attempts=1)
    async with ShopApiClient(
        server.base_url, auth=(USER, PASSWORD), codec=codec, retry=retry
    ) as client:
        everything = await client.orders.shipments_page(7)
        filtered = await client.orders.shipments_page(7, shipment_status_id=ShipmentStatus.Shipping)
    assert everything == seeded
    assert all(type(s.shipment_status_id) is ShipmentStatus for s in everything)
    assert server.requests[-1].query.get("shipmentStatusId") == "3"
    assert set(filtered) <= set(seeded)  # however the fake applies it
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert auth not in repr(server.requests[-1])


def _refused(change: dict[str, Any], message: str) -> None:
    config = copy.deepcopy(CONFIG)
    config["coded_values"]["DeliveryStatus"].update(change)
    with pytest.raises(helpgen.GenerateError, match=message):
        helpgen.generate(API, config)


def test_the_generator_refuses_a_member_the_description_does_not_name() -> None:
    """ShippingLabel.DeliveryStatusId's description stops at ``Deleted = 7``: adding the
    shipment's 8th status, or renumbering one, is refused."""
    members = dict(CONFIG["coded_values"]["DeliveryStatus"]["members"])
    _refused(
        {"members": {**members, "Partiallydelivered": 8}},
        r"ShippingLabel\.DeliveryStatusId does not name Partiallydelivered = 8",
    )
    _refused({"members": {**members, "Deleted": 9}}, "does not name Deleted = 9")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields": ["ShippingLabel.TrackingCode"]}, "is no integer property the pages show"),
        ({"fields": ["ShippingLabel.Invented"]}, "is no integer property the pages show"),
        ({"filters": ["deliveryStatusId"]}, "is no integer filter the pages show"),
        ({"filters": ["parcelStatusId"]}, "is no integer filter the pages show"),
        ({"source": " "}, "names its source"),
        ({"members": {}}, "members are identifiers"),
        ({"fields": ["ShipmentBasicInfo.ShipmentStatusId"]}, "is ShipmentStatus already"),
    ],
)
def test_the_generator_refuses_what_the_pages_do_not_show(
    change: dict[str, Any], message: str
) -> None:
    _refused(change, message)


def test_a_class_name_the_pages_use_is_refused() -> None:
    config = copy.deepcopy(CONFIG)
    config["coded_values"]["Parcel"] = config["coded_values"].pop("DeliveryStatus")
    with pytest.raises(helpgen.GenerateError, match="coded value Parcel: not a class name"):
        helpgen.generate(API, config)


def test_without_the_entry_the_field_is_a_plain_integer() -> None:
    """The hand-kept file is what makes a field coded: without the entry the generator
    writes ``integer(...)``, as the pages alone say."""
    config = copy.deepcopy(CONFIG)
    del config["coded_values"]["DeliveryStatus"]
    levels = helpgen.model_specs(API, config, "ShippingLabel")
    assert (
        "delivery_status_id",
        "DeliveryStatusId",
        "int | None",
        'integer("DeliveryStatusId")',
    ) in levels[0]
    levels = helpgen.model_specs(API, CONFIG, "ShippingLabel")
    assert (
        "delivery_status_id",
        "DeliveryStatusId",
        "DeliveryStatus | int | None",
        'coded_field("DeliveryStatusId", DeliveryStatus)',
    ) in levels[0]
