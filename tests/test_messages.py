"""The rest of the resource: listing conversations, listing and posting messages, and
why a POST is retried only when it provably was not processed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopapi import (
    ConnectError,
    DecodeError,
    JsonCodec,
    MessageBasicInfo,
    MessageChanges,
    MessageConversationBasicInfo,
    MessageSenderTypeEnum,
    MessageTypeEnum,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ResponseMismatchError,
    RetryPolicy,
    ServerError,
    ShopApiClient,
    Timestamp,
    ValidationError,
    XmlCodec,
)
from shopapi._wire.fields import json_order, xml_order
from shopapi.codecs import Codec
from shopapi.testing import MESSAGE_SENDER_NAMES, FakeShopServer, Fault

USER, PASSWORD = "bot", "bot-pw"
FAST = RetryPolicy(max_attempts=4, initial_backoff=0.005, max_backoff=0.01)


@pytest.fixture
async def server() -> AsyncIterator[FakeShopServer]:
    async with FakeShopServer(username=USER, password=PASSWORD) as srv:
        srv.seed(230, shop_id=2)
        srv.seed_messages(2, 5, 7)
        yield srv


@pytest.fixture(params=["json", "xml"])
def codec(request: pytest.FixtureRequest) -> Codec:
    return JsonCodec() if request.param == "json" else XmlCodec()


def client_for(server: FakeShopServer, codec: Codec | None = None, **kw: object) -> ShopApiClient:
    kw.setdefault("retry", FAST)
    return ShopApiClient(server.base_url, auth=(USER, PASSWORD), codec=codec, **kw)  # type: ignore[arg-type]


def reply(conversation_id: int = 5, sender: object = 1, kind: object = 0) -> MessageChanges:
    return MessageChanges(
        id=0,
        message_conversation_id=conversation_id,
        body="Thanks! Your parcel ships today <3 & more",
        message_sender_enum_value=sender,  # type: ignore[arg-type]
        type_enum_value=kind,  # type: ignore[arg-type]
        is_read=False,
        external_key="bot-1",
    )


# -- models and codecs -----------------------------------------------------------------


def test_message_models_mirror_the_dotnet_inheritance() -> None:
    assert issubclass(MessageChanges, MessageBasicInfo)
    basic = [f.wire for f in xml_order(MessageBasicInfo)]
    assert basic == [
        "Id",
        "MessageConversationId",
        "Body",
        "CreationDate",
        "MessageSenderEnumValue",
        "IsRead",
        "TypeEnumValue",
    ]
    extra = [
        "ExternalKey",
        "ExternalTimestampUtc",
        "ReplyDateUtc",
        "ResponseTimeInSeconds",
        "MaximumResponseTimeInSeconds",
    ]
    assert [f.wire for f in xml_order(MessageChanges)] == basic + extra
    assert [f.wire for f in json_order(MessageChanges)] == extra + basic


def test_message_enums_document_no_members_so_values_stay_raw() -> None:
    assert list(MessageSenderTypeEnum) == []
    assert list(MessageTypeEnum) == []
    message = reply(sender=3, kind=7)
    assert JsonCodec().decode(JsonCodec().encode(message), MessageChanges) == message
    named = reply(sender="Customer", kind="Text")
    assert XmlCodec().decode(XmlCodec().encode(named), MessageChanges) == named
    with pytest.raises(ValidationError) as info:
        XmlCodec().encode(message)
    assert info.value.fields == ("MessageSenderEnumValue", "TypeEnumValue")
    with pytest.raises(ValidationError):
        JsonCodec().encode(named)


def test_message_json_and_xml_shapes() -> None:
    message = attrs.evolve(
        reply(sender="Bot", kind="Text"),
        creation_date=Timestamp.parse("2026-01-11T16:13:16.7386644+01:00"),
        is_read=True,
    )
    xml = XmlCodec(pretty=True).encode(message).decode()
    assert xml.startswith("<MessageChanges xmlns:xsd=")
    assert "<IsRead>true</IsRead>" in xml
    assert "<CreationDate>2026-01-11T16:13:16.7386644+01:00</CreationDate>" in xml
    assert '<ReplyDateUtc xsi:nil="true" />' in xml
    assert "&lt;3 &amp; more" in xml
    raw = JsonCodec().encode(attrs.evolve(message, message_sender_enum_value=2, type_enum_value=0))
    assert raw.startswith(b'{"ExternalKey":"bot-1","ExternalTimestampUtc":null')
    assert b'"IsRead":true' in raw


def test_list_forms_are_arrays_and_arrayof_roots() -> None:
    items = [
        MessageBasicInfo(
            id=i, message_conversation_id=5, message_sender_enum_value="Bot", type_enum_value="Text"
        )
        for i in (1, 2)
    ]
    xml = XmlCodec().encode(items)
    assert xml.startswith(b"<ArrayOfMessageBasicInfo ")
    assert XmlCodec().decode(xml, list[MessageBasicInfo]) == items
    empty = XmlCodec().encode_empty_list(MessageBasicInfo)
    assert XmlCodec().decode(empty, list[MessageBasicInfo]) == []
    assert JsonCodec().decode(b"[]", list[MessageBasicInfo]) == []
    with pytest.raises(DecodeError, match="ArrayOfMessageBasicInfo"):
        XmlCodec().decode(
            xml.replace(b"ArrayOfMessageBasicInfo", b"ArrayOfX"), list[MessageBasicInfo]
        )


def test_is_read_must_be_a_boolean() -> None:
    with pytest.raises(DecodeError) as info:
        JsonCodec().decode(
            b'{"Id":1,"MessageConversationId":5,"MessageSenderEnumValue":0,"TypeEnumValue":0,'
            b'"IsRead":1}',
            MessageBasicInfo,
        )
    assert info.value.field == "IsRead"
    with pytest.raises(DecodeError) as info:
        XmlCodec().decode(
            b"<MessageBasicInfo><Id>1</Id><MessageConversationId>5</MessageConversationId>"
            b"<MessageSenderEnumValue>A</MessageSenderEnumValue><TypeEnumValue>B</TypeEnumValue>"
            b"<IsRead>yes</IsRead></MessageBasicInfo>",
            MessageBasicInfo,
        )
    assert info.value.field == "IsRead"


# .NET writes fixed offsets (zone rules stay on the server), whole minutes within ±14:00.
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
ticks = st.builds(
    lambda dt, sub: Timestamp.from_datetime(dt, sub_microsecond_ticks=sub),
    st.datetimes(timezones=st.none() | st.just(UTC) | offsets),
    st.integers(0, 9),
)
texts = st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@settings(max_examples=150)
@given(
    body=texts,
    created=st.none() | ticks,
    replied=st.none() | ticks,
    sender=st.integers(-(2**31), 2**31 - 1),
    kind=st.integers(-(2**31), 2**31 - 1),
    read=st.none() | st.booleans(),
    seconds=st.none() | st.integers(-(2**31), 2**31 - 1),
)
def test_messages_round_trip_in_json(
    body: str | None,
    created: Timestamp | None,
    replied: Timestamp | None,
    sender: int,
    kind: int,
    read: bool | None,
    seconds: int | None,
) -> None:
    message = MessageChanges(
        id=0,
        message_conversation_id=5,
        body=body,
        creation_date=created,
        message_sender_enum_value=sender,
        type_enum_value=kind,
        is_read=read,
        reply_date_utc=replied,
        response_time_in_seconds=seconds,
    )
    codec = JsonCodec()
    assert codec.decode(codec.encode(message), MessageChanges) == message


@settings(max_examples=150)
@given(
    body=texts,
    created=st.none() | ticks,
    sender=st.from_regex(r"[A-Z][a-z]{1,12}", fullmatch=True),
    kind=st.from_regex(r"[A-Z][a-z]{1,12}", fullmatch=True),
    read=st.booleans(),
)
def test_messages_round_trip_in_xml(
    body: str | None, created: Timestamp | None, sender: str, kind: str, read: bool
) -> None:
    message = MessageChanges(
        id=0,
        message_conversation_id=5,
        body=body,
        creation_date=created,
        message_sender_enum_value=sender,
        type_enum_value=kind,
        is_read=read,
    )
    codec = XmlCodec()
    encoded = codec.encode(message)
    assert codec.decode(encoded, MessageChanges) == message
    assert codec.encode(codec.decode(encoded, MessageChanges)) == encoded


# -- listing ----------------------------------------------------------------------------


async def test_list_walks_every_page_in_order_until_an_empty_one(
    server: FakeShopServer, codec: Codec
) -> None:
    async with client_for(server, codec) as client:
        ids = [c.id async for c in client.message_conversations.list(2, page_size=100)]
    assert ids == list(range(1, 231))
    pages = [r.query["pageNumber"] for r in server.requests]
    assert pages == ["1", "2", "3", "4"]  # 100, 100, 30, then the empty page
    assert all(r.query["pageSize"] == "100" for r in server.requests)


async def test_list_fetches_pages_lazily(server: FakeShopServer) -> None:
    async with client_for(server) as client:
        conversations = client.message_conversations.list(2, page_size=50)
        first = [await anext(conversations) for _ in range(50)]
        assert len(server.requests) == 1
        await anext(conversations)
        assert len(server.requests) == 2
        await conversations.aclose()
    assert [c.id for c in first] == list(range(1, 51))
    assert all(isinstance(c, MessageConversationBasicInfo) for c in first)


async def test_list_page_and_past_the_end(server: FakeShopServer, codec: Codec) -> None:
    async with client_for(server, codec) as client:
        page = await client.message_conversations.list_page(2, page_number=3, page_size=100)
        beyond = await client.message_conversations.list_page(2, page_number=9)
    assert [c.id for c in page] == list(range(201, 231))
    assert beyond == []


async def test_retries_apply_to_every_page(server: FakeShopServer) -> None:
    server.inject(Fault.status(503), Fault.drop(), Fault.truncated())
    async with client_for(server) as client:
        ids = [c.id async for c in client.message_conversations.list(2)]
    assert ids == list(range(1, 231))


async def test_a_page_of_another_shop_is_refused(server: FakeShopServer) -> None:
    other = MessageConversationBasicInfo(id=1, shop_id=9, platform_kind_enum_value=0)
    body = JsonCodec().encode([other])
    server.inject(Fault.malformed(body, content_type="application/json; charset=utf-8"))
    async with client_for(server) as client:
        with pytest.raises(ResponseMismatchError, match="shop 9"):
            await client.message_conversations.list_page(2)


async def test_page_parameters_are_validated() -> None:
    async with ShopApiClient("http://127.0.0.1:9") as client:
        for kwargs in ({"page_number": 0}, {"page_size": 0}, {"page_size": True}):
            with pytest.raises(ValidationError):
                await client.message_conversations.list_page(1, **kwargs)
        with pytest.raises(ValidationError):
            async for _ in client.message_conversations.list(1, page_size=-5):
                pass


async def test_messages_are_listed_in_pages(server: FakeShopServer, codec: Codec) -> None:
    async with client_for(server, codec) as client:
        messages = [m async for m in client.message_conversations.messages(2, 5, page_size=3)]
    stored = server.messages(2, 5)
    assert [m.id for m in messages] == [m.id for m in stored]
    assert all(isinstance(m, MessageBasicInfo) for m in messages)
    assert [r.query["pageNumber"] for r in server.requests] == ["1", "2", "3", "4"]
    first = messages[0]
    assert first.creation_date == stored[0].creation_date  # 7-digit ticks kept
    if isinstance(codec, XmlCodec):
        assert first.message_sender_enum_value == MESSAGE_SENDER_NAMES[0]
    else:
        assert first.message_sender_enum_value == 0


async def test_messages_of_an_unknown_conversation(server: FakeShopServer) -> None:
    async with client_for(server) as client:
        with pytest.raises(NotFoundError):
            await client.message_conversations.messages_page(2, 999)


async def test_messages_page_of_another_conversation_is_refused(server: FakeShopServer) -> None:
    server.inject(Fault.other_conversation(), conversation_id=5)
    async with client_for(server) as client:
        with pytest.raises(ResponseMismatchError, match="conversation 5"):
            await client.message_conversations.messages_page(2, 5)


# -- posting ----------------------------------------------------------------------------


async def test_post_message_stores_it_and_returns_the_answer(
    server: FakeShopServer, codec: Codec
) -> None:
    message = reply(sender="Employee", kind="Text") if isinstance(codec, XmlCodec) else reply()
    async with client_for(server, codec) as client:
        saved = await client.message_conversations.post_message(2, 5, message)
    assert isinstance(saved, MessageBasicInfo)
    assert saved.id == 8  # seven were seeded
    assert saved.body == message.body
    assert saved.creation_date is not None
    stored = server.messages(2, 5)[-1]
    assert stored.body == message.body
    assert stored.external_key == "bot-1"
    assert stored.message_sender_enum_value == 1


async def test_post_message_enforces_an_insert_into_the_same_conversation(
    server: FakeShopServer,
) -> None:
    async with client_for(server) as client:
        with pytest.raises(ValidationError) as info:
            await client.message_conversations.post_message(
                2, 6, attrs.evolve(reply(), id=3, external_key="k" * 256)
            )
    assert set(info.value.fields) == {"Id", "MessageConversationId", "ExternalKey"}
    assert server.post_count(6) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_post_is_retried_when_the_connection_was_refused() -> None:
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.005, max_backoff=0.005)
    async with ShopApiClient(f"http://127.0.0.1:{free_port()}", retry=policy) as client:
        with pytest.raises(ConnectError) as info:
            await client.message_conversations.post_message(2, 5, reply())
    assert info.value.attempts == 3
    assert info.value.request_sent is False


async def test_post_is_retried_after_a_429(server: FakeShopServer) -> None:
    server.inject(Fault.status(429, retry_after=0), conversation_id=5)
    async with client_for(server) as client:
        await client.message_conversations.post_message(2, 5, reply())
    assert server.post_count(5) == 2
    assert len(server.messages(2, 5)) == 8


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.status(503), ServerError),
        (Fault.status(500), ServerError),
        (Fault.drop(after_body=True), ConnectError),
        (Fault.delay(1.0), RequestTimeoutError),
    ],
)
async def test_post_is_never_retried_after_a_timeout_drop_or_5xx(
    server: FakeShopServer, fault: Fault, error: type[Exception]
) -> None:
    server.inject(fault, conversation_id=5)
    async with client_for(server, timeout=0.3) as client:
        with pytest.raises(error) as info:
            await client.message_conversations.post_message(2, 5, reply())
    assert info.value.attempts == 1  # type: ignore[attr-defined]
    assert server.post_count(5) == 1


async def test_a_post_that_timed_out_may_still_have_landed(server: FakeShopServer) -> None:
    """Why timeouts are not retried: the server stored it while the client gave up."""
    server.inject(Fault.delay(0.5), conversation_id=5)
    async with client_for(server, timeout=0.1) as client:
        with pytest.raises(RequestTimeoutError):
            await client.message_conversations.post_message(2, 5, reply())
        await asyncio.sleep(0.6)
    assert len(server.messages(2, 5)) == 8  # stored once; a retry would have made 9


async def test_allow_duplicates_opts_in_to_retrying(server: FakeShopServer) -> None:
    server.inject(Fault.status(503), Fault.status(502), conversation_id=5)
    async with client_for(server) as client:
        saved = await client.message_conversations.post_message(
            2, 5, reply(), allow_duplicates=True
        )
    assert saved.body == reply().body
    assert server.post_count(5) == 3


async def test_post_429_beyond_retries_is_a_rate_limit_error(server: FakeShopServer) -> None:
    server.inject(*[Fault.status(429, retry_after=0)] * 4, conversation_id=5)
    async with client_for(server) as client:
        with pytest.raises(RateLimitError):
            await client.message_conversations.post_message(2, 5, reply())
    assert server.post_count(5) == 4
    assert len(server.messages(2, 5)) == 7


async def test_post_message_many_posts_each_to_its_own_conversation(server: FakeShopServer) -> None:
    """The conversation comes from each message's key field; the shop is given."""
    server.seed_messages(2, 6, 1)
    items: list[object] = [reply(5), reply(6), reply(5), {"Id": 0}]
    before = (len(server.messages(2, 5)), len(server.messages(2, 6)))
    async with client_for(server) as client:
        conversations = client.message_conversations
        results = [r async for r in conversations.post_message_many(2, items, concurrency=2)]  # type: ignore[arg-type]
    assert sorted(r.index for r in results) == [0, 1, 2, 3]
    by_index = {r.index: r for r in results}
    assert [by_index[i].ok for i in range(4)] == [True, True, True, False]
    assert isinstance(by_index[3].error, ValidationError)
    for i, conversation in [(0, 5), (1, 6), (2, 5)]:
        answer = by_index[i].answer
        assert isinstance(answer, MessageBasicInfo)
        assert answer.message_conversation_id == conversation
    assert (len(server.messages(2, 5)), len(server.messages(2, 6))) == (
        before[0] + 2,
        before[1] + 1,
    )
    assert {r.path for r in server.requests} == {
        "/v1/Shops/2/MessageConversations/5/Messages",
        "/v1/Shops/2/MessageConversations/6/Messages",
    }
