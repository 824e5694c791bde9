"""Security: TLS verification by default, a response size cap for chunked bodies,
credentials in no log record or exception anywhere, and no header injection."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import shutil
import ssl
import subprocess
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web

from shopapi import (
    ConfigurationError,
    MessageConversationChanges,
    PlatformKindEnum,
    ResponseTooLargeError,
    RetryPolicy,
    ShopApiClient,
    ShopApiError,
    TransportError,
    ValidationError,
    XmlCodec,
)
from shopapi._protocol.requests import build_request, render_path
from shopapi._resources.message_conversations import RESOURCE
from shopapi.codecs import JsonCodec
from shopapi.testing import FakeShopServer, Fault

USER, PASSWORD = "sec-user", "Sëcret:pässw0rd!"
TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.005, max_backoff=0.01)


def item(cid: int = 1, **kw: object) -> MessageConversationChanges:
    values: dict[str, object] = {
        "id": cid,
        "shop_id": 1,
        "platform_kind_enum_value": PlatformKindEnum.FlowAi,
    }
    values.update(kw)
    return MessageConversationChanges(**values)  # type: ignore[arg-type]


async def serve(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
    return runner


def port_of(runner: web.AppRunner) -> int:
    return int(runner.addresses[0][1])


# -- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1 (openssl CLI)."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "the openssl command line is needed to make a test certificate"
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
async def https_base(self_signed: ssl.SSLContext) -> AsyncIterator[str]:
    """An HTTPS server on 127.0.0.1 answering every PUT with the conversation sent."""

    async def put(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_put("/{tail:.*}", put)
    runner = await serve(app, self_signed)
    try:
        yield f"https://127.0.0.1:{port_of(runner)}"
    finally:
        await runner.cleanup()


async def test_the_default_passes_ssl_true_to_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    real = aiohttp.ClientSession._request

    async def spy(self: aiohttp.ClientSession, *args: object, **kw: object) -> object:
        seen.append(kw.get("ssl", "missing"))
        return await real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(aiohttp.ClientSession, "_request", spy)
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(1)
        async with ShopApiClient(server.base_url, auth=(USER, PASSWORD)) as client:
            await client.message_conversations.update(1, 1, item())
    assert seen == [True]
    with pytest.raises(ConfigurationError):
        ShopApiClient("https://x.example", ssl=None)


async def test_a_self_signed_server_is_refused_by_default(https_base: str) -> None:
    async with ShopApiClient(https_base, auth=(USER, PASSWORD), retry=FAST) as client:
        with pytest.raises(TransportError) as info:
            await client.message_conversations.update(1, 1, item())
    assert "TLS" in str(info.value) or "certificate" in str(info.value).lower()
    assert info.value.attempts == 1  # a certificate does not get better with retries
    assert PASSWORD not in str(info.value)
    assert TOKEN not in repr(info.value.__cause__)


async def test_a_self_signed_server_is_accepted_only_with_ssl_false(https_base: str) -> None:
    async with ShopApiClient(https_base, auth=(USER, PASSWORD), ssl=False) as client:
        saved = await client.message_conversations.update(1, 1, item(note="tls"))
    assert saved.note == "tls"


# -- response size cap --------------------------------------------------------------------


async def test_a_chunked_body_without_content_length_is_capped() -> None:
    """A chunked answer streaming forever is cut at the cap, quickly, with a clear error."""
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            for _ in range(16 * 1024):  # up to 1 GiB
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionError, RuntimeError):
            pass
        return response

    app = web.Application()
    app.router.add_put("/{tail:.*}", endless)
    runner = await serve(app)
    try:
        base = f"http://127.0.0.1:{port_of(runner)}"
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with ShopApiClient(base, max_response_size=200_000, retry=FAST) as client:
                with pytest.raises(ResponseTooLargeError, match="200000") as info:
                    await client.message_conversations.update(1, 1, item())
            gc.collect()
        assert time.perf_counter() - start < 2
        assert info.value.attempts == 1
        assert not [w for w in caught if "Unclosed" in str(w.message)]
        await asyncio.sleep(0.1)
        assert sent < 64 * 1024 * 1024  # the client hung up; it did not read it all
    finally:
        await runner.cleanup()


async def test_a_content_length_body_over_the_cap_is_refused_unread() -> None:
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(1)
        server.inject(Fault.malformed(b" " * 300_000), conversation_id=1)
        async with ShopApiClient(
            server.base_url, auth=(USER, PASSWORD), max_response_size=1000, retry=FAST
        ) as client:
            with pytest.raises(ResponseTooLargeError, match="300000 bytes"):
                await client.message_conversations.update(1, 1, item())
        assert server.put_count(1) == 1


# -- credentials --------------------------------------------------------------------------


class Everything(logging.Handler):
    """Keeps every record of every logger, at every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def texts_of(error: BaseException) -> Iterator[str]:
    """str, repr and formatted traceback of an error and its whole cause/context chain."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield str(e)
        yield repr(e)
        yield "".join(traceback.format_exception(e))
        yield repr(vars(e)) if hasattr(e, "__dict__") else ""
        stack += [e.__cause__, e.__context__]


async def test_credentials_appear_in_no_record_and_no_exception() -> None:
    handler = Everything()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("aiohttp", "aiohttp.client", "aiohttp.server", "aiohttp.access", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    errors: list[BaseException] = []
    reprs: list[str] = []

    async def attempt(coro: object) -> None:
        try:
            await coro  # type: ignore[misc]
        except ShopApiError as exc:
            errors.append(exc)

    try:
        async with FakeShopServer(username=USER, password=PASSWORD) as server:
            server.seed(20)
            server.inject(*[Fault.status(503)] * 3, conversation_id=2)
            server.inject(*[Fault.drop()] * 6, conversation_id=3)
            server.inject(*[Fault.delay(1.0)] * 3, conversation_id=4)
            server.inject(Fault.truncated(), Fault.truncated(), Fault.truncated(),
                          conversation_id=5)  # fmt: skip
            server.inject(Fault.malformed(), conversation_id=6)
            server.inject(Fault.status(400), conversation_id=7)
            for cid in range(10, 16):
                server.inject(Fault.status(503), Fault.drop(), conversation_id=cid)
            for codec in (JsonCodec(), XmlCodec()):
                async with ShopApiClient(
                    server.base_url, auth=(USER, PASSWORD), codec=codec, retry=FAST, timeout=0.1
                ) as client:
                    reprs.append(repr(client))
                    updates = client.message_conversations
                    for cid in (2, 3, 4, 5, 6, 7):
                        await attempt(updates.update(1, cid, item(cid)))
                    await attempt(updates.update(1, 8, item(8, customer_email="e" * 99)))
                    await attempt(updates.update(1, 9, item(10)))
                    async for result in updates.update_many(
                        [item(c) for c in range(10, 16)] + [item(16, host_name="h" * 60)],
                        concurrency=4,
                    ):
                        reprs.append(repr(result))
                        if result.error is not None:
                            errors.append(result.error)
            async with ShopApiClient(
                server.base_url, auth=(USER, "wrong-" + PASSWORD), retry=FAST
            ) as client:
                await attempt(client.message_conversations.update(1, 1, item()))
            reprs.append(repr(server))
            reprs += [repr(r) for r in server.requests]
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
    assert len(errors) >= 10
    assert {type(e).__name__ for e in errors} >= {
        "ServerError", "ConnectError", "RequestTimeoutError", "DecodeError",
        "BadRequestError", "ValidationError", "AuthenticationError",
    }  # fmt: skip
    assert handler.records
    haystack = list(reprs)
    for record in handler.records:
        haystack.append(record.getMessage())
        haystack.append(repr(record.args))
        haystack.append(str(record.msg))
        if record.exc_info and record.exc_info[1] is not None:
            haystack += texts_of(record.exc_info[1])
        if record.exc_text:
            haystack.append(record.exc_text)
    for error in errors:
        haystack += texts_of(error)
    text = "\n".join(haystack)
    for secret in (PASSWORD, TOKEN, base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in text


# -- header injection and URLs ------------------------------------------------------------

BAD_IDS = ["2\r\nX-Evil: 1", "2", 2.0, True, None, -1, 2**31, b"2"]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
@pytest.mark.parametrize("where", ["shop", "conversation"])
async def test_ids_are_ints_and_nothing_is_sent_otherwise(bad: object, where: str) -> None:
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(2)
        async with ShopApiClient(server.base_url, auth=(USER, PASSWORD)) as client:
            args: tuple[object, object] = (bad, 2) if where == "shop" else (1, bad)
            with pytest.raises(ValidationError):
                # A wrong id on purpose: the ValidationError is the test.
                await client.message_conversations.update(*args, item(2))  # type: ignore[arg-type]
        assert server.requests == []


@pytest.mark.parametrize("codec", [JsonCodec(), XmlCodec()], ids=["json", "xml"])
async def test_strings_in_the_body_never_reach_the_headers(codec: JsonCodec | XmlCodec) -> None:
    evil = "x\r\nX-Evil: 1\r\n\r\nPUT /v1/Shops/1/MessageConversations/2 HTTP/1.1"
    async with FakeShopServer(username=USER, password=PASSWORD) as server:
        server.seed(2)
        async with ShopApiClient(server.base_url, auth=(USER, PASSWORD), codec=codec) as client:
            saved = await client.message_conversations.update(1, 1, item(1, note=evil))
        assert saved.note == evil
        (request,) = server.requests
        assert "X-Evil" not in request.headers
        assert request.path == "/v1/Shops/1/MessageConversations/1"
        assert server.put_count(2) == 0


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://t.shopctrl.com:52222", "https://t.shopctrl.com:52222/v1/Shops/7/MessageConversations/42"),
        ("https://t.shopctrl.com:52222/", "https://t.shopctrl.com:52222/v1/Shops/7/MessageConversations/42"),
        ("https://h/api/", "https://h/api/v1/Shops/7/MessageConversations/42"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/Shops/7/MessageConversations/42"),
    ],
)  # fmt: skip
def test_update_urls(base: str, expected: str) -> None:
    client = ShopApiClient(base)
    update = RESOURCE.endpoint("update")
    request = build_request(
        update, client.base_url, JsonCodec(), path=(7, 42), body=item(42, shop_id=7)
    )
    assert request.url == expected
    assert render_path(update, (7, 42)) == "v1/Shops/7/MessageConversations/42"


@pytest.mark.parametrize(
    "base",
    [
        "https://u:p@h",
        "https://h/?q=1",
        "https://h/#f",
        "https://h/a\r\nX-Evil: 1",
        "https://h/a b",
        "ftp://h",
        "https://",
    ],
)
def test_base_urls_that_could_smuggle_anything_are_refused(base: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        ShopApiClient(base)
    assert "p@" not in str(info.value)


@pytest.mark.parametrize(
    "headers", [{"X-A": "1\r\nX-Evil: 1"}, {"X-A\r\nX-Evil": "1"}, {"Authorization": "Basic x"}]
)
def test_extra_headers_cannot_inject(headers: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        ShopApiClient("https://h", headers=headers)
