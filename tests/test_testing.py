"""The fake ShopCtrl server, exercised with a plain aiohttp client over loopback."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import attrs
import pytest
from multidict import CIMultiDictProxy

from shopapi import (
    DecodeError,
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    Timestamp,
    XmlCodec,
)
from shopapi._protocol.errorbody import parse_error_body
from shopapi._wire.validation import field_errors
from shopapi.testing import FakeShopServer, Fault, RecordedRequest

JSON = JsonCodec()
XML = XmlCodec()
PASSWORD = "s3cr3t-Pa55word"
AUTH = "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode()
JSON_CT = "application/json; charset=utf-8"
XML_CT = "application/xml; charset=utf-8"


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(password=PASSWORD) as s:
        s.seed(5)
        yield s


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def item_url(server: FakeShopServer, conversation_id: int, shop_id: int = 1) -> str:
    return f"{server.base_url}/v1/Shops/{shop_id}/MessageConversations/{conversation_id}"


def list_url(server: FakeShopServer, shop_id: int = 1) -> str:
    return f"{server.base_url}/v1/Shops/{shop_id}/MessageConversations"


async def put(
    http: aiohttp.ClientSession,
    server: FakeShopServer,
    conversation_id: int,
    body: Any,
    *,
    content_type: str = "application/json",
    accept: str | None = None,
    auth: str | None = AUTH,
    **kwargs: Any,
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    headers = {"Content-Type": content_type}
    if accept is not None:
        headers["Accept"] = accept
    if auth is not None:
        headers["Authorization"] = auth
    async with http.put(
        item_url(server, conversation_id), data=body, headers=headers, **kwargs
    ) as resp:
        return resp.status, resp.headers, await resp.read()


def changes_for(
    server: FakeShopServer, conversation_id: int, **changes: Any
) -> MessageConversationChanges:
    stored = server.get(1, conversation_id)
    assert stored is not None
    return stored.to_changes(**changes)


def as_conversation(changes: MessageConversationChanges) -> MessageConversation:
    return MessageConversation(**attrs.asdict(changes, recurse=False))


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll server state (there is no event to wait on) for up to two seconds."""
    deadline = time.monotonic() + 2.0
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.005)


def error_of(headers: Any, body: bytes) -> Any:
    parsed = parse_error_body(body, headers.get("Content-Type"))
    assert parsed is not None, body
    return parsed


# -- lifecycle ----------------------------------------------------------------------------


async def test_start_close_and_base_url(http: aiohttp.ClientSession) -> None:
    server = FakeShopServer(password=PASSWORD)
    with pytest.raises(RuntimeError):
        _ = server.base_url
    await server.start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
        assert not server.base_url.endswith("/")
        with pytest.raises(RuntimeError):
            await server.start()
        async with http.get(item_url(server, 1), headers={"Authorization": AUTH}) as resp:
            assert resp.status == 404  # running, and nothing seeded
    finally:
        await server.close()
    await server.close()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.base_url


async def test_context_manager_stops_serving(http: aiohttp.ClientSession) -> None:
    async with FakeShopServer(password=PASSWORD) as server:
        server.seed(1)
        url = item_url(server, 1)
        async with http.get(url, headers={"Authorization": AUTH}) as resp:
            assert resp.status == 200
    async with aiohttp.ClientSession() as fresh:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with fresh.get(url, headers={"Authorization": AUTH}):
                pass


async def test_repr_never_shows_the_password(server: FakeShopServer) -> None:
    assert PASSWORD not in repr(server)
    assert server.base_url in repr(server)


# -- auth ---------------------------------------------------------------------------------


async def test_missing_credentials_get_401_with_challenge(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    body = JSON.encode(changes_for(server, 1))
    status, headers, data = await put(http, server, 1, body, auth=None)
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="ShopCtrl"'
    assert error_of(headers, data).message == "Authorization has been denied for this request."
    assert server.saves(1) == 0
    assert server.put_count(1) == 1  # counted though refused


async def test_wrong_password_is_401_and_scheme_is_case_insensitive(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    body = JSON.encode(changes_for(server, 1))
    wrong = "Basic " + base64.b64encode(b"user:nope").decode()
    assert (await put(http, server, 1, body, auth=wrong))[0] == 401
    assert (await put(http, server, 1, body, auth="Basic !!notbase64"))[0] == 401
    assert (await put(http, server, 1, body, auth="Bearer " + PASSWORD))[0] == 401
    lower = "basic " + AUTH.split(" ", 1)[1]
    assert (await put(http, server, 1, body, auth=lower))[0] == 200


async def test_a_401_does_not_consume_a_fault(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.status(503))
    body = JSON.encode(changes_for(server, 1))
    assert (await put(http, server, 1, body, auth=None))[0] == 401
    assert (await put(http, server, 1, body))[0] == 503
    assert (await put(http, server, 1, body))[0] == 200


# -- PUT ----------------------------------------------------------------------------------


async def test_put_json_round_trip_is_byte_exact(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    changes = changes_for(server, 2, note="called back", rating=None)
    status, headers, data = await put(http, server, 2, JSON.encode(changes))
    expected = as_conversation(changes)
    assert status == 200
    assert headers["Content-Type"] == JSON_CT
    assert data == JSON.encode(expected)
    assert server.get(1, 2) == expected
    assert server.conversations[(1, 2)] == expected
    assert server.saves(2) == 1
    assert server.put_count(2) == 1


async def test_put_xml_round_trip_is_byte_exact(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    changes = changes_for(server, 3, customer_name="Zoë <&> Ørsted")
    status, headers, data = await put(
        http,
        server,
        3,
        XML.encode(changes),
        content_type="text/xml; charset=utf-8",
        accept="application/xml",
    )
    expected = as_conversation(changes)
    assert status == 200
    assert headers["Content-Type"] == XML_CT
    assert data == XML.encode(expected)
    assert server.get(1, 3) == expected


async def test_timestamps_keep_their_seventh_digit(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    body = JSON.encode(changes_for(server, 1)).replace(b'"CreationDate":null', b"")
    text = b'"CreationDate":"2026-01-11T16:13:16.7386644+01:00"'
    body = re.sub(rb'"CreationDate":"[^"]*"', text, body)
    status, _, data = await put(http, server, 1, body)
    assert status == 200
    assert text in data
    stored = server.get(1, 1)
    assert stored is not None
    assert isinstance(stored.creation_date, Timestamp)  # dates read are Timestamps
    assert stored.creation_date.to_dotnet() == "2026-01-11T16:13:16.7386644+01:00"


NEGOTIATION = [
    # (Accept, request Content-Type, answered Content-Type)
    ("application/json", "application/json", JSON_CT),
    ("*/*", "application/xml", JSON_CT),  # */* matches JSON, the first formatter
    (None, "application/xml", XML_CT),  # no Accept: answer in the request's format
    ("text/plain", "application/xml", XML_CT),  # nothing acceptable: the same
    ("text/plain", "application/json", JSON_CT),
    ("application/xml", "application/json", XML_CT),
    ("text/xml", "application/json", "text/xml; charset=utf-8"),
    ("text/json", "application/xml", "text/json; charset=utf-8"),
    ("application/json;q=0.5, application/xml", "application/json", XML_CT),
    ("application/xml;q=0.9, application/json;q=0.9", "application/xml", JSON_CT),
    ("text/html, application/xml;q=0.1", "application/json", XML_CT),
    ("application/json;q=0, application/xml;q=0.5", "application/json", XML_CT),
    ("application/*;q=0.8, text/xml", "application/json", "text/xml; charset=utf-8"),
    ("application/*", "application/xml", JSON_CT),
    ("application/*, text/xml", "application/json", "text/xml; charset=utf-8"),  # literal wins
    ("application/xml;q=0", "application/json", JSON_CT),  # q=0: not acceptable at all
    ("*/*;q=0.1, application/xml;q=0.2", "application/json", XML_CT),
    ("application/xml;q=bogus, application/json", "application/xml", JSON_CT),
]


@pytest.mark.parametrize(("accept", "request_type", "answered"), NEGOTIATION)
async def test_accept_negotiation(
    server: FakeShopServer,
    http: aiohttp.ClientSession,
    accept: str | None,
    request_type: str,
    answered: str,
) -> None:
    changes = changes_for(server, 1)
    codec: Any = XML if "xml" in request_type else JSON
    headers = {"Content-Type": request_type, "Authorization": AUTH}
    if accept is not None:
        headers["Accept"] = accept
    async with http.put(
        item_url(server, 1),
        data=codec.encode(changes),
        headers=headers,
        skip_auto_headers=["Accept"],
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == answered
        data = await resp.read()
    answer_codec: Any = XML if "xml" in answered else JSON
    assert data == answer_codec.encode(as_conversation(changes))


async def test_error_bodies_are_negotiated_too(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    status, headers, data = await put(http, server, 1, b"{}", auth=None, accept="application/xml")
    assert status == 401
    assert headers["Content-Type"] == XML_CT
    assert data.startswith(b"<Error><Message>Authorization has been denied")


async def test_unsupported_media_type_is_415(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    body = JSON.encode(changes_for(server, 1, note="x"))
    for content_type in (
        "text/plain",
        "application/problem+json",
        "application/x-www-form-urlencoded",
    ):
        status, headers, data = await put(http, server, 1, body, content_type=content_type)
        assert status == 415
        assert error_of(headers, data).message == (
            f"The request entity's media type '{content_type}' is not supported for this resource."
        )
    assert server.saves(1) == 0


async def test_text_json_and_charset_are_accepted(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    body = JSON.encode(changes_for(server, 1, note="x"))
    assert (await put(http, server, 1, body, content_type="Text/JSON; charset=UTF-8"))[0] == 200
    stored = server.get(1, 1)
    assert stored is not None
    assert stored.note == "x"


async def test_too_long_email_is_400_with_model_state(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    changes = changes_for(server, 1, customer_email="a" * 45 + "@example.com")
    status, headers, data = await put(http, server, 1, JSON.encode(changes))
    assert status == 400
    error = error_of(headers, data)
    assert error.message == "The request is invalid."
    assert error.model_state == {
        "changes.CustomerEmail": (
            "The field CustomerEmail must be a string or array type with a maximum length of '50'.",
        )
    }
    assert server.saves(1) == 0


async def test_id_and_shop_mismatch_are_400(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    before = server.get(1, 2)
    changes = changes_for(server, 1, id=2, shop_id=7)
    status, headers, data = await put(http, server, 1, JSON.encode(changes), accept="text/xml")
    assert status == 400
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    error = error_of(headers, data)
    assert set(error.model_state) == {"changes.Id", "changes.ShopId"}
    assert "2" in error.model_state["changes.Id"][0]
    assert server.saves(1) == server.saves(2) == 0
    assert server.get(1, 2) == before


@pytest.mark.parametrize(
    ("body", "content_type", "key"),
    [
        (b'{"Id": 1,', "application/json", "changes"),
        (b"", "application/json", "changes"),
        (b"[1, 2]", "application/json", "changes"),
        (
            b'{"Id": "one", "ShopId": 1, "PlatformKindEnumValue": 0}',
            "application/json",
            "changes.Id",
        ),
        (b"<MessageConversationChanges><Id>1", "application/xml", "changes"),
    ],
)
async def test_malformed_bodies_are_400(
    server: FakeShopServer,
    http: aiohttp.ClientSession,
    body: bytes,
    content_type: str,
    key: str,
) -> None:
    status, headers, data = await put(http, server, 1, body, content_type=content_type)
    assert status == 400
    error = error_of(headers, data)
    assert error.message == "The request is invalid."
    assert list(error.model_state) == [key]
    assert server.saves(1) == 0


async def test_unknown_conversation_is_404_unless_create_missing(
    http: aiohttp.ClientSession,
) -> None:
    changes = MessageConversationChanges(id=99, shop_id=1, platform_kind_enum_value=0)
    for create_missing, expected in ((False, 404), (True, 200)):
        async with FakeShopServer(password=PASSWORD, create_missing=create_missing) as server:
            status, headers, data = await put(http, server, 99, JSON.encode(changes))
            assert status == expected
            if expected == 404:
                assert error_of(headers, data).message == (
                    "MessageConversation 99 was not found in shop 1."
                )
                assert server.get(1, 99) is None
            else:
                assert server.get(1, 99) == as_conversation(changes)


async def test_oversized_body_is_413(http: aiohttp.ClientSession) -> None:
    async with FakeShopServer(password=PASSWORD, max_body_size=1000) as server:
        server.seed(1)
        changes = changes_for(server, 1, note="n" * 2000)
        body = JSON.encode(changes)
        status, _, _ = await put(http, server, 1, body)
        assert status == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: caught while reading
            for start in range(0, len(body), 500):
                yield body[start : start + 500]

        status, headers, data = await put(http, server, 1, chunks())
        assert status == 413
        assert error_of(headers, data).message == "The request entity is larger than 1000 bytes."
        assert server.saves(1) == 0
        assert server.put_count(1) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/v1/Shops/1/Conversations/1",
        "/v2/Shops/1/MessageConversations/1",
        "/v1/Shops/1/MessageConversations/abc",
        "/v1/Shops/x/MessageConversations/1",
        "/v1/Shops/1/MessageConversations/99999999999",
        "/v1/Shops/1/MessageConversations/2147483648",  # past int32: the route does not match
        "/v1/Shops/1/MessageConversations/1/",
        "/",
    ],
)
async def test_unknown_routes_are_404_http_errors(
    server: FakeShopServer, http: aiohttp.ClientSession, path: str
) -> None:
    async with http.put(
        server.base_url + path, data=b"{}", headers={"Authorization": AUTH}
    ) as resp:
        assert resp.status == 404
        error = error_of(resp.headers, await resp.read())
    assert error.message.startswith("No HTTP resource was found that matches the request URI")
    assert path in error.message


async def test_routes_ignore_case_like_asp_net(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    url = f"{server.base_url}/V1/shops/1/messageconversations/1"
    async with http.get(url, headers={"Authorization": AUTH}) as resp:
        assert resp.status == 200


async def test_other_methods_are_405(server: FakeShopServer, http: aiohttp.ClientSession) -> None:
    async with http.delete(item_url(server, 1), headers={"Authorization": AUTH}) as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "GET, PUT"
        error = error_of(resp.headers, await resp.read())
    assert error.message == "The requested resource does not support http method 'DELETE'."
    async with http.post(list_url(server), headers={"Authorization": AUTH}) as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "GET"


# -- GET ----------------------------------------------------------------------------------


async def test_get_returns_the_stored_conversation(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": AUTH, "Accept": "application/xml"}
    async with http.get(item_url(server, 4), headers=headers) as resp:
        assert resp.status == 200
        assert await resp.read() == XML.encode(server.get(1, 4))
    async with http.get(item_url(server, 40), headers=headers) as resp:
        assert resp.status == 404


async def test_list_pages_sorted_by_id(server: FakeShopServer, http: aiohttp.ClientSession) -> None:
    server.seed(2, start_id=100)
    server.seed(3, shop_id=2)  # another shop: never listed in shop 1
    ids: list[list[int]] = []
    for number in range(1, 6):
        params = {"pageSize": "2", "pageNumber": str(number)}
        async with http.get(
            list_url(server), params=params, headers={"Authorization": AUTH}
        ) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == JSON_CT
            page = JSON.decode(await resp.read(), list[MessageConversationBasicInfo])
        ids.append([c.id for c in page])
        for item in page:
            full = server.get(1, item.id)
            assert full is not None
            assert item == MessageConversationBasicInfo(
                **{
                    a.name: getattr(full, a.name)
                    for a in attrs.fields(MessageConversationBasicInfo)
                }
            )
    assert ids == [[1, 2], [3, 4], [5, 100], [101], []]
    server.seed(1, start_id=50)  # a new conversation shows up in its place
    async with http.get(
        list_url(server),
        params={"pageSize": "3", "pageNumber": "2"},
        headers={"Authorization": AUTH},
    ) as resp:
        page = JSON.decode(await resp.read(), list[MessageConversationBasicInfo])
    assert [c.id for c in page] == [4, 5, 50]


async def test_list_defaults_and_case_insensitive_params(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    server.seed(150, start_id=10)
    async with http.get(list_url(server), headers={"Authorization": AUTH}) as resp:
        page = JSON.decode(await resp.read(), list[MessageConversationBasicInfo])
    assert len(page) == 100
    assert page[0].id == 1
    async with http.get(
        list_url(server),
        params={"pagesize": "10", "PAGENUMBER": "16"},
        headers={"Authorization": AUTH},
    ) as resp:
        page = JSON.decode(await resp.read(), list[MessageConversationBasicInfo])
    assert [c.id for c in page] == [155, 156, 157, 158, 159]


async def test_list_xml_uses_array_of_root_and_empty_page(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": AUTH, "Accept": "application/xml"}
    async with http.get(list_url(server), params={"pageSize": "3"}, headers=headers) as resp:
        data = await resp.read()
        assert resp.headers["Content-Type"] == XML_CT
    assert data.startswith(b"<ArrayOfMessageConversationBasicInfo ")
    page = XML.decode(data, list[MessageConversationBasicInfo])
    assert data == XML.encode(page)
    assert [c.id for c in page] == [1, 2, 3]
    async with http.get(
        list_url(server), params={"pageSize": "3", "pageNumber": "3"}, headers=headers
    ) as resp:
        assert await resp.read() == XML.encode_empty_list(MessageConversationBasicInfo)


@pytest.mark.parametrize("params", [{"pageSize": "0"}, {"pageNumber": "x"}, {"pageSize": "-1"}])
async def test_list_rejects_bad_paging(
    server: FakeShopServer, http: aiohttp.ClientSession, params: dict[str, str]
) -> None:
    async with http.get(list_url(server), params=params, headers={"Authorization": AUTH}) as resp:
        assert resp.status == 400
        error = error_of(resp.headers, await resp.read())
    assert set(error.model_state) == set(params)


# -- faults -------------------------------------------------------------------------------


def no_server_logs(caplog: pytest.LogCaptureFixture) -> None:
    noisy = [
        r for r in caplog.records if r.name.startswith("aiohttp") and r.levelno >= logging.WARNING
    ]
    assert noisy == []


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [
        (2, "2"),
        (2.0, "2"),
        (0.5, "0.5"),
        ("Wed, 21 Oct 2026 07:28:00 GMT", "Wed, 21 Oct 2026 07:28:00 GMT"),
        (None, None),
    ],
)
async def test_status_fault(
    server: FakeShopServer,
    http: aiohttp.ClientSession,
    retry_after: float | str | None,
    header: str | None,
) -> None:
    server.inject(Fault.status(503, retry_after=retry_after))
    before = server.get(1, 1)
    status, headers, data = await put(
        http, server, 1, JSON.encode(changes_for(server, 1, note="x"))
    )
    assert status == 503
    assert headers.get("Retry-After") == header
    assert error_of(headers, data).message == "Service Unavailable (injected)"
    assert server.get(1, 1) == before
    assert server.saves(1) == 0
    assert server.put_count(1) == 1
    assert server.requests[-1].fault == Fault.status(503, retry_after=retry_after)


async def test_status_fault_body_is_negotiated_or_given(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    server.inject(
        Fault.status(429), Fault.status(500, body=b"<html>oops</html>", content_type="text/html")
    )
    body = JSON.encode(changes_for(server, 1))
    status, headers, data = await put(http, server, 1, body, accept="application/xml")
    assert (status, headers["Content-Type"]) == (429, XML_CT)
    assert data == b"<Error><Message>Too Many Requests (injected)</Message></Error>"
    status, headers, data = await put(http, server, 1, body)
    assert (status, headers["Content-Type"], data) == (500, "text/html", b"<html>oops</html>")


async def test_delay_fault_stalls_then_stores(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.delay(0.2))
    changes = changes_for(server, 1, note="late")
    started = time.monotonic()
    status, _, data = await put(http, server, 1, JSON.encode(changes))
    assert time.monotonic() - started >= 0.19
    assert status == 200
    assert data == JSON.encode(as_conversation(changes))
    assert server.saves(1) == 1


async def test_delay_fault_outlives_a_client_timeout_and_still_stores(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.delay(0.2))
    changes = changes_for(server, 1, note="stored anyway")
    with pytest.raises(asyncio.TimeoutError):
        await put(http, server, 1, JSON.encode(changes), timeout=aiohttp.ClientTimeout(total=0.05))
    assert server.saves(1) == 0
    await wait_until(lambda: server.saves(1) > 0)
    assert server.get(1, 1) == as_conversation(changes)


async def test_close_does_not_wait_for_a_long_delay(http: aiohttp.ClientSession) -> None:
    server = FakeShopServer(password=PASSWORD)
    await server.start()
    server.seed(1)
    server.inject(Fault.delay(30))
    request = asyncio.create_task(put(http, server, 1, JSON.encode(changes_for(server, 1))))
    await wait_until(lambda: server.put_count(1) > 0)
    started = time.monotonic()
    await server.close()
    assert time.monotonic() - started < 1.0
    with pytest.raises(aiohttp.ClientConnectionError):
        await request
    assert server.saves(1) == 0


@pytest.mark.parametrize("after_body", [False, True])
async def test_drop_fault_closes_without_answer(
    server: FakeShopServer,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    after_body: bool,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    # aiohttp's client silently resends an idempotent request once on a dropped
    # connection, so queue a drop for that resend too.
    server.inject(
        Fault.drop(after_body=after_body), Fault.drop(after_body=after_body), conversation_id=1
    )
    before = server.get(1, 1)
    body = JSON.encode(changes_for(server, 1, note="never stored"))
    with pytest.raises(aiohttp.ClientConnectionError) as info:
        await put(http, server, 1, body)
    assert isinstance(info.value, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError))
    assert server.get(1, 1) == before
    assert server.saves(1) == 0
    records = [r for r in server.requests if r.conversation_id == 1]
    assert records
    assert all(r.status is None for r in records)
    assert all(r.body == (body if after_body else b"") for r in records)
    assert server.put_count(1) == len(records)
    no_server_logs(caplog)


async def test_truncated_fault_is_a_payload_error(
    server: FakeShopServer, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    server.inject(Fault.truncated())
    with pytest.raises(aiohttp.ClientPayloadError):
        await put(http, server, 1, JSON.encode(changes_for(server, 1, note="x")))
    assert server.saves(1) == 0
    assert server.requests[-1].status == 200
    no_server_logs(caplog)
    # the server keeps serving
    assert (await put(http, server, 1, JSON.encode(changes_for(server, 1))))[0] == 200


async def test_malformed_fault(server: FakeShopServer, http: aiohttp.ClientSession) -> None:
    server.inject(
        Fault.malformed(), Fault.malformed(b"<MessageConversation>", content_type="text/xml")
    )
    body = JSON.encode(changes_for(server, 1, note="x"))
    status, headers, data = await put(http, server, 1, body)
    assert (status, headers["Content-Type"], data) == (200, JSON_CT, b'{"Id": 1,')
    with pytest.raises(DecodeError):
        JSON.decode(data, MessageConversation)
    status, headers, data = await put(http, server, 1, body)
    assert (status, headers["Content-Type"], data) == (200, "text/xml", b"<MessageConversation>")
    assert server.saves(1) == 0


async def test_wrong_content_type_fault(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.wrong_content_type())
    changes = changes_for(server, 1, note="x")
    status, headers, data = await put(http, server, 1, JSON.encode(changes))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert data == JSON.encode(as_conversation(changes))
    assert server.saves(1) == 0


async def test_other_conversation_fault(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.other_conversation(), Fault.other_conversation())
    changes = changes_for(server, 1, note="x")
    status, _, data = await put(http, server, 1, JSON.encode(changes))
    assert status == 200
    answered = JSON.decode(data, MessageConversation)
    assert answered == attrs.evolve(as_conversation(changes), id=1_000_001)
    assert server.saves(1) == 0
    async with http.get(list_url(server), headers={"Authorization": AUTH}) as resp:
        page = JSON.decode(await resp.read(), list[MessageConversationBasicInfo])
    assert [c.id for c in page] == [1_000_001, 1_000_002, 1_000_003, 1_000_004, 1_000_005]


async def test_per_id_queue_is_separate_and_checked_first(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    server.inject(Fault.status(503), conversation_id=2)
    server.inject(Fault.status(429), Fault.status(500))
    server.inject(Fault.status(502), conversation_id=3)
    body = {i: JSON.encode(changes_for(server, i)) for i in (1, 2, 3)}
    assert (await put(http, server, 3, body[3]))[0] == 502  # own queue before the global one
    assert (await put(http, server, 1, body[1]))[0] == 429  # global queue, any id
    assert (await put(http, server, 2, body[2]))[0] == 503  # own queue
    assert (await put(http, server, 2, body[2]))[0] == 500  # then the global one
    assert (await put(http, server, 1, body[1]))[0] == 200
    assert (await put(http, server, 2, body[2]))[0] == 200
    assert [server.saves(i) for i in (1, 2, 3)] == [1, 1, 0]
    assert [server.put_count(i) for i in (1, 2, 3)] == [2, 3, 1]


async def test_clear_faults(server: FakeShopServer, http: aiohttp.ClientSession) -> None:
    server.inject(Fault.status(503))
    server.inject(Fault.status(503), conversation_id=1)
    server.fault_rate(transient=1.0)
    server.clear_faults()
    assert (await put(http, server, 1, JSON.encode(changes_for(server, 1))))[0] == 200


def test_fault_rate_permanent_set_is_deterministic_by_seed() -> None:
    def failing(seed: int) -> set[int]:
        server = FakeShopServer()
        server.fault_rate(permanent=0.2, seed=seed)
        return {i for i in range(1, 1001) if server.permanently_failing(i)}

    first = failing(7)
    assert first == failing(7)
    assert first != failing(8)
    assert 150 < len(first) < 250


async def fault_rate_run(
    http: aiohttp.ClientSession, *, seed: int, reverse: bool
) -> dict[int, list[int]]:
    """PUT each of 20 ids three times under a fault rate; the statuses each id saw."""
    async with FakeShopServer(password=PASSWORD) as server:
        server.seed(20)
        server.fault_rate(
            transient=0.3,
            permanent=0.2,
            seed=seed,
            transient_faults=(Fault.status(503), Fault.status(502)),
            permanent_fault=Fault.status(422),
        )
        order = list(range(1, 21)) * 3
        if reverse:
            order.reverse()
        statuses: dict[int, list[int]] = {}
        for i in order:
            status, _, _ = await put(http, server, i, JSON.encode(changes_for(server, i)))
            statuses.setdefault(i, []).append(status)
        for i, seen in statuses.items():
            assert (seen == [422] * 3) == server.permanently_failing(i)
            assert server.saves(i) == seen.count(200)
        return statuses


async def test_fault_rate_over_http_is_reproducible(http: aiohttp.ClientSession) -> None:
    first = await fault_rate_run(http, seed=3, reverse=False)
    # the same seed gives the same outcome per id, whatever order the ids arrive in
    assert await fault_rate_run(http, seed=3, reverse=True) == first
    assert await fault_rate_run(http, seed=4, reverse=False) != first
    statuses = {s for seen in first.values() for s in seen}
    assert {200, 422} <= statuses
    assert statuses & {502, 503}
    # transient draws differ between ids, not only between attempts
    healthy = [seen for seen in first.values() if seen != [422] * 3]
    assert len({tuple(seen) for seen in healthy}) > 2


def test_fault_values_are_plain_data() -> None:
    faults = [
        Fault.status(503, retry_after=2),
        Fault.status(500, body=b"x", content_type="text/plain"),
        Fault.delay(1.5),
        Fault.drop(),
        Fault.drop(after_body=True),
        Fault.truncated(),
        Fault.malformed(),
        Fault.malformed(b"<x", content_type="text/xml"),
        Fault.wrong_content_type(),
        Fault.other_conversation(),
    ]
    for fault in faults:
        assert eval(repr(fault), {"Fault": Fault}) == fault
    assert repr(Fault.status(503, retry_after=2)) == "Fault.status(503, retry_after=2.0)"
    assert len(set(faults)) == len(faults)  # hashable and distinct
    with pytest.raises(ValueError):
        Fault.status(99)
    with pytest.raises(ValueError):
        Fault.delay(-1)
    with pytest.raises(ValueError):
        Fault.status(503, retry_after=float("nan"))
    with pytest.raises(ValueError):
        Fault("explode")  # type: ignore[arg-type]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        faults[0].code = 500  # type: ignore[misc]


# -- recording ----------------------------------------------------------------------------


async def test_requests_are_recorded_with_credentials_redacted(
    server: FakeShopServer, http: aiohttp.ClientSession
) -> None:
    body = JSON.encode(changes_for(server, 2, note="recorded"))
    await put(http, server, 2, body)
    await put(http, server, 2, b"{}", auth="Basic " + base64.b64encode(b"user:wrong").decode())
    async with http.get(
        list_url(server), params={"pageSize": "2"}, headers={"Authorization": AUTH}
    ) as resp:
        await resp.read()
    first, second, third = server.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.status) == (
        "PUT",
        "/v1/Shops/1/MessageConversations/2",
        200,
    )
    assert (first.shop_id, first.conversation_id, first.body, first.fault) == (1, 2, body, None)
    assert first.headers["Authorization"] == "Basic [REDACTED]"
    assert first.headers["Content-Type"] == "application/json"
    assert (second.status, second.body) == (401, b"{}")
    assert (third.method, third.conversation_id, third.query["pageSize"]) == ("GET", None, "2")
    assert first.received_at <= second.received_at <= third.received_at
    text = repr(server.requests)
    token = AUTH.split(" ", 1)[1]
    for secret in (PASSWORD, token, base64.b64encode(b"user:wrong").decode(), "user:"):
        assert secret not in text


async def test_recording_can_be_turned_off(http: aiohttp.ClientSession) -> None:
    async with FakeShopServer(password=PASSWORD, record=False) as server:
        server.seed(1)
        assert (await put(http, server, 1, JSON.encode(changes_for(server, 1))))[0] == 200
        assert server.requests == []
        assert server.put_count(1) == server.saves(1) == 1


# -- data ---------------------------------------------------------------------------------


def test_seed_is_realistic_valid_and_deterministic() -> None:
    server = FakeShopServer()
    conversations = server.seed(50, shop_id=3, start_id=10)
    assert [c.id for c in conversations] == list(range(10, 60))
    assert all(c.shop_id == 3 for c in conversations)
    assert server.conversations[(3, 10)] is conversations[0]
    assert conversations == FakeShopServer().seed(50, shop_id=3, start_id=10)
    for c in conversations:
        assert field_errors(c, fmt="xml") == []
        assert field_errors(c, fmt="json") == []
        assert XML.decode(XML.encode(c), MessageConversation) == c
        assert JSON.decode(JSON.encode(c), MessageConversation) == c
    ticks = {
        c.creation_date.sub_microsecond_ticks
        for c in conversations
        if isinstance(c.creation_date, Timestamp)
    }
    assert len(ticks) > 3  # the seventh digit is exercised
    assert any(c.finished_date is None for c in conversations)
    assert any(c.customer_name and not c.customer_name.isascii() for c in conversations)
    assert len({c.external_key for c in conversations}) == 50


def test_add_get_and_read_only_view() -> None:
    server = FakeShopServer()
    conversation = MessageConversation(id=5, shop_id=2, platform_kind_enum_value=0, note="n")
    server.add(conversation)
    assert server.get(2, 5) is conversation
    assert server.get(1, 5) is None
    with pytest.raises(TypeError):
        server.conversations[(2, 6)] = conversation  # type: ignore[index]
    with pytest.raises(TypeError):
        server.add(MessageConversationChanges(id=5, shop_id=2, platform_kind_enum_value=0))  # type: ignore[arg-type]
