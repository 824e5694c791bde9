"""The fake server as the descriptions make it: routes, storage and faults derived from
:data:`shopapi._resources.RESOURCES`, so a resource added there is served unchanged."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import attrs
import pytest

from shopapi import (
    JsonCodec,
    MessageConversationBasicInfo,
    ResponseMismatchError,
    RetryPolicy,
    ShopApiClient,
    XmlCodec,
)
from shopapi._resources import RESOURCES
from shopapi._resources.spec import Endpoint, Key, PathParam, Resource, Role
from shopapi._wire.fields import integer, string
from shopapi.codecs import Codec
from shopapi.testing import OTHER_CONVERSATION_OFFSET, FakeShopServer, Fault
from shopapi.testing._errors import render_error_body
from shopapi.testing._faults import FaultSchedule
from shopapi.testing._routes import Matched, NotAllowed, Routes
from shopapi.testing._store import describe

USER, PASSWORD = "user", "pw"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
FAST = RetryPolicy(max_attempts=2, initial_backoff=0.001, max_backoff=0.002)


@pytest.fixture(params=["json", "xml"])
def codec(request: pytest.FixtureRequest) -> Codec:
    return JsonCodec() if request.param == "json" else XmlCodec()


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        yield srv


def client_for(server: FakeShopServer, codec: Codec) -> ShopApiClient:
    return ShopApiClient(server.base_url, auth=(USER, PASSWORD), codec=codec, retry=FAST)


# -- the two bugs -------------------------------------------------------------------------


async def test_a_list_page_of_other_conversations_is_refused(
    server: FakeShopServer, codec: Codec
) -> None:
    """``Fault.other_conversation()`` shifts the list's key (``ShopId``), which the client
    checks, so the page is refused (it used to shift only ``Id``, which nothing checks)."""
    server.seed(3)
    server.inject(Fault.other_conversation())
    async with client_for(server, codec) as client:
        with pytest.raises(ResponseMismatchError, match="shop"):
            await client.message_conversations.list_page(1)


async def test_an_empty_messages_page_under_a_fault_is_empty_in_both_formats(
    server: FakeShopServer, codec: Codec
) -> None:
    """The empty page's XML element type comes from the endpoint
    (``ArrayOfMessageBasicInfo``), not a conversation default: ``[]`` in XML as in
    JSON, where it used to be a DecodeError in XML."""
    server.seed(1)
    server.inject(Fault.other_conversation())
    async with client_for(server, codec) as client:
        assert await client.message_conversations.messages_page(1, 1) == []
    assert server.requests[-1].fault == Fault.other_conversation()


def test_other_resource_is_the_same_fault() -> None:
    assert Fault.other_resource() == Fault.other_conversation()
    assert repr(Fault.other_resource()) == "Fault.other_conversation()"


def test_the_shifted_fields_are_the_identity_and_the_most_specific_key() -> None:
    """One rule for every endpoint: ``Id`` (another item) and the key of the URL's last
    parameter that has one (what the client must check)."""
    infos = describe(RESOURCES)
    shifted = {(i.endpoint.collection, i.endpoint.name): i.shifted for i in infos.values()}
    assert shifted == {
        ("conversations", "list"): ("id", "shop_id"),
        ("conversations", "get"): ("id",),
        ("conversations", "update"): ("id",),
        ("messages", "messages"): ("id", "message_conversation_id"),
        ("messages", "post_message"): ("id", "message_conversation_id"),
        ("tickets", "insert"): (),
        ("shop_groups", "insert"): ("id",),
        ("shop_groups", "update"): (),
        ("product_groups", "root_product_groups"): ("id",),
        ("orders", "list"): ("id",),
        # No id field shows (the pages are cut before it): only the key is shifted.
        ("order_details", "by_code"): ("shop_id",),
        ("inserted_orders", "insert"): (),
        ("shipments", "shipments"): ("id", "shop_id"),
        ("parcels", "parcels"): ("id", "shop_id"),
        ("order_parcels", "order_parcels"): ("id", "order_id"),
        ("order_parcels", "insert_parcel"): (),
        ("order_statuses", "status"): ("id",),
        ("product_details", "product"): (),
        ("shop_products", "shop_product"): ("shop_id",),
        ("shop_products_by_code", "by_code"): ("shop_group_id",),
        ("product_group_details", "product_group"): ("id",),
        ("product_group_details", "insert_product_group"): (),
        ("product_group_products", "in_product_group"): ("id",),
        ("shop_group_products", "in_shop_group"): ("id",),
        ("product_resources", "resource"): ("id",),
        ("files", "file"): ("id",),
        ("shop_statuses", "status"): ("id",),
        ("payment_terms", "payment_terms"): ("id",),
        ("inserted_shops", "insert"): (),
        ("shop_owners", "insert_owner"): (),
        ("shop_owners", "update_owner"): (),
        ("customers", "by_code"): ("id", "customer_code"),
        ("inserted_customers", "insert"): (),
    }
    for info in infos.values():
        # An answer the pages do not show (None) has no fields to shift.
        key_fields = {k.field for k in info.endpoint.keys} if info.endpoint.answer else set()
        assert not key_fields or key_fields & set(info.shifted), info.endpoint.path


def _methods(*endpoints: Endpoint) -> type:
    """A class with the client methods a Resource requires (``Resource.methods``); the fake
    server never calls them, these tests only serve the descriptions."""

    def method(self: object, *args: object, **kwargs: object) -> object:
        raise AssertionError("the fake server's tests call no client method")

    return type("Methods", (), {m: method for e in endpoints for m in e.methods()})


# -- routing ------------------------------------------------------------------------------


def test_routes_match_case_insensitively_and_check_int_parameters() -> None:
    routes = Routes(RESOURCES)
    found = routes.match("PUT", "/V1/SHOPS/3/messageconversations/7")
    assert isinstance(found, Matched)
    assert found.endpoint.name == "update"
    assert found.values == {"shop_id": 3, "message_conversation_id": 7}
    assert routes.match("PUT", "/v1/Shops/3/MessageConversations/x") is None
    assert routes.match("PUT", "/v1/Shops/3/MessageConversations/99999999999") is None
    assert routes.match("GET", "/v1/Shops/3/Nothing") is None
    allowed = routes.match("DELETE", "/v1/Shops/3/MessageConversations/7/Messages")
    assert isinstance(allowed, NotAllowed)
    assert allowed.allow == "GET, POST"


def test_a_catch_all_takes_the_rest_of_the_path() -> None:
    code = PathParam(wire="code", name="code", type=str, catch_all=True)
    group = PathParam(wire="shopGroupId", name="shop_group_id")
    endpoint = Endpoint(
        name="by_code",
        role=Role.GET,
        method="GET",
        path="v1/ShopGroups/{shopGroupId}/ShopProductByCode/{*code}",
        params=(group, code),
        answer=ShopGroup,
        collection="products",
        summary="A product by its code.",
    )
    routes = Routes(
        [
            Resource(
                name="products", cli="products", endpoints=(endpoint,), methods=_methods(endpoint)
            )
        ]
    )
    found = routes.match("GET", "/v1/shopgroups/4/shopproductbycode/A/B-1")
    assert isinstance(found, Matched)
    assert found.values == {"shop_group_id": 4, "code": "A/B-1"}


# -- a resource added to RESOURCES is served without a change to shopapi.testing ---------


@attrs.frozen(kw_only=True)
class ShopGroup:
    """Shaped like the API's ``ShopGroup``."""

    id: int = integer("Id", nullable=False, required=True)
    name: str | None = string("Name", 50)
    shop_owner_id: int = integer("ShopOwnerId", nullable=False, required=True)
    icon_file_id: int | None = integer("IconFileId")


@attrs.frozen(kw_only=True)
class ShopGroupChanges(ShopGroup):
    """Shaped like ``ShopGroupChanges``."""


@attrs.frozen(kw_only=True)
class ShopProduct:
    """Shaped like the API's ``ShopProduct``, found by its code."""

    id: int = integer("Id", nullable=False, required=True)
    code: str | None = string("Code", 50)
    shop_group_id: int = integer("ShopGroupId", nullable=False, required=True)


_GROUP = PathParam(wire="shopGroupId", name="shop_group_id")
BY_CODE = Endpoint(
    name="product_by_code",
    role=Role.GET,
    method="GET",
    path="v1/ShopGroups/{shopGroupId}/ShopProductByCode/{*code}",
    params=(_GROUP, PathParam(wire="code", name="code", type=str, catch_all=True)),
    answer=ShopProduct,
    keys=(Key("shop_group_id", "shop_group_id"), Key("code", "code")),
    collection="shop_products",
    summary="A product of the shop group by its code.",
)

_GROUP_ENDPOINTS = (
    Endpoint(
        name="update",
        role=Role.UPDATE,
        method="PUT",
        path="v1/ShopGroups",
        body=ShopGroupChanges,
        collection="shop_groups",
        summary="Update an existing ShopGroup (answers no model).",
    ),
    Endpoint(
        name="create",
        role=Role.INSERT,
        method="POST",
        path="v1/ShopGroups",
        body=ShopGroupChanges,
        answer=ShopGroup,
        insert_id="id",
        collection="shop_groups",
        summary="Add a new ShopGroup.",
    ),
    Endpoint(
        name="get",
        role=Role.GET,
        method="GET",
        path="v1/ShopGroups/{shopGroupId}",
        params=(_GROUP,),
        answer=ShopGroup,
        keys=(Key("id", "shop_group_id"),),
        collection="shop_groups",
        summary="One ShopGroup.",
    ),
    BY_CODE,
)

GROUPS = Resource(
    methods=_methods(*_GROUP_ENDPOINTS),
    name="shop_groups",
    cli="shop-groups",
    endpoints=_GROUP_ENDPOINTS,
)


@pytest.fixture
async def groups(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeShopServer]:
    # GROUPS stands in for the real shop groups resource, and for any other whose paths
    # it would clash with (products: GET ShopProductByCode).
    taken = {(e.method, e.path.lower()) for e in GROUPS.endpoints}
    others = tuple(
        r
        for r in RESOURCES
        if r.name != GROUPS.name and not {(e.method, e.path.lower()) for e in r.endpoints} & taken
    )
    monkeypatch.setattr("shopapi.testing._server.RESOURCES", (*others, GROUPS))
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        yield srv


async def test_a_new_resource_is_routed_stored_and_answered(groups: FakeShopServer) -> None:
    json = JsonCodec()
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    url = f"{groups.base_url}/v1/ShopGroups"
    new = ShopGroupChanges(id=0, name="Bikes", shop_owner_id=3)
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=json.encode(new), headers=headers) as resp:
            assert resp.status == 200
            created = json.decode(await resp.read(), ShopGroup)
        assert created == ShopGroup(id=1, name="Bikes", shop_owner_id=3)
        changed = ShopGroupChanges(id=1, name="Bicycles", shop_owner_id=3)
        async with http.put(url, data=json.encode(changed), headers=headers) as resp:
            assert resp.status == 200
            assert await resp.read() == b""  # the PUT answers no model
        missing = attrs.evolve(changed, id=9)
        async with http.put(url, data=json.encode(missing), headers=headers) as resp:
            assert resp.status == 404
            assert (await resp.json())["Message"] == "ShopGroup 9 was not found."
        async with http.post(url, data=json.encode(changed), headers=headers) as resp:
            assert resp.status == 400  # an insert's Id must be 0
            assert (await resp.json())["ModelState"] == {
                "changes.Id": ["Id must be 0 for a new shop group."]
            }
        async with http.get(f"{url}/1", headers={"Authorization": AUTH}) as resp:
            assert json.decode(await resp.read(), ShopGroup) == ShopGroup(
                id=1, name="Bicycles", shop_owner_id=3
            )
        async with http.delete(url, headers={"Authorization": AUTH}) as resp:
            assert resp.status == 405
            assert resp.headers["Allow"] == "POST, PUT"


async def test_seed_endpoint_seeds_any_resource(groups: FakeShopServer) -> None:
    get = GROUPS.endpoint("get")
    [group] = groups.seed_endpoint(get, {"shop_group_id": 5})
    assert type(group) is ShopGroup  # the answer type, on a tie
    assert group.id == 5
    assert groups.seed_endpoint(get, {"shop_group_id": 5}) == []  # already stored
    created = groups.seed_endpoint(GROUPS.endpoint("create"), {}, n=2)
    assert [g.id for g in created] == [6, 7]


async def test_seed_endpoint_stores_the_parent_first(server: FakeShopServer) -> None:
    messages = RESOURCES[0].endpoint("messages")
    seeded = server.seed_endpoint(messages, {"shop_id": 2, "message_conversation_id": 4}, n=3)
    assert server.get(2, 4) == seeded[0]
    assert server.messages(2, 4) == seeded[1:]
    assert [m.message_conversation_id for m in seeded[1:]] == [4, 4, 4]


# -- error bodies and fault schedule ------------------------------------------------------


def test_error_bodies_keep_their_bytes() -> None:
    state = {"changes.Note": ["a <b> & c"], "changes.Id": ["x", "y"]}
    assert render_error_body("application/json", "The request is invalid.", state) == (
        b'{"Message":"The request is invalid.","ModelState":'
        b'{"changes.Note":["a <b> & c"],"changes.Id":["x","y"]}}'
    )
    assert render_error_body("text/xml", "The request is invalid.", state) == (
        b"<Error><Message>The request is invalid.</Message><ModelState>"
        b"<changes.Note>a &lt;b&gt; &amp; c</changes.Note>"
        b"<changes.Id>x</changes.Id><changes.Id>y</changes.Id></ModelState></Error>"
    )


def test_the_fault_schedule_is_pure() -> None:
    schedule = FaultSchedule()
    schedule.inject([Fault.status(503)], 7)
    schedule.inject([Fault.drop()], None)
    assert schedule.next(8) == Fault.drop()
    assert schedule.next(7) == Fault.status(503)
    assert schedule.next(7) is None
    schedule.set_rate(
        transient=0.0,
        permanent=1.0,
        seed=1,
        transient_faults=[],
        permanent_fault=Fault.status(400),
    )
    assert schedule.permanently_failing(7)
    assert schedule.next(7) == Fault.status(400)
    assert schedule.next(None) is None  # the permanent draw is per id


async def test_the_shifted_page_names_another_shop(server: FakeShopServer) -> None:
    server.seed(2)
    server.inject(Fault.other_resource())
    async with aiohttp.ClientSession() as http:
        url = f"{server.base_url}/v1/Shops/1/MessageConversations"
        async with http.get(url, headers={"Authorization": AUTH}) as resp:
            page = JsonCodec().decode(await resp.read(), list[MessageConversationBasicInfo])
    assert {c.shop_id for c in page} == {1 + OTHER_CONVERSATION_OFFSET}


async def test_a_get_by_code_finds_the_item_by_its_keys(groups: FakeShopServer) -> None:
    """No identity in the path: the item whose key fields equal the path's is found, and
    its parent (the shop group, whose GET path is a prefix) must be stored."""
    group, product = groups.seed_endpoint(BY_CODE, {"shop_group_id": 5, "code": "A/B-1"})
    assert type(group) is ShopGroup
    assert group.id == 5
    assert type(product) is ShopProduct
    assert (product.code, product.shop_group_id) == ("A/B-1", 5)
    json = JsonCodec()
    headers = {"Authorization": AUTH}
    base = f"{groups.base_url}/v1/ShopGroups"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/5/ShopProductByCode/A/B-1", headers=headers) as resp:
            assert resp.status == 200
            assert json.decode(await resp.read(), ShopProduct) == product
        async with http.get(f"{base}/5/ShopProductByCode/A/B-2", headers=headers) as resp:
            assert resp.status == 404
            assert (await resp.json())[
                "Message"
            ] == "ShopProduct A/B-2 was not found in shop group 5."
        async with http.get(f"{base}/6/ShopProductByCode/A/B-1", headers=headers) as resp:
            assert resp.status == 404
            assert (await resp.json())["Message"] == "ShopGroup 6 was not found."
