"""A raw socket server on 127.0.0.1 sends every kind of broken or hostile answer.

Two promises are checked against it. Nothing reachable from a raised exception shows the
password or the Basic token: the chain (``__cause__``, ``__context__``), every attribute's
``repr``, and a traceback formatted with ``capture_locals=True``. And nothing unbounded
is read: a decompression bomb is refused while memory stays within about twice
``max_response_size``, on success and error answers alike, and an error body is kept
only up to 64 KiB.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import time
import traceback
import tracemalloc
import warnings
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from shopapi import (
    JsonCodec,
    MessageConversation,
    MessageConversationChanges,
    PlatformKindEnum,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    ShopApiClient,
    ShopApiError,
    TransportError,
)
from shopapi._session.transport import ERROR_BODY_LIMIT
from shopapi.testing import _sample_conversation

USER, PASSWORD = "bot-user", "s3cr3t-Passw0rd!"
TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, TOKEN, f"Basic {TOKEN}")
FAST = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.01)

Answer = Callable[[int], bytes]  # attempt number (from 1) -> the raw bytes to send


def head(status_line: str, *headers: str) -> bytes:
    return ("\r\n".join((status_line, *headers)) + "\r\n\r\n").encode("latin-1")


class RawServer:
    """Reads each request (headers and a Content-Length body), then writes ``answer``'s
    bytes and closes the connection."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            headers = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in headers.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            self.requests += 1
            writer.write(self.answer(self.requests))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{self.port}"
        finally:
            server.close()
            await server.wait_closed()


def changes(cid: int = 2) -> MessageConversationChanges:
    return MessageConversationChanges(
        id=cid, shop_id=1, platform_kind_enum_value=PlatformKindEnum.FlowAi, note="n"
    )


def conversation_json(cid: int = 2) -> bytes:
    return JsonCodec().encode(_sample_conversation(1, cid))


def gzip_bomb(inflated: int) -> bytes:
    return gzip.compress(b"\0" * inflated, compresslevel=9)


def deflate_bomb(inflated: int) -> bytes:
    return zlib.compress(b"\0" * inflated, 9)


def chunked(data: bytes, size: int = 4096) -> bytes:
    out = b"".join(
        f"{len(data[i : i + size]):x}\r\n".encode() + data[i : i + size] + b"\r\n"
        for i in range(0, len(data), size)
    )
    return out + b"0\r\n\r\n"


# -- credentials ---------------------------------------------------------------------------

BROKEN = {
    "header line over 8190 bytes": head("HTTP/1.1 200 OK", "X-Big: " + "a" * 9000),
    "bad status line": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    "not HTTP at all": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "duplicate Content-Length": head("HTTP/1.1 200 OK", "Content-Length: 2", "Content-Length: 3")
    + b"{}",
    "bad chunk size": head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + b"zz\r\n{}\r\n",
    "Content-Encoding: br without a decoder": head(
        "HTTP/1.1 200 OK", "Content-Encoding: br", "Content-Length: 4"
    )
    + b"\x0b\x01\x80\x03",
    "Content-Encoding: zstd without a decoder": head(
        "HTTP/1.1 200 OK", "Content-Encoding: zstd", "Content-Length: 4"
    )
    + b"abcd",
    "gzip that is not gzip": head("HTTP/1.1 200 OK", "Content-Encoding: gzip", "Content-Length: 8")
    + b"notgzip!",
    "a header with no colon": head("HTTP/1.1 200 OK", "this is not a header", "Content-Length: 0"),
    "a NUL in a header": head("HTTP/1.1 200 OK", "X-A: b\0c", "Content-Length: 0"),
    "Content-Length that lies": head("HTTP/1.1 200 OK", "Content-Length: 100") + b'{"Id"',
    "closed with no answer": b"",
    "a 401 (an ApiError, not a transport error)": head(
        "HTTP/1.1 401 Unauthorized", "Content-Type: application/json", "Content-Length: 2"
    )
    + b"{}",
    "a chunked body cut short": head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked")
    + b"10\r\nabc",
    "a 200 gzip bomb": head(
        "HTTP/1.1 200 OK",
        "Content-Type: application/json",
        "Content-Encoding: gzip",
        f"Content-Length: {len(gzip_bomb(4 << 20))}",
    )
    + gzip_bomb(4 << 20),
}


def reachable_texts(exc: BaseException) -> list[str]:
    """The text of everything reachable from ``exc``: each chained exception's str and
    repr, the repr of each of its attributes, and the tracebacks, with locals."""
    texts: list[str] = []
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts.append(repr(getattr(current, "__dict__", {})))
        for name in dir(current):
            if name.startswith("__") and name != "__notes__":
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # aiohttp's .code
                    value = getattr(current, name)
            except Exception as error:  # noqa: BLE001 - a property may raise: record it
                value = error
            if not callable(value):
                texts.append(f"{name}={value!r}")
        tb = current.__traceback__
        while tb is not None:
            texts.append(repr(tb.tb_frame.f_locals))
            tb = tb.tb_next
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    texts.append("".join(traceback.format_exception(exc)))
    with_locals = traceback.TracebackException.from_exception(exc, capture_locals=True)
    texts.append("".join(with_locals.format()))
    return texts


def assert_no_secret(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked in: {text[:300]}"


@pytest.mark.parametrize("answer", list(BROKEN.values()), ids=list(BROKEN))
async def test_nothing_reachable_from_the_error_shows_the_credentials(answer: bytes) -> None:
    server = RawServer(lambda _: answer)
    async with (
        server.running() as base_url,
        ShopApiClient(
            base_url, auth=(USER, PASSWORD), retry=FAST, timeout=5.0, max_response_size=1 << 20
        ) as client,
    ):
        with pytest.raises(ShopApiError) as info:
            await client.message_conversations.update(1, 2, changes())
        assert_no_secret(reachable_texts(info.value))
        assert_no_secret([repr(vars(client)), repr(client)])
    assert server.requests >= 1


async def test_the_leak_check_sees_a_leak() -> None:
    """The walk above reaches ``request_info`` headers and frame locals: a planted token
    is found there, so the test cannot pass by looking nowhere."""

    class Planted(Exception):
        pass

    def fail(headers: dict[str, str]) -> None:
        raise Planted("boom")

    try:
        try:
            fail({"Authorization": f"Basic {TOKEN}"})
        except Planted as inner:
            raise TransportError("outer", method="PUT", url="http://127.0.0.1/") from inner
    except TransportError as exc:
        with pytest.raises(AssertionError, match="leaked"):
            assert_no_secret(reachable_texts(exc))


async def test_aiohttp_errors_are_still_chained_with_their_kind() -> None:
    """Scrubbing keeps the chain: the cause is aiohttp's error, its type and message."""
    server = RawServer(lambda _: BROKEN["bad status line"])
    async with (
        server.running() as base_url,
        ShopApiClient(base_url, auth=(USER, PASSWORD), retry=FAST) as client,
    ):
        with pytest.raises(TransportError) as info:
            await client.message_conversations.update(1, 2, changes())
    cause = info.value.__cause__
    assert cause is not None
    assert type(cause).__module__.startswith("aiohttp")
    request_info = getattr(cause, "request_info", None)
    if request_info is not None:
        assert request_info.headers["Authorization"] == "<redacted>"
        assert request_info.method == "PUT"


# -- decompression bombs and error-body limits ---------------------------------------------


def bomb_answer(status: str, encoding: str, inflated: int, *, sized: bool = True) -> bytes:
    body = gzip_bomb(inflated) if encoding == "gzip" else deflate_bomb(inflated)
    framing = f"Content-Length: {len(body)}" if sized else "Transfer-Encoding: chunked"
    return head(
        status, "Content-Type: application/json", f"Content-Encoding: {encoding}", framing
    ) + (body if sized else chunked(body))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("sized", [True, False], ids=["Content-Length", "chunked"])
async def test_a_decompression_bomb_is_refused_within_twice_the_cap(
    encoding: str, sized: bool
) -> None:
    cap = 1 << 20
    answer = bomb_answer("HTTP/1.1 200 OK", encoding, 256 << 20, sized=sized)  # 256 MiB
    server = RawServer(lambda _: answer)
    async with (
        server.running() as base_url,
        ShopApiClient(base_url, auth=(USER, PASSWORD), retry=FAST, max_response_size=cap) as client,
    ):
        tracemalloc.start()
        try:
            started = time.perf_counter()
            with pytest.raises(ResponseTooLargeError, match="decoded response exceeds"):
                await client.message_conversations.update(1, 2, changes())
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 2.5 * cap, f"peak {peak / cap:.2f}x the cap"
    assert elapsed < 5.0
    assert server.requests == 1  # too large is not retried


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_an_error_answer_carrying_a_bomb_keeps_64_kib_on_every_attempt(
    encoding: str,
) -> None:
    answer = bomb_answer("HTTP/1.1 503 Service Unavailable", encoding, 256 << 20)
    server = RawServer(lambda _: answer)
    policy = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.01)
    async with (
        server.running() as base_url,
        ShopApiClient(base_url, auth=(USER, PASSWORD), retry=policy) as client,
    ):
        started = time.perf_counter()
        with pytest.raises(ServerError) as info:
            await client.message_conversations.update(1, 2, changes())
        elapsed = time.perf_counter() - started
    error = info.value
    assert error.status == 503
    assert error.attempts == server.requests == 4
    assert len(error.body) == ERROR_BODY_LIMIT == 64 * 1024
    assert any("cut at 65536 bytes" in note for note in getattr(error, "__notes__", []))
    assert elapsed < 5.0


async def test_a_large_plain_error_body_is_cut_not_a_transport_error() -> None:
    """An unencoded 503 of 1 MiB is still a 503 (retried, then a ServerError), with the
    first 64 KiB of its body; only success bodies are held to max_response_size."""
    body = b"x" * (1 << 20)
    answer = head("HTTP/1.1 503 Service Unavailable", f"Content-Length: {len(body)}") + body
    server = RawServer(lambda _: answer)
    async with (
        server.running() as base_url,
        ShopApiClient(
            base_url, auth=(USER, PASSWORD), retry=FAST, max_response_size=1 << 19
        ) as client,
    ):
        with pytest.raises(ServerError) as info:
            await client.message_conversations.update(1, 2, changes())
    assert info.value.body == body[:ERROR_BODY_LIMIT]
    assert server.requests == 2


async def test_a_small_error_body_is_kept_whole() -> None:
    body = b'{"Message":"busy"}'
    answer = head(
        "HTTP/1.1 503 Service Unavailable",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    )
    server = RawServer(lambda _: answer + body)
    async with (
        server.running() as base_url,
        ShopApiClient(base_url, auth=(USER, PASSWORD), retry=FAST) as client,
    ):
        with pytest.raises(ServerError) as info:
            await client.message_conversations.update(1, 2, changes())
    assert info.value.body == body
    assert info.value.message == "busy"
    assert not getattr(info.value, "__notes__", [])


@pytest.mark.parametrize("sized", [True, False], ids=["Content-Length", "chunked"])
async def test_a_compressed_answer_within_the_cap_is_read(sized: bool) -> None:
    packed = gzip.compress(conversation_json())
    framing = f"Content-Length: {len(packed)}" if sized else "Transfer-Encoding: chunked"
    answer = head(
        "HTTP/1.1 200 OK", "Content-Type: application/json", "Content-Encoding: gzip", framing
    ) + (packed if sized else chunked(packed, 50))
    server = RawServer(lambda _: answer)
    async with (
        server.running() as base_url,
        ShopApiClient(base_url, auth=(USER, PASSWORD), retry=FAST) as client,
    ):
        saved = await client.message_conversations.update(1, 2, changes())
    assert isinstance(saved, MessageConversation)
    assert saved == _sample_conversation(1, 2)


async def test_the_cap_counts_decoded_bytes_of_a_small_compressed_answer() -> None:
    """A body whose compressed size fits the cap but whose decoded size does not."""
    inflated = conversation_json()
    packed = gzip.compress(inflated)
    answer = head(
        "HTTP/1.1 200 OK",
        "Content-Type: application/json",
        "Content-Encoding: gzip",
        f"Content-Length: {len(packed)}",
    )
    server = RawServer(lambda _: answer + packed)
    async with (
        server.running() as base_url,
        ShopApiClient(
            base_url, auth=(USER, PASSWORD), retry=FAST, max_response_size=len(packed) + 10
        ) as client,
    ):
        assert len(packed) + 10 < len(inflated)
        with pytest.raises(ResponseTooLargeError):
            await client.message_conversations.update(1, 2, changes())
