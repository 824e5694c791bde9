"""The fake server applies the list filters to what it stores, as the real one would, and
refuses loudly the ones it has no field to apply to (see shopapi/testing/_filters.py)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import aiohttp
import pytest

from shopapi import RetryPolicy, ServerError, ShopApiClient
from shopapi._resources import RESOURCES
from shopapi._resources.orders import RESOURCE as ORDERS
from shopapi._resources.products import RESOURCE as PRODUCTS
from shopapi.testing import FakeShopServer
from shopapi.testing._filters import Unapplied, plan
from shopapi.testing._store import describe

USER, PASSWORD = "user", "pw"
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)
NOW = datetime.now(UTC)


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        yield srv


def client_for(server: FakeShopServer) -> ShopApiClient:
    return ShopApiClient(server.base_url, auth=(USER, PASSWORD), retry=FAST)


def test_the_filters_the_fake_cannot_apply_are_named() -> None:
    """The orders page is cut before any status or e-mail field; a parcel's status is of a
    type no page shows. Every other filter has a field (or the change time)."""
    infos = describe(RESOURCES)
    refused = {
        (endpoint.name, wire)
        for endpoint, info in infos.items()
        for wire, made in plan(endpoint, info.collection.stored).items()
        if isinstance(made, Unapplied)
    }
    assert refused == {
        ("list", "mainstatusid"),
        ("list", "mainstatusbasestatusid"),
        ("list", "emailaddress"),
        ("parcels", "parcelstatusid"),
    }


async def test_the_orders_changed_since_yesterday_are_exactly_those(
    server: FakeShopServer,
) -> None:
    """``OrderBasicInfo`` is cut before its change date: the fake filters on the change
    time it recorded when it stored each order, which ``seed_endpoint`` sets."""
    endpoint = ORDERS.endpoint("list")
    server.seed_endpoint(endpoint, {"shop_id": 1}, n=2, changed=NOW - timedelta(days=3))
    recent = server.seed_endpoint(endpoint, {"shop_id": 1}, n=3, changed=NOW - timedelta(hours=1))
    server.seed_endpoint(endpoint, {"shop_id": 2}, n=1, changed=NOW)  # another shop
    yesterday = NOW - timedelta(days=1)
    async with client_for(server) as client:
        found = [o async for o in client.orders.list(1, from_date_changed=yesterday)]
        assert [o.id for o in found] == [o.id for o in recent]
        older = await client.orders.list_page(1, until_date_changed=yesterday)
        assert len(older) == 2
        everything = await client.orders.list_page(1)
        assert len(everything) == 5
    # Sent as ISO 8601 with its offset, percent-encoded ('+' would read as a space).
    sent = server.requests[-3].query["fromDateChanged"]
    assert datetime.fromisoformat(sent) == yesterday


async def test_a_date_filter_compares_instants_whatever_the_offset(
    server: FakeShopServer,
) -> None:
    """Parcels show ``ChangedTimestamp``: the filter applies to it; +01:00 and Z name the
    same instant, and both bounds include it."""
    endpoint = ORDERS.endpoint("parcels")
    at = datetime(2026, 1, 10, 15, 30, tzinfo=UTC)
    [parcel] = server.seed_endpoint(endpoint, {"shop_id": 3}, changed=at)
    assert parcel.changed_timestamp == at
    cet = timezone(timedelta(hours=1))
    async with client_for(server) as client:
        assert await client.orders.parcels_page(3, from_date_changed=at.astimezone(cet)) == [parcel]
        assert await client.orders.parcels_page(3, until_date_changed=at) == [parcel]
        later = datetime(2026, 1, 10, 16, 31, tzinfo=cet)  # 15:31 UTC
        assert await client.orders.parcels_page(3, from_date_changed=later) == []


async def test_ids_booleans_and_search_filter_by_their_fields(server: FakeShopServer) -> None:
    shipments = ORDERS.endpoint("shipments")
    a, b, c = server.seed_endpoint(shipments, {"shop_id": 4}, n=3)
    products = PRODUCTS.endpoint("in_shop_group")
    p, q = server.seed_endpoint(products, {"shop_group_id": 5}, n=2)
    async with client_for(server) as client:
        got = await client.orders.shipments_page(4, shipment_status_id=b.shipment_status_id)
        assert got == [s for s in (a, b, c) if s.shipment_status_id == b.shipment_status_id]
        assert got
        parcels = ORDERS.endpoint("parcels")
        seeded = server.seed_endpoint(parcels, {"shop_id": 6}, n=2)
        account = seeded[0].carrier_account_id
        got_parcels = await client.orders.parcels_page(6, carrier_account_id=account)
        assert got_parcels == [x for x in seeded if x.carrier_account_id == account]
        # search: a substring of Name, Code or Hscode (EAN is cut off the page), any case
        assert p.code is not None
        needle = p.code[1:-1].lower()
        found = await client.products.in_shop_group_page(5, search=needle)
        assert found == [x for x in (p, q) if needle in x.code.lower()]
        assert p in found
        assert await client.products.in_shop_group_page(5, search="no such text") == []
        published = await client.products.in_shop_group_page(5, published=p.published)
        assert published == [x for x in (p, q) if x.published == p.published]


async def test_a_filter_the_fake_cannot_apply_is_refused_not_ignored(
    server: FakeShopServer,
) -> None:
    server.seed_endpoint(ORDERS.endpoint("list"), {"shop_id": 7}, n=2)
    async with client_for(server) as client:
        with pytest.raises(ServerError, match="emailAddress") as refused:
            await client.orders.list_page(7, email_address="a@example.com")
        assert refused.value.status == 501
        with pytest.raises(ServerError, match="parcelStatusId"):
            await client.orders.parcels_page(7, parcel_status_id=[1, 3])
    assert [r.status for r in server.requests] == [501, 501]  # not retried


async def test_a_filter_value_that_does_not_bind_is_a_400_naming_it(
    server: FakeShopServer,
) -> None:
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    url = f"{server.base_url}/v1/Shops/1/Shipments?fromdatechanged=yesterday&ShipmentStatusId=x"
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Authorization": auth, "Accept": "application/json"}) as resp,
    ):
        assert resp.status == 400
        body = await resp.json()
    assert body["ModelState"] == {
        "fromDateChanged": ["The value 'yesterday' is not valid for fromDateChanged."],
        "shipmentStatusId": ["The value 'x' is not valid for shipmentStatusId."],
    }


async def test_store_keeps_an_item_a_test_chooses_where_its_get_finds_it(
    server: FakeShopServer,
) -> None:
    from shopapi import File, ProductGroupBasicInfo

    endpoint = PRODUCTS.endpoint("file")
    chosen = File(id=12, filename="label.pdf", file_length=3)
    assert server.store(endpoint, {"file_id": 12}, chosen) == chosen
    async with client_for(server) as client:
        assert await client.products.file(12) == chosen
    with pytest.raises(TypeError, match="File"):
        server.store(endpoint, {"file_id": 13}, ProductGroupBasicInfo(id=1, nr_of_childs=0))
