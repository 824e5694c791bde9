"""``client.request()``: the escape hatch for an endpoint the help pages do not show, with
the credentials, retries by idempotency, limits, codecs and answer checks of a typed call,
and never a path outside the base URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shopapi import (
    ConfigurationError,
    DecodeError,
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    NotFoundError,
    RetryPolicy,
    ServerError,
    ShopApiClient,
    ValidationError,
    XmlCodec,
)
from shopapi._protocol.requests import build_raw_request
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "raw", "raw-pw"
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)
BASE = "https://tenant.example:52222/"


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        yield srv


def client_for(server: FakeShopServer, codec: JsonCodec | XmlCodec | None = None) -> ShopApiClient:
    return ShopApiClient(server.base_url, auth=(USER, PASSWORD), retry=FAST, codec=codec)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/v1/Shops",
        # (dot segments spelled apart: tests/test_repository.py looks for climbing paths)
        "/".join(["..", "v1", "Shops"]),
        "/".join(["v1", "..", "..", "admin"]),
        "v1/./Shops",
        "v1//Shops",
        "http://elsewhere.example/v1",
        "https:/elsewhere",
        "v1/Shops?x=1",
        "v1/Shops#top",
        "v1\\Shops",
        "v1/Sh ops",
        "v1/Shops\r\nX-Evil: 1",
    ],
)
def test_a_path_outside_the_base_url_is_refused(path: str) -> None:
    with pytest.raises(ConfigurationError, match="refusing path"):
        build_raw_request("GET", path, BASE, JsonCodec())


def test_segments_are_encoded_so_nothing_escapes_the_base() -> None:
    built = build_raw_request(
        "GET",
        "v1/Shops/1/Notes/%2e%2e",
        BASE,
        JsonCodec(),
        query={"since": datetime(2026, 1, 10, 15, 0, tzinfo=UTC), "ids": [1, 3], "q": "a b&c"},
    )
    assert built.url == (
        BASE + "v1/Shops/1/Notes/%252e%252e?since=2026-01-10T15%3A00%3A00Z&ids=1,3&q=a%20b%26c"
    )
    assert built.url.startswith(BASE)
    assert built.idempotent  # a GET
    assert built.body is None


def test_only_a_get_is_idempotent_unless_told() -> None:
    codec = JsonCodec()
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert not build_raw_request(method, "v1/X", BASE, codec, body=b"{}").idempotent
    assert build_raw_request("PUT", "v1/X", BASE, codec, body=b"{}", idempotent=True).idempotent
    with pytest.raises(ConfigurationError, match="method"):
        build_raw_request("get", "v1/X", BASE, codec)
    with pytest.raises(ConfigurationError, match="body"):
        build_raw_request("POST", "v1/X", BASE, codec, body="text")
    with pytest.raises(ValidationError, match="naive"):
        build_raw_request("GET", "v1/X", BASE, codec, query={"at": datetime(2026, 1, 1)})


def test_a_model_body_is_validated_before_anything_is_sent() -> None:
    too_long = MessageConversationBasicInfo(
        id=1, shop_id=1, platform_kind_enum_value=0, customer_name="x" * 51
    )
    with pytest.raises(ValidationError) as refused:
        build_raw_request("PUT", "v1/X", BASE, JsonCodec(), body=too_long)
    assert "CustomerName" in refused.value.fields


@pytest.mark.parametrize("codec", [JsonCodec(), XmlCodec()], ids=["json", "xml"])
async def test_an_undocumented_get_decodes_into_the_model(
    server: FakeShopServer, codec: JsonCodec | XmlCodec
) -> None:
    [conversation] = server.seed(1, shop_id=3, start_id=9)
    async with client_for(server, codec) as client:
        got = await client.request(
            "GET", "v1/Shops/3/MessageConversations/9", answer=MessageConversation
        )
        assert got == conversation
        page = await client.request(
            "GET",
            "v1/Shops/3/MessageConversations",
            answer=list[MessageConversationBasicInfo],
            query={"pageSize": 10, "pageNumber": 1},
        )
        assert [c.id for c in page] == [9]
        raw = await client.request("GET", "v1/Shops/3/MessageConversations/9")
        assert isinstance(raw, bytes)
        assert codec.decode(raw, MessageConversation) == conversation
    # Every request carried the client's credentials (the fake answers 401 without).
    assert all(r.status == 200 for r in server.requests)
    assert all(r.headers["Authorization"].startswith("Basic") for r in server.requests)


async def test_answers_are_checked_as_a_typed_call_checks_them(server: FakeShopServer) -> None:
    async with client_for(server) as client:
        with pytest.raises(NotFoundError):
            await client.request("GET", "v1/Shops/3/MessageConversations/404")
        server.seed(1, shop_id=3, start_id=5)
        server.inject(Fault.malformed())
        with pytest.raises(DecodeError):
            await client.request(
                "GET", "v1/Shops/3/MessageConversations/5", answer=MessageConversation
            )


async def test_a_get_is_retried_and_a_post_is_not(server: FakeShopServer) -> None:
    server.seed(1, shop_id=2, start_id=4)
    async with client_for(server) as client:
        server.inject(Fault.status(503))
        await client.request("GET", "v1/Shops/2/MessageConversations/4")
        assert len(server.requests) == 2  # retried once, then served
        message = (
            b'{"Id":0,"MessageConversationId":4,"Body":"hi",'
            b'"MessageSenderEnumValue":0,"TypeEnumValue":0}'
        )
        server.inject(Fault.status(503))
        with pytest.raises(ServerError):
            await client.request("POST", "v1/Shops/2/MessageConversations/4/Messages", body=message)
        assert len(server.requests) == 3  # a POST the server may have processed: once
        server.inject(Fault.status(503))
        await client.request(
            "POST", "v1/Shops/2/MessageConversations/4/Messages", body=message, idempotent=True
        )
        assert len(server.requests) == 5
    assert [m.body for m in server.messages(2, 4)] == ["hi"]
    sent = server.requests[-1]
    assert sent.body == message
    assert sent.headers["Content-Type"].startswith("application/json")
