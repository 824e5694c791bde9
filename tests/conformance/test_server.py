"""The client against a real ASP.NET Web API server (SelfHost on Mono), in JSON and XML.

Every endpoint the client has: updates with edge-case values, paging to the empty page,
invalid input sent past client validation with a raw request (its real 400 ``ModelState``
parsed), and wrong credentials.
"""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import attrs
import pytest

from conformance.harness import DotnetServer
from shopapi import (
    AuthenticationError,
    BadRequestError,
    JsonCodec,
    MessageBasicInfo,
    MessageChanges,
    MessageConversation,
    MessageConversationChanges,
    PlatformKindEnum,
    RetryPolicy,
    ShopApiClient,
    Timestamp,
    XmlCodec,
)
from shopapi._protocol.errorbody import parse_error_body
from shopapi._protocol.requests import basic_auth_header
from shopapi.codecs import Codec
from tests.conformance.conftest import PASSWORD, USERNAME
from tests.conformance.neutral import INT32_MAX, INT32_MIN, newlines_normalised

pytestmark = pytest.mark.conformance

NO_RETRY = RetryPolicy(max_attempts=1)
EMOJI = "\U0001f600"  # two UTF-16 units: .NET's MaxLength counts it twice
HOSTILE_NOTE = (
    "line1\r\nline2\rline3\nend <b>&amp;</b> \"quoted\" 'single' \u0085\u2028\u2029 "
    f"{EMOJI} \x01\x00\x1f\ufffe tab\there  "
)
_shops = itertools.count(1000)


@pytest.fixture(params=["json", "xml"])
def codec(request: pytest.FixtureRequest) -> Codec:
    """Each test runs in both formats."""
    return JsonCodec() if request.param == "json" else XmlCodec()


@pytest.fixture
def shop() -> int:
    """A shop of its own per test: the server's store lives as long as the session."""
    return next(_shops)


def client(server: DotnetServer, codec: Codec, password: str = PASSWORD) -> ShopApiClient:
    """A client of the real server that does not retry (a failure shows at once)."""
    return ShopApiClient(server.base_url, auth=(USERNAME, password), codec=codec, retry=NO_RETRY)


def edge_changes(shop_id: int, conversation_id: int, **values: Any) -> MessageConversationChanges:
    """A conversation at the edges of every field the help page constrains."""
    fields: dict[str, Any] = {
        "id": conversation_id,
        "shop_id": shop_id,
        "platform_kind_enum_value": PlatformKindEnum.FlowAi,
        "creation_date": Timestamp.parse("2026-01-11T16:13:16.7386644+01:00"),
        "last_activity_date": Timestamp.parse("9999-12-31T23:59:59.9999999Z"),
        "finished_date": Timestamp.parse("0001-01-01T00:00:00"),
        "customer_id": INT32_MAX,
        "customer_name": EMOJI * 25,  # 50 UTF-16 units: exactly MaxLength(50)
        "rating": INT32_MIN,
        "conversation_type": "",
        "order_id": 0,
        "order_code": "  edge spaces  ",
        "ticket_id": None,
        "ticket_code": -1,
        "employee_id": None,
        "channel_id": "c" * 255,
        "external_key": '<key attr="1">&amp;</key>',
        "customer_email": "a" * 50,
        "customer_phone": None,
        "user_agent": "Mozilla/5.0 \u00e9\u20ac",
        "host_name": "",
        "path_name": "/\r\n/",
        "platform": "\U00010000" * 25,
        "url": "https://example.test/?q=1&r=<2>",
        "realm": " ",
        "note": HOSTILE_NOTE,
    }
    fields.update(values)
    return MessageConversationChanges(**fields)


def as_saved(changes: MessageConversationChanges, codec: Codec) -> MessageConversation:
    """What the server answers for ``changes``: an XML answer's line ends are the
    server's ``NewLineChars``, which the reader makes LF; JSON keeps every character."""
    values = attrs.asdict(changes, recurse=False)
    if isinstance(codec, XmlCodec):
        values = {k: newlines_normalised(v) if isinstance(v, str) else v for k, v in values.items()}
    return MessageConversation(**values)


def assert_same_conversation(saved: Any, expected: Any) -> None:
    """Equal, dates by their text too (an instant in another offset would not do here)."""
    assert saved == expected
    for f in attrs.fields(type(expected)):
        value = getattr(expected, f.name)
        if isinstance(value, Timestamp):
            assert str(getattr(saved, f.name)) == str(value), f.name


async def test_update_with_edge_case_values(server: DotnetServer, codec: Codec, shop: int) -> None:
    """The server binds, validates, stores and answers every edge value unchanged."""
    changes = edge_changes(shop, 7)
    async with client(server, codec) as c:
        saved = await c.message_conversations.update(shop, 7, changes)
        (listed,) = await c.message_conversations.list_page(shop)
    assert_same_conversation(saved, as_saved(changes, codec))
    assert listed.id == 7
    assert listed.customer_name == changes.customer_name


async def test_update_with_nulls_everywhere(server: DotnetServer, codec: Codec, shop: int) -> None:
    """Every nullable field null; the server's answer (which drops null members in its
    older Json.NET) reads as the same nulls."""
    changes = MessageConversationChanges(
        id=1,
        shop_id=shop,
        platform_kind_enum_value=PlatformKindEnum.FlowAi,
        creation_date=Timestamp.parse("2026-01-11T16:13:16Z"),
    )
    async with client(server, codec) as c:
        saved = await c.message_conversations.update(shop, 1, changes)
    assert_same_conversation(saved, as_saved(changes, codec))


async def test_enum_values_only_the_server_knows(server: DotnetServer, shop: int) -> None:
    """A value the server's enum has and the client's lacks survives in its own format."""
    changes = edge_changes(shop, 2, platform_kind_enum_value=7)
    async with client(server, JsonCodec()) as c:
        saved = await c.message_conversations.update(shop, 2, changes)
    assert saved.platform_kind_enum_value == 7
    async with client(server, XmlCodec()) as c:
        (listed,) = await c.message_conversations.list_page(shop)
        assert listed.platform_kind_enum_value == "Instagram"
        changes = saved.to_changes(platform_kind_enum_value="Instagram")
        saved = await c.message_conversations.update(shop, 2, changes)
    assert saved.platform_kind_enum_value == "Instagram"


async def test_paging_to_the_empty_page(server: DotnetServer, codec: Codec, shop: int) -> None:
    """Both list endpoints page in order and end on the first empty page."""
    async with client(server, codec) as c:
        for cid in (5, 3, 1, 4, 2):
            await c.message_conversations.update(shop, cid, edge_changes(shop, cid))
        listed = [x.id async for x in c.message_conversations.list(shop, page_size=2)]
        assert listed == [1, 2, 3, 4, 5]
        assert await c.message_conversations.list_page(shop, page_number=4, page_size=2) == []
        assert await c.message_conversations.list_page(shop + 500_000) == []
        for n in range(3):
            await c.message_conversations.post_message(shop, 3, message(3, codec, body=f"m{n}"))
        bodies = [m.body async for m in c.message_conversations.messages(shop, 3, page_size=2)]
        assert bodies == ["m0", "m1", "m2"]
        assert (
            await c.message_conversations.messages_page(shop, 3, page_number=4, page_size=1) == []
        )


def message(conversation_id: int, codec: Codec | None = None, **values: Any) -> MessageChanges:
    """A new message (``Id`` 0); its enums in the raw form ``codec`` carries (the client
    knows no members of them: integers in JSON, the server's names in XML)."""
    xml = isinstance(codec, XmlCodec)
    fields: dict[str, Any] = {
        "id": 0,
        "message_conversation_id": conversation_id,
        "body": HOSTILE_NOTE,
        "creation_date": Timestamp.parse("2026-01-11T16:13:16.754306Z"),
        "message_sender_enum_value": "Employee" if xml else 1,
        "is_read": True,
        "type_enum_value": "Attachment" if xml else 2,
        "external_key": "k" * 255,
        "external_timestamp_utc": Timestamp.parse("2026-01-11T15:13:16.1Z"),
        "reply_date_utc": None,
        "response_time_in_seconds": INT32_MAX,
        "maximum_response_time_in_seconds": 0,
    }
    fields.update(values)
    return MessageChanges(**fields)


async def test_post_message_with_edge_case_values(
    server: DotnetServer, codec: Codec, shop: int
) -> None:
    """A posted message comes back with its new id and every value it was sent with."""
    xml = isinstance(codec, XmlCodec)
    sent = message(1, codec)
    async with client(server, codec) as c:
        await c.message_conversations.update(shop, 1, edge_changes(shop, 1))
        posted = await c.message_conversations.post_message(shop, 1, sent)
        (listed,) = await c.message_conversations.messages_page(shop, 1)
    assert posted.id > 0
    assert listed == posted
    expected = {f.name: getattr(sent, f.name) for f in attrs.fields(MessageBasicInfo)}
    expected["id"] = posted.id
    if xml:
        expected["body"] = newlines_normalised(sent.body or "")
    assert attrs.asdict(posted, recurse=False) == expected


async def raw(
    server: DotnetServer, method: str, path: str, body: bytes, codec: Codec
) -> tuple[int, str, bytes]:
    """A request the client would not send (it validates first): status, type, body."""
    headers = {
        "Content-Type": codec.media_type,
        "Accept": codec.media_type,
        "Authorization": basic_auth_header(USERNAME, PASSWORD),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{server.base_url}/{path}", data=body, headers=headers) as r,
    ):
        return r.status, r.headers.get("Content-Type", ""), await r.read()


async def test_invalid_update_gets_the_real_model_state(
    server: DotnetServer, codec: Codec, shop: int
) -> None:
    """DataAnnotations' ``[MaxLength]`` answers a 400 whose ``ModelState`` shopapi reads."""
    too_long = attrs.evolve(edge_changes(shop, 1), customer_name="n" * 51, channel_id=EMOJI * 128)
    status, content_type, body = await raw(
        server, "PUT", f"v1/Shops/{shop}/MessageConversations/1", codec.encode(too_long), codec
    )
    assert status == 400
    parsed = parse_error_body(body, content_type)
    assert parsed is not None
    assert parsed.message == "The request is invalid."
    assert dict(parsed.model_state) == {
        "changes.CustomerName": (
            "The field CustomerName must be a string or array type with a maximum length of '50'.",
        ),
        "changes.ChannelId": (
            "The field ChannelId must be a string or array type with a maximum length of '255'.",
        ),
    }


async def test_invalid_message_gets_the_real_model_state(
    server: DotnetServer, codec: Codec, shop: int
) -> None:
    """The same for a posted message, and its own checks (``Id`` 0, the URL's id)."""
    bad = message(1, codec, id=5, message_conversation_id=2, external_key="k" * 256)
    status, content_type, body = await raw(
        server, "POST", f"v1/Shops/{shop}/MessageConversations/1/Messages", codec.encode(bad), codec
    )
    assert status == 400
    parsed = parse_error_body(body, content_type)
    assert parsed is not None
    assert dict(parsed.model_state) == {
        "message.ExternalKey": (
            "The field ExternalKey must be a string or array type with a maximum length of '255'.",
        ),
        "message.Id": ("Id must be 0 for a new message.",),
        "message.MessageConversationId": (
            "MessageConversationId 2 does not match the URL's messageConversationId 1.",
        ),
    }


async def test_a_name_the_server_does_not_know_is_a_bad_request(
    server: DotnetServer, shop: int
) -> None:
    """Past client validation (the client cannot know the server's names), the real
    XmlSerializer refuses it, and the client raises the 400 with its ``ModelState``."""
    changes = edge_changes(shop, 1, platform_kind_enum_value="Telegram")
    async with client(server, XmlCodec()) as c:
        with pytest.raises(BadRequestError) as info:
            await c.message_conversations.update(shop, 1, changes)
    assert info.value.status == 400
    assert list(info.value.model_state) == ["changes"]
    assert info.value.message == "The request is invalid."


async def test_wrong_credentials(server: DotnetServer, codec: Codec, shop: int) -> None:
    """Every endpoint answers 401; no error shows a password."""
    async with client(server, codec, password="wrong") as c:
        calls = [
            c.message_conversations.update(shop, 1, edge_changes(shop, 1)),
            c.message_conversations.list_page(shop),
            c.message_conversations.messages_page(shop, 1),
            c.message_conversations.post_message(shop, 1, message(1, codec)),
        ]
        for call in calls:
            with pytest.raises(AuthenticationError) as info:
                await call
            assert info.value.status == 401
            assert info.value.message == "Authorization has been denied for this request."
            for text in (str(info.value), repr(info.value)):
                assert "wrong" not in text
                assert PASSWORD not in text
