"""Unit tests of the session with aioresponses (no sockets); the fake-server tests
cover the same rules over real loopback connections."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping

import aiohttp
import attrs
import pytest
import yarl
from aioresponses import CallbackResult

from shopapi import (
    ConfigurationError,
    ConnectError,
    JsonCodec,
    Limits,
    MessageConversation,
    MessageConversationChanges,
    PlatformKindEnum,
    RetryPolicy,
    ServerError,
    ShopApiClient,
    ValidationError,
)
from tests._aioresponses_compat import CompatResponse
from tests._aioresponses_compat import mock_api as aioresponses

BASE = "http://api.test:52222"
URL = f"{BASE}/v1/Shops/7/MessageConversations/42"
FAST = RetryPolicy(max_attempts=4, initial_backoff=0.001, max_backoff=0.002)


def changes(**kw: object) -> MessageConversationChanges:
    values: dict[str, object] = {
        "id": 42,
        "shop_id": 7,
        "platform_kind_enum_value": PlatformKindEnum.FlowAi,
        "note": "n",
    }
    values.update(kw)
    return MessageConversationChanges(**values)  # type: ignore[arg-type]


def saved_body(**kw: object) -> bytes:
    c = changes(**kw)
    return JsonCodec().encode(MessageConversation(**attrs.asdict(c, recurse=False)))


async def test_update_sends_put_with_auth_and_decodes() -> None:
    seen: dict[str, object] = {}

    def callback(url: object, **kwargs: object) -> CallbackResult:
        seen.update(kwargs)
        return CallbackResult(
            status=200,
            body=saved_body(),
            content_type="application/json",
            response_class=CompatResponse,
        )

    with aioresponses() as mock:
        mock.put(URL, callback=callback)
        async with ShopApiClient(BASE, auth=("alice", "pw"), retry=FAST) as client:
            result = await client.message_conversations.update(7, 42, changes())
    assert isinstance(result, MessageConversation)
    assert result.id == 42
    assert result.note == "n"
    headers = seen["headers"]
    assert isinstance(headers, Mapping)
    assert headers["Authorization"] == "Basic YWxpY2U6cHc="
    assert headers["Accept"] == "application/json"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert seen["data"] == JsonCodec().encode(changes())


async def test_invalid_changes_send_nothing() -> None:
    with aioresponses() as mock:
        async with ShopApiClient(BASE, retry=FAST) as client:
            with pytest.raises(ValidationError) as info:
                await client.message_conversations.update(7, 43, changes(customer_email="x" * 60))
        assert not mock.requests
    assert set(info.value.fields) == {"Id", "CustomerEmail"}


async def test_503_then_success_is_retried() -> None:
    with aioresponses() as mock:
        mock.put(URL, status=503)
        mock.put(URL, status=503)
        mock.put(URL, status=200, body=saved_body(), content_type="application/json")
        async with ShopApiClient(BASE, retry=FAST) as client:
            result = await client.message_conversations.update(7, 42, changes())
        assert result.id == 42
        assert len(mock.requests[("PUT", yarl.URL(URL))]) == 3


async def test_retries_stop_at_max_attempts_with_the_last_error() -> None:
    with aioresponses() as mock:
        for _ in range(5):
            mock.put(URL, status=500, body=b'{"Message":"boom"}', content_type="application/json")
        async with ShopApiClient(BASE, retry=FAST) as client:
            with pytest.raises(ServerError) as info:
                await client.message_conversations.update(7, 42, changes())
    assert info.value.status == 500
    assert info.value.attempts == 4
    assert info.value.message == "boom"


async def test_connection_refused_is_a_chained_connect_error() -> None:
    with aioresponses() as mock:
        for _ in range(4):
            mock.put(
                URL,
                exception=aiohttp.ClientConnectorError(
                    aiohttp.client_reqrep.ConnectionKey(
                        "api.test", 52222, False, True, None, None, None
                    ),
                    ConnectionRefusedError(111, "Connection refused"),
                ),
            )
        async with ShopApiClient(BASE, retry=FAST) as client:
            with pytest.raises(ConnectError) as info:
                await client.message_conversations.update(7, 42, changes())
    assert info.value.request_sent is False
    assert info.value.attempts == 4
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorError)


async def test_logs_attempts_and_retries_without_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="shopapi")
    with aioresponses() as mock:
        mock.put(URL, status=503)
        mock.put(URL, status=200, body=saved_body(), content_type="application/json")
        async with ShopApiClient(BASE, auth=("alice", "hunter2"), retry=FAST) as client:
            await client.message_conversations.update(7, 42, changes())
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    info = [r for r in caplog.records if r.levelno == logging.INFO]
    assert any("503" in r.getMessage() and "attempt 1" in r.getMessage() for r in debug)
    assert any("-> 200" in r.getMessage() for r in debug)
    assert len(info) == 1
    assert "retrying PUT v1/Shops/7/MessageConversations/42" in info[0].getMessage()
    text = caplog.text
    assert "hunter2" not in text
    assert "aHVudGVyMg" not in text
    assert "YWxpY2U6aHVudGVyMg" not in text


async def test_repr_and_errors_never_show_credentials() -> None:
    client = ShopApiClient(BASE, auth=("alice", "hunter2"))
    assert "hunter2" not in repr(client)
    assert "<redacted>" in repr(client)
    with aioresponses() as mock:
        mock.put(URL, status=401, body=b'{"Message":"denied"}', content_type="application/json")
        async with client:
            with pytest.raises(Exception) as info:
                await client.message_conversations.update(7, 42, changes())
    assert "hunter2" not in repr(info.value)
    assert "hunter2" not in str(info.value)
    assert info.value.attempts == 1  # type: ignore[attr-defined]


async def test_rate_limit_paces_requests() -> None:
    with aioresponses() as mock:
        for _ in range(6):
            mock.put(URL, status=200, body=saved_body(), content_type="application/json")
        limits = Limits(rate=20, burst=1)
        async with ShopApiClient(BASE, retry=FAST, limits=limits) as client:
            loop = asyncio.get_running_loop()
            start = loop.time()
            await asyncio.gather(
                *(client.message_conversations.update(7, 42, changes()) for _ in range(6))
            )
            assert loop.time() - start >= 5 / 20 * 0.9


def test_options_are_validated() -> None:
    with pytest.raises(ConfigurationError):
        ShopApiClient(BASE, timeout=0)
    with pytest.raises(ConfigurationError):
        ShopApiClient(BASE, auth="alice:pw")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        ShopApiClient(BASE, headers={"Authorization": "Basic x"})
    with pytest.raises(ConfigurationError):
        ShopApiClient(BASE, headers={"X-A": "1\r\nX-B: 2"})
    with pytest.raises(ConfigurationError):
        Limits(rate=-1)
    with pytest.raises(ConfigurationError):
        ShopApiClient("https://u:p@host")


async def test_borrowed_session_is_left_open() -> None:
    async with aiohttp.ClientSession() as session:
        async with ShopApiClient(BASE, session=session) as client:
            assert client.base_url == BASE + "/"
        assert not session.closed


async def test_closed_client_refuses_requests() -> None:
    client = ShopApiClient(BASE)
    await client.close()
    with pytest.raises(ConfigurationError, match="closed"):
        await client.message_conversations.update(7, 42, changes())


def test_url_pattern_used_by_tests_is_exact() -> None:
    assert re.fullmatch(r"http://api\.test:52222/v1/Shops/7/MessageConversations/42", URL)
