"""The four findings of the first differential run, each pinned against the real stack,
and the help page's samples reproduced by the real serializers.

1. Character references to characters XML 1.0 forbids: the server writes them, shopapi
   reads them, shopapi writes them the same way, and the server's reader takes them.
2. Newlines in XML text: ``XmlCodec(newline=...)`` reproduces a Windows or a Mono server
   byte for byte; on read XML cannot keep a CR either way, JSON keeps it.
3. A local time in the hour the server's clocks skip: .NET moves it to the same instant
   after the skip; shopapi keeps the text it read (documented, not matched).
4. Offsets do not survive the server: a date comes back as the same instant in the
   server's local time, and at the very ends of .NET's range it is clamped.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import DotnetServer, SerializerTool
from shopapi import (
    JsonCodec,
    MessageConversation,
    MessageConversationBasicInfo,
    MessageConversationChanges,
    PlatformKindEnum,
    RetryPolicy,
    ShopApiClient,
    Timestamp,
    XmlCodec,
)
from shopapi.codecs import Codec
from tests.conformance.conftest import PASSWORD, USERNAME
from tests.conformance.neutral import in_dst_gap, ticks_of, utc_ticks

pytestmark = pytest.mark.conformance

NO_RETRY = RetryPolicy(max_attempts=1)
SEED_TYPES = {"request": MessageConversationChanges, "response": MessageConversation}


def client(server: DotnetServer, codec: Codec) -> ShopApiClient:
    return ShopApiClient(server.base_url, auth=(USERNAME, PASSWORD), codec=codec, retry=NO_RETRY)


def changes(shop_id: int, conversation_id: int, **values: Any) -> MessageConversationChanges:
    values.setdefault("creation_date", Timestamp.parse("2026-01-11T16:13:16.7386644+01:00"))
    return MessageConversationChanges(
        id=conversation_id,
        shop_id=shop_id,
        platform_kind_enum_value=PlatformKindEnum.FlowAi,
        **values,
    )


async def raw_list(server: DotnetServer, shop_id: int, media_type: str) -> bytes:
    """The list page's body exactly as the server sent it."""
    import aiohttp

    from shopapi._protocol.requests import basic_auth_header

    headers = {"Accept": media_type, "Authorization": basic_auth_header(USERNAME, PASSWORD)}
    url = f"{server.base_url}/v1/Shops/{shop_id}/MessageConversations"
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        assert r.status == 200
        return await r.read()


# -- the help page ----------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["request", "response"])
def test_real_serializers_reproduce_the_help_page(
    tool: SerializerTool, seed_samples: dict[str, str], sample: str
) -> None:
    """Json.NET and XmlSerializer, indented, write the help page's samples exactly (a
    sanity check of the tool's settings and of the generated models)."""
    cls = SEED_TYPES[sample]
    json_text, xml_text = seed_samples[f"{sample}_json"], seed_samples[f"{sample}_xml"]
    for fmt, text in (("json", json_text), ("xml", xml_text)):
        (out,) = tool.convert(cls.__name__, fmt, [text.encode()], newline="\n", indent=True)  # type: ignore[arg-type]
        assert out["json"].decode() == json_text
        assert out["xml"].decode() == xml_text


# -- finding 1 --------------------------------------------------------------------------------


CONTROLS = "a\x00b\x01c\x08d\x0be\x0cf\x1bg\x1fh\ufffei\uffffj"


async def test_server_sends_control_characters_that_shopapi_reads(
    server: DotnetServer,
) -> None:
    """A string with control characters, saved over JSON, arrives in XML as character
    references (CheckCharacters = false), and the XML client reads the string intact."""
    shop = 3001
    async with client(server, JsonCodec()) as c:
        await c.message_conversations.update(shop, 1, changes(shop, 1, channel_id=CONTROLS))
    body = await raw_list(server, shop, "application/xml")
    assert b"a&#x0;b&#x1;c&#x8;d&#xB;e&#xC;f&#x1B;g&#x1F;h&#xFFFE;i&#xFFFF;j" in body
    async with client(server, XmlCodec()) as c:
        (listed,) = await c.message_conversations.list_page(shop)
    assert listed.channel_id == CONTROLS


async def test_shopapi_writes_control_characters_that_the_server_reads(
    server: DotnetServer, tool: SerializerTool
) -> None:
    """shopapi writes them as XmlWriter does, and the formatter's reader takes them: the
    server stores the string (read back over JSON), and the tool's reader agrees."""
    shop = 3002
    sent = changes(shop, 1, channel_id=CONTROLS, customer_name="\x02")
    body = XmlCodec().encode(sent)
    assert b"<ChannelId>a&#x0;b&#x1;" in body
    (read,) = tool.read("MessageConversationChanges", "xml", [body])
    assert read["value"]["CustomerName"] == "Ag=="  # base64 of "\x02"
    async with client(server, XmlCodec()) as c:
        saved = await c.message_conversations.update(shop, 1, sent)
    async with client(server, JsonCodec()) as c:
        (listed,) = await c.message_conversations.list_page(shop)
    assert (saved.channel_id, listed.channel_id, listed.customer_name) == (
        CONTROLS,
        CONTROLS,
        "\x02",
    )


# -- finding 2 --------------------------------------------------------------------------------

LINES = "a\r\nb\rc\nd\r\r\n"


@pytest.mark.parametrize(
    ("which", "newline"), [("server", "\n"), ("windows_server", "\r\n")], ids=["mono", "windows"]
)
async def test_newline_option_reproduces_the_server(
    request: pytest.FixtureRequest, which: str, newline: str
) -> None:
    """``XmlCodec(newline=...)`` writes the server's XML byte for byte: ``"\\n"`` for Mono,
    ``"\\r\\n"`` for Windows. The default keeps every character instead."""
    server: DotnetServer = request.getfixturevalue(which)
    shop = 3003
    async with client(server, JsonCodec()) as c:
        await c.message_conversations.update(shop, 1, changes(shop, 1, channel_id=LINES))
    body = await raw_list(server, shop, "application/xml")
    written = f"a{newline}b{newline}c{newline}d{newline}{newline}"
    assert f"<ChannelId>{written}</ChannelId>".encode() in body
    codec = XmlCodec(newline=newline)
    page = codec.decode(body, list[MessageConversationBasicInfo])
    assert codec.encode(page) == body
    # The default writes a text read from XML (no CR left in it) as Mono does, not as
    # Windows does.
    assert (XmlCodec().encode(page) == body) is (newline == "\n")


async def test_xml_cannot_bring_a_cr_back_json_can(server: DotnetServer) -> None:
    """Sent as ``&#xD;`` (the default), a CR reaches the server; in an XML answer it is the
    server's newline, which every reader makes LF. JSON keeps it both ways."""
    shop = 3004
    async with client(server, XmlCodec()) as c:
        saved = await c.message_conversations.update(shop, 1, changes(shop, 1, channel_id=LINES))
    assert saved.channel_id == "a\nb\nc\nd\n\n"
    async with client(server, JsonCodec()) as c:
        (listed,) = await c.message_conversations.list_page(shop)
    assert listed.channel_id == LINES


# -- finding 3 --------------------------------------------------------------------------------

GAP_TEXT = "2005-03-27T02:48:13.0442+01:00"  # 02:48 local does not exist that night
AFTER_GAP = "2005-03-27T03:48:13.0442+02:00"  # the same instant, as .NET says it


def test_dotnet_writes_a_skipped_local_time_with_the_offset_before_the_skip(
    tool: SerializerTool,
) -> None:
    """A ``DateTimeKind.Local`` value at 02:48 on the night the clocks skip 02:00-03:00 is
    written with the winter offset; shopapi reads that text and writes it back unchanged."""
    from datetime import datetime

    ticks = ticks_of(datetime(2005, 3, 27, 2, 48, 13, 44200))
    assert in_dst_gap(ticks)
    value = {"Id": 1, "ShopId": 1, "PlatformKindEnumValue": 0}
    value["CreationDate"] = {"ticks": ticks, "kind": "Local"}  # type: ignore[assignment]
    (written,) = tool.write("MessageConversationBasicInfo", [value])
    assert f'"CreationDate":"{GAP_TEXT}"'.encode() in written["json"]
    decoded = JsonCodec().decode(written["json"], MessageConversationBasicInfo)
    assert JsonCodec().encode(decoded) == written["json"]


@pytest.mark.parametrize("codec", [JsonCodec(), XmlCodec()], ids=["json", "xml"])
async def test_the_server_normalises_a_skipped_local_time(
    server: DotnetServer, tool: SerializerTool, codec: Codec
) -> None:
    """Read back by .NET, that text is the same instant after the skip: the server answers
    ``03:48+02:00``. Equal as instants, different as text: compare dates as instants."""
    body = JsonCodec().encode(changes(1, 1, creation_date=Timestamp.parse(GAP_TEXT)))
    (converted,) = tool.convert("MessageConversationChanges", "json", [body])
    assert f'"CreationDate":"{AFTER_GAP}"'.encode() in converted["json"]
    shop = 3005
    sent = changes(shop, 1, creation_date=Timestamp.parse(GAP_TEXT))
    async with client(server, codec) as c:
        saved = await c.message_conversations.update(shop, 1, sent)
    assert saved.creation_date is not None
    assert str(saved.creation_date) == AFTER_GAP
    assert saved.creation_date == sent.creation_date


# -- finding 4 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ("2026-07-01T12:00:00+05:30", "2026-07-01T08:30:00+02:00"),
        ("2026-01-11T12:00:00.1234567-08:00", "2026-01-11T21:00:00.1234567+01:00"),
        ("2026-01-11T12:00:00+00:00", "2026-01-11T13:00:00+01:00"),
        ("2026-01-11T12:00:00Z", "2026-01-11T12:00:00Z"),  # UTC stays UTC
        ("2026-01-11T12:00:00", "2026-01-11T12:00:00"),  # no offset: untouched
    ],
)
@pytest.mark.parametrize("codec", [JsonCodec(), XmlCodec()], ids=["json", "xml"])
async def test_offsets_come_back_in_the_servers_local_time(
    server: DotnetServer, codec: Codec, sent: str, answered: str
) -> None:
    """An offset date is stored as a local ``DateTime``: the answer is the same instant at
    the server's offset. ``Z`` and unspecified dates keep their text."""
    shop = 3006
    value = changes(shop, 1, last_activity_date=Timestamp.parse(sent))
    async with client(server, codec) as c:
        saved = await c.message_conversations.update(shop, 1, value)
    assert str(saved.last_activity_date) == answered
    if value.last_activity_date is not None and value.last_activity_date.tzinfo is not None:
        assert saved.last_activity_date == value.last_activity_date  # the same instant


@pytest.mark.parametrize(
    ("sent", "read_as"),
    [
        ("0001-01-01T00:00:00+05:30", "0001-01-01T00:00:00+00:20"),
        ("9999-12-31T23:59:59.9999999-05:00", "9999-12-31T23:59:59.9999999+01:00"),
    ],
)
def test_dotnet_clamps_an_offset_date_at_the_ends_of_its_range(
    tool: SerializerTool, sent: str, read_as: str
) -> None:
    """Where the local time of an instant falls outside 0001-9999, .NET clamps it to
    ``MinValue``/``MaxValue``: the instant changes. Only dates within 14 hours of the ends
    are affected."""
    body = JsonCodec().encode(changes(1, 1, last_activity_date=Timestamp.parse(sent)))
    (converted,) = tool.convert("MessageConversationChanges", "json", [body])
    assert f'"LastActivityDate":"{read_as}"'.encode() in converted["json"]
    as_sent, as_read = Timestamp.parse(sent), Timestamp.parse(read_as)
    assert utc_ticks(as_sent) != utc_ticks(as_read)
